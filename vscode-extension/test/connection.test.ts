/**
 * The connection (connection.ts):
 * - connect sends the arguments with a progress sink, records the session as started in this window;
 * - the notification's progress shows as increments of the server's percentages, with each step's message;
 * - cancelling resolves to undefined (no error) and re-reads the status; errors re-read it and reject;
 * - disconnect sends the session id; refresh takes the server's status (re-attach after a reload).
 */
import * as assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { Connection, connectWithProgress, progressToIncrements } from '../src/common/connection';
import { ConnectArguments } from '../src/common/contract';
import { clusterServer, session } from './fixtures';
import { fake } from './fakes/vscode';

const ARGS: ConnectArguments = { context: 'dev', namespace: 'shop', service: 'cart', localPorts: [8080], workspaceFolder: '/w' };

describe('Connection', () => {
    beforeEach(() => fake.reset());

    it('connects, marks the session as started here, and disconnects it by id', async () => {
        const server = clusterServer();
        const connection = new Connection(server);
        const states: string[] = [];
        connection.onDidChangeStatus((status) => states.push(status.state));
        const started = await connection.connect(ARGS);
        assert.equal(started?.id, 'session-1');
        assert.ok(connection.startedInThisWindow('session-1'));
        assert.deepEqual(server.callsOf('kubelocal.server.connect'), [ARGS]);

        await connection.disconnect();
        assert.deepEqual(server.callsOf('kubelocal.server.disconnect'), [{ sessionId: 'session-1' }]);
        assert.ok(!connection.startedInThisWindow('session-1'));
        assert.deepEqual(states, ['connecting', 'connected', 'disconnecting', 'disconnected']);
    });

    it('takes the status from the server on refresh (a session re-attached after a reload)', async () => {
        const server = clusterServer().on('kubelocal.server.status', () => ({ state: 'connected', session: session() }));
        const connection = new Connection(server);
        await connection.refresh();
        assert.equal(connection.session?.service, 'cart');
        assert.ok(!connection.startedInThisWindow('session-1'));
    });

    it('re-reads the status and rejects when connecting fails', async () => {
        const server = clusterServer()
            .on('kubelocal.server.connect', () => {
                throw new Error('no pods match service cart: scale its deployment up first');
            })
            .on('kubelocal.server.status', () => ({ state: 'error', message: 'connect failed' }));
        const connection = new Connection(server);
        await assert.rejects(connection.connect(ARGS), /scale its deployment up first/);
        assert.equal(connection.status.state, 'error');
    });
});

describe('connectWithProgress', () => {
    beforeEach(() => fake.reset());

    it("shows a cancellable notification with the server's steps", async () => {
        const server = clusterServer().on('kubelocal.server.connect', (args, options) => {
            options.onProgress?.({ title: 'Connecting cart', percentage: 0 });
            options.onProgress?.({ message: 'Replacing deployment/cart', percentage: 40 });
            options.onProgress?.({ message: 'Forwarding ports', percentage: 90 });
            return session({ service: args.service });
        });
        const result = await connectWithProgress(new Connection(server), ARGS);
        assert.equal(result?.service, 'cart');
        const [shown] = fake.progress;
        assert.equal(shown.options.cancellable, true);
        assert.match(shown.options.title, /cart \(shop\)/);
        assert.deepEqual(shown.reports, [
            { message: 'Connecting cart', increment: undefined },
            { message: 'Replacing deployment/cart', increment: 40 },
            { message: 'Forwarding ports', increment: 50 },
        ]);
    });

    it('resolves to undefined without an error when cancelled', async () => {
        fake.cancelProgressImmediately = true;
        const server = clusterServer().on('kubelocal.server.connect', (_args, options) => {
            assert.ok(options.token?.isCancellationRequested, 'the token reaches the server call');
            throw new Error('Request cancelled');
        });
        const connection = new Connection(server);
        assert.equal(await connectWithProgress(connection, ARGS), undefined);
        assert.equal(connection.status.state, 'disconnected');
        assert.equal(server.callsOf('kubelocal.server.status').length, 1, 'the status is re-read after a cancel');
    });
});

describe('progressToIncrements', () => {
    it('never reports a negative increment when percentages go backwards', () => {
        const reports: { message?: string; increment?: number }[] = [];
        const report = progressToIncrements({ report: (value) => reports.push(value) });
        report({ message: 'a', percentage: 50 });
        report({ message: 'b', percentage: 30 });
        report({ message: 'c' });
        assert.deepEqual(reports, [
            { message: 'a', increment: 50 },
            { message: 'b', increment: undefined },
            { message: 'c', increment: undefined },
        ]);
    });
});
