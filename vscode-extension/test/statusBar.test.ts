/**
 * The status bar (statusBar.ts) and Show Status (commands.describeStatus):
 * - the item's text for each state: "$(plug) Kubelocal: <service>", connecting…, disconnected, error;
 * - the item follows the connection: server notifications and the extension's own connect/disconnect;
 * - the menu offers connect when disconnected and the session's actions when connected, and runs the
 *   chosen command.
 */
import * as assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { describeStatus } from '../src/common/commands';
import { Connection } from '../src/common/connection';
import { SESSION_STATES, Status } from '../src/common/contract';
import { menuItems, presentation, StatusBar } from '../src/common/statusBar';
import { clusterServer, pickLabel, session } from './fixtures';
import { fake } from './fakes/vscode';

describe('presentation', () => {
    it('shows the service when connected', () => {
        const shown = presentation({ state: 'connected', session: session() });
        assert.equal(shown.text, '$(plug) Kubelocal: cart');
        assert.match(shown.tooltip, /cart in shop \(dev\).*8080/);
    });

    it('shows connecting, disconnecting, disconnected and error', () => {
        assert.equal(presentation({ state: 'connecting' }).text, '$(sync~spin) Kubelocal: connecting…');
        assert.equal(presentation({ state: 'disconnecting' }).text, '$(sync~spin) Kubelocal: disconnecting…');
        assert.equal(presentation({ state: 'disconnected' }).text, '$(debug-disconnect) Kubelocal: disconnected');
        const error = presentation({ state: 'error', message: 'The agent pod was evicted.' });
        assert.equal(error.text, '$(error) Kubelocal: error');
        assert.match(error.tooltip, /evicted/);
    });

    it('has a text, a menu and a description for every contract state', () => {
        for (const state of SESSION_STATES) {
            const status: Status = { state, session: session() };
            assert.match(presentation(status).text, /Kubelocal/);
            assert.ok(menuItems(status).length > 0);
            assert.ok(describeStatus(status).length > 0);
        }
    });
});

describe('menuItems', () => {
    it('offers connect when disconnected, the session actions when connected', () => {
        assert.deepEqual(menuItems({ state: 'disconnected' }).map((item) => item.command), [
            'kubelocal.connect',
            'kubelocal.showStatus',
        ]);
        assert.deepEqual(menuItems({ state: 'connected', session: session() }).map((item) => item.command), [
            'kubelocal.openConnectedTerminal',
            'kubelocal.showStatus',
            'kubelocal.disconnect',
        ]);
        assert.ok(!menuItems({ state: 'connecting' }).some((item) => item.command === 'kubelocal.connect'));
    });
});

describe('StatusBar', () => {
    beforeEach(() => fake.reset());

    it('follows the server notifications and the connection', async () => {
        const server = clusterServer();
        const connection = new Connection(server);
        const bar = new StatusBar(connection);
        const item = fake.statusBarItems[0];
        assert.equal(item.visible, true);
        assert.equal(item.command, 'kubelocal.statusBarMenu');
        assert.equal(item.text, '$(debug-disconnect) Kubelocal: disconnected');

        server.notify({ state: 'connecting', message: 'Replacing deployment/cart' });
        assert.equal(item.text, '$(sync~spin) Kubelocal: connecting…');
        assert.equal(item.tooltip, 'Replacing deployment/cart');

        await connection.connect({ context: 'dev', namespace: 'shop', service: 'cart', localPorts: [8080], workspaceFolder: '/w' });
        assert.equal(item.text, '$(plug) Kubelocal: cart');

        await connection.disconnect();
        assert.equal(item.text, '$(debug-disconnect) Kubelocal: disconnected');
        bar.dispose();
        assert.equal(item.visible, false);
    });

    it('runs the command picked in its menu', async () => {
        const connection = new Connection(clusterServer());
        connection.update({ state: 'connected', session: session() });
        const bar = new StatusBar(connection);
        fake.quickPickAnswers.push(pickLabel('$(terminal) Open Connected Terminal'));
        await bar.showMenu();
        assert.deepEqual(fake.executedCommands, [{ command: 'kubelocal.openConnectedTerminal', args: [] }]);

        fake.quickPickAnswers.push(() => undefined);
        await bar.showMenu();
        assert.equal(fake.executedCommands.length, 1, 'Escape runs nothing');
    });
});

describe('describeStatus', () => {
    it('says where the connected service runs and how names resolve', () => {
        const text = describeStatus({ state: 'connected', session: session({ hostsMode: 'hosts' }) });
        assert.match(text, /cart in shop \(context dev\).*deployment\/cart.*8080.*hosts file/);
    });

    it('says what to do when disconnected or failed', () => {
        assert.match(describeStatus({ state: 'disconnected' }), /Connect to Cluster/);
        assert.match(describeStatus({ state: 'error', message: 'agent lost' }), /agent lost.*Disconnect to restore/);
    });
});
