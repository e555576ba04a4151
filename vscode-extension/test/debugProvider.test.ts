/**
 * Debugging with the cluster's environment (debugProvider.ts):
 * - not connected: the configuration is returned unchanged and the server is not asked;
 * - connected: the server's launchConfiguration result is used (env merged, or envFile when the
 *   setting says so), marked with the session id; an already-marked configuration is not re-sent;
 * - a server error stops the launch with a message;
 * - disconnect after debugging honours the setting, only for marked configurations of a session
 *   this window started.
 */
import * as assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type * as vscode from 'vscode';
import { Connection } from '../src/common/connection';
import { DebugConfigurationObject, LaunchConfigurationArguments } from '../src/common/contract';
import { disconnectAfterDebugging, KubelocalDebugConfigurationProvider } from '../src/common/debugProvider';
import { readSettings } from '../src/common/settings';
import { clusterServer, session } from './fixtures';
import { FakeServer } from './fakes/server';
import { fake, workspaceFolder } from './fakes/vscode';

const folder = workspaceFolder('/work/shop') as vscode.WorkspaceFolder;
const BASE = { type: 'debugpy', request: 'launch', name: 'Cart', program: 'app.py', env: { LOG_LEVEL: 'debug' } };
const CLUSTER_ENV = { CART_DB_HOST: '127.1.1.1', REDIS_SERVICE_PORT: '6379' };

/** A server whose launchConfiguration merges the cluster env, or points at the env file, as the contract says. */
function debugServer(): FakeServer {
    return clusterServer().on('kubelocal.server.launchConfiguration', (args: LaunchConfigurationArguments) => {
        const configuration: DebugConfigurationObject = args.useEnvFile
            ? { ...args.base, envFile: '/tmp/kubelocal/session-1.env' }
            : { ...args.base, env: { ...CLUSTER_ENV, ...(args.base.env as Record<string, string>) } };
        return { configuration, listenPort: 8080 };
    });
}

async function connected(server: FakeServer): Promise<Connection> {
    const connection = new Connection(server);
    await connection.connect({
        context: 'dev',
        namespace: 'shop',
        service: 'cart',
        localPorts: [8080],
        workspaceFolder: '/work/shop',
    });
    return connection;
}

function provider(server: FakeServer, connection: Connection): KubelocalDebugConfigurationProvider {
    return new KubelocalDebugConfigurationProvider({ server, connection, settings: () => readSettings() });
}

describe('KubelocalDebugConfigurationProvider', () => {
    beforeEach(() => fake.reset());

    it('leaves the configuration unchanged when not connected', async () => {
        const server = debugServer();
        const result = await provider(server, new Connection(server)).resolveDebugConfigurationWithSubstitutedVariables(folder, { ...BASE });
        assert.deepEqual(result, BASE);
        assert.equal(server.callsOf('kubelocal.server.launchConfiguration').length, 0);
    });

    it('merges the env when kubelocal.useEnvFile is off', async () => {
        fake.configuration.kubelocal = { useEnvFile: false };
        const server = debugServer();
        const result = await provider(server, await connected(server)).resolveDebugConfigurationWithSubstitutedVariables(folder, { ...BASE });
        assert.deepEqual(result, {
            ...BASE,
            env: { CART_DB_HOST: '127.1.1.1', REDIS_SERVICE_PORT: '6379', LOG_LEVEL: 'debug' },
            kubelocalSessionId: 'session-1',
        });
        assert.deepEqual(server.callsOf('kubelocal.server.launchConfiguration'), [
            { workspaceFolder: '/work/shop', base: BASE, useEnvFile: false },
        ]);
    });

    it('asks for the env file by default', async () => {
        const server = debugServer();
        const result = await provider(server, await connected(server)).resolveDebugConfigurationWithSubstitutedVariables(folder, { ...BASE });
        assert.equal(result?.envFile, '/tmp/kubelocal/session-1.env');
        assert.deepEqual(result?.env, BASE.env, 'the launch.json env is left as it was');
        assert.equal((server.callsOf('kubelocal.server.launchConfiguration')[0] as LaunchConfigurationArguments).useEnvFile, true);
    });

    it('does not inject twice into a configuration it already marked (a restart)', async () => {
        const server = debugServer();
        const marked = { ...BASE, kubelocalSessionId: 'session-1' };
        const result = await provider(server, await connected(server)).resolveDebugConfigurationWithSubstitutedVariables(folder, marked);
        assert.equal(result, marked);
        assert.equal(server.callsOf('kubelocal.server.launchConfiguration').length, 0);
    });

    it('stops the launch with the server message when injecting fails', async () => {
        const server = debugServer().on('kubelocal.server.launchConfiguration', () => {
            throw new Error('debug type "cppdbg" takes no env file: set kubelocal.useEnvFile to false');
        });
        const result = await provider(server, await connected(server)).resolveDebugConfigurationWithSubstitutedVariables(folder, { ...BASE });
        assert.equal(result, undefined);
        assert.equal(fake.messages[0].level, 'error');
        assert.match(fake.messages[0].message, /"Cart".*kubelocal.useEnvFile/);
    });
});

describe('disconnectAfterDebugging', () => {
    beforeEach(() => fake.reset());

    const marked = { configuration: { ...BASE, kubelocalSessionId: 'session-1' }, workspaceFolder: folder };
    const settings = () => readSettings();

    it('disconnects the session this window started when the setting is on (default)', async () => {
        const server = debugServer();
        const connection = await connected(server);
        assert.equal(await disconnectAfterDebugging(marked, { connection, settings }), true);
        assert.deepEqual(server.callsOf('kubelocal.server.disconnect'), [{ sessionId: 'session-1' }]);
        assert.equal(connection.status.state, 'disconnected');
    });

    it('keeps the session when the setting is off', async () => {
        fake.configuration.kubelocal = { disconnectAfterDebugging: false };
        const server = debugServer();
        const connection = await connected(server);
        assert.equal(await disconnectAfterDebugging(marked, { connection, settings }), false);
        assert.equal(server.callsOf('kubelocal.server.disconnect').length, 0);
        assert.equal(connection.status.state, 'connected');
    });

    it('keeps the session for a debug session that did not get its environment', async () => {
        const server = debugServer();
        const connection = await connected(server);
        assert.equal(await disconnectAfterDebugging({ configuration: BASE, workspaceFolder: folder }, { connection, settings }), false);
        assert.equal(server.callsOf('kubelocal.server.disconnect').length, 0);
    });

    it('keeps a session this window only re-attached to (e.g. started from the CLI)', async () => {
        const server = debugServer();
        const connection = new Connection(server);
        server.notify({ state: 'connected', session: session() });
        assert.equal(connection.session?.id, 'session-1');
        assert.equal(await disconnectAfterDebugging(marked, { connection, settings }), false);
        assert.equal(server.callsOf('kubelocal.server.disconnect').length, 0);
    });
});
