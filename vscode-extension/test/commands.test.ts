/**
 * The palette commands' own behaviour (commands.ts):
 * - guarded turns any failure into one error message (the server's advice) and a resolved promise;
 * - Disconnect when not connected only says so; when connected it disconnects and confirms;
 * - Show Status asks the server (so a re-attached session shows) and says what it found.
 */
import * as assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { CommandDeps, disconnectCommand, guarded, showStatusCommand } from '../src/common/commands';
import { Connection } from '../src/common/connection';
import { readSettings } from '../src/common/settings';
import { clusterServer, session } from './fixtures';
import { FakeServer } from './fakes/server';
import { fake } from './fakes/vscode';

function deps(server: FakeServer): CommandDeps {
    return { server, connection: new Connection(server), settings: () => readSettings() };
}

describe('commands', () => {
    beforeEach(() => fake.reset());

    it('guarded shows a failure once, with the server message, and does not reject', async () => {
        const command = guarded('Connect to Cluster', async () => {
            throw new Error('The Kubelocal server is not running. See the Kubelocal output for why.');
        });
        await command();
        assert.deepEqual(
            fake.messages.map((message) => [message.level, message.message]),
            [['error', 'Kubelocal: The Kubelocal server is not running. See the Kubelocal output for why.']],
        );
    });

    it('Disconnect when not connected says so without asking the server', async () => {
        const server = clusterServer();
        await disconnectCommand(deps(server));
        assert.equal(server.callsOf('kubelocal.server.disconnect').length, 0);
        assert.match(fake.messages[0].message, /not connected/);
    });

    it('Disconnect when connected disconnects the session and confirms', async () => {
        const server = clusterServer();
        const commandDeps = deps(server);
        commandDeps.connection.update({ state: 'connected', session: session() });
        await disconnectCommand(commandDeps);
        assert.deepEqual(server.callsOf('kubelocal.server.disconnect'), [{ sessionId: 'session-1' }]);
        assert.equal(commandDeps.connection.status.state, 'disconnected');
        assert.match(fake.messages[0].message, /disconnected; the cluster is as it was/);
    });

    it('Show Status reports the session the server has re-attached to', async () => {
        const server = clusterServer().on('kubelocal.server.status', () => ({ state: 'connected', session: session() }));
        const commandDeps = deps(server);
        await showStatusCommand(commandDeps);
        assert.equal(server.callsOf('kubelocal.server.status').length, 1);
        assert.match(fake.messages[0].message, /^Kubelocal: Connected: cart in shop/);
        assert.equal(commandDeps.connection.session?.id, 'session-1');
    });
});
