/**
 * "Connect to Cluster" from start to end (commands.connectFlow and debugSetup.ts), with a fake server:
 * - the wizard's choice is connected with the folder, the hosts mode setting and the config file;
 * - with a launch configuration: a kubelocal.connect task and a "<name> with Kubernetes" copy whose
 *   preLaunchTask is that task are written (re-running replaces them), and debugging is offered;
 * - without one: connect only, and the connected terminal is offered;
 * - cancelling the wizard connects nothing; an existing session is disconnected only when the user agrees.
 * Also Open Connected Terminal (terminal.ts): the session's env from the server; offers to connect otherwise.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CommandDeps, connectFlow } from '../src/common/commands';
import { Connection } from '../src/common/connection';
import { ConnectArguments } from '../src/common/contract';
import { connectTask, kubernetesCopy, upsert } from '../src/common/debugSetup';
import { readSettings } from '../src/common/settings';
import { openConnectedTerminal } from '../src/common/terminal';
import { clusterServer, escape, pickFirst, pickLabel, session } from './fixtures';
import { FakeServer } from './fakes/server';
import { ConfigurationTarget, fake, workspaceFolder } from './fakes/vscode';

const CART_LAUNCH = { type: 'debugpy', request: 'launch', name: 'Cart', program: 'app.py' };

let folderPath: string;

function deps(server: FakeServer): CommandDeps {
    return { server, connection: new Connection(server), settings: () => readSettings() };
}

function scriptWizard(launch: string): void {
    fake.quickPickAnswers.push(pickFirst, pickFirst, pickLabel('cart'));
    fake.inputBoxAnswers.push(() => '8080');
    fake.quickPickAnswers.push(pickLabel(launch));
}

describe('connectFlow', () => {
    beforeEach(() => {
        fake.reset();
        folderPath = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelocal-ext-'));
        fake.workspaceFolders = [workspaceFolder(folderPath)];
        fake.configuration.launch = { configurations: [CART_LAUNCH] };
    });
    afterEach(() => fs.rmSync(folderPath, { recursive: true, force: true }));

    it('connects the choice and writes the task and the "with Kubernetes" copy', async () => {
        fake.configuration.kubelocal = { hostsMode: 'env' };
        fs.writeFileSync(path.join(folderPath, 'KubernetesLocalProcessConfig.yaml'), 'version: 0.1\n');
        fake.configuration.tasks = { version: '2.0.0', tasks: [{ label: 'build', type: 'shell', command: 'make' }] };
        scriptWizard('Cart');
        fake.messageAnswer = (call) => call.actions[0];
        const server = clusterServer();

        await connectFlow(deps(server));

        assert.deepEqual(server.callsOf('kubelocal.server.connect'), [
            {
                context: 'dev',
                namespace: 'shop',
                service: 'cart',
                localPorts: [8080],
                workspaceFolder: folderPath,
                hostsMode: 'env',
                configFile: path.join(folderPath, 'KubernetesLocalProcessConfig.yaml'),
            },
        ]);
        const label = 'kubelocal: connect cart (shop)';
        assert.deepEqual(fake.configuration.tasks.tasks, [
            { label: 'build', type: 'shell', command: 'make' },
            { label, type: 'kubelocal.connect', service: 'cart', namespace: 'shop', context: 'dev', localPorts: [8080] },
        ]);
        assert.deepEqual(fake.configuration.launch.configurations, [
            CART_LAUNCH,
            { ...CART_LAUNCH, name: 'Cart with Kubernetes', preLaunchTask: label },
        ]);
        assert.ok(fake.updates.every((update) => update.target === ConfigurationTarget.WorkspaceFolder));
        assert.deepEqual(fake.startedDebugging.map((started) => started.name), ['Cart with Kubernetes']);
    });

    it('replaces its task and copy when run again, and writes tasks.json version when missing', async () => {
        const server = clusterServer();
        scriptWizard('Cart');
        await connectFlow(deps(server));
        scriptWizard('Cart');
        await connectFlow(deps(server));
        assert.equal(fake.configuration.tasks.version, '2.0.0');
        assert.equal((fake.configuration.tasks.tasks as unknown[]).length, 1);
        assert.deepEqual(
            (fake.configuration.launch.configurations as { name: string }[]).map((configuration) => configuration.name),
            ['Cart', 'Cart with Kubernetes'],
        );
        assert.equal(fake.startedDebugging.length, 0, 'debugging starts only when asked');
    });

    it('connects only when "None" is picked, and offers the connected terminal', async () => {
        scriptWizard('None');
        fake.messageAnswer = (call) => call.actions[0];
        const server = clusterServer();
        await connectFlow(deps(server));
        assert.equal(server.callsOf('kubelocal.server.connect').length, 1);
        assert.equal(fake.updates.length, 0, 'nothing written to tasks.json or launch.json');
        assert.equal((server.callsOf('kubelocal.server.connect')[0] as ConnectArguments).configFile, undefined);
        assert.deepEqual(fake.executedCommands.map((call) => call.command), ['kubelocal.openConnectedTerminal']);
    });

    it('connects nothing when the wizard is cancelled', async () => {
        fake.quickPickAnswers.push(escape);
        const server = clusterServer();
        await connectFlow(deps(server));
        assert.equal(server.callsOf('kubelocal.server.connect').length, 0);
        assert.equal(fake.progress.length, 0);
    });

    it('disconnects an existing session only when the user agrees', async () => {
        const server = clusterServer();
        const refused = deps(server);
        refused.connection.update({ state: 'connected', session: session() });
        await connectFlow(refused);
        assert.equal(fake.messages[0].level, 'warning');
        assert.equal(server.callsOf('kubelocal.server.disconnect').length, 0);
        assert.equal(fake.quickPicks.length, 0);

        fake.messageAnswer = (call) => (call.level === 'warning' ? 'Disconnect' : undefined);
        const agreed = deps(server);
        agreed.connection.update({ state: 'connected', session: session() });
        scriptWizard('None');
        await connectFlow(agreed);
        assert.deepEqual(server.callsOf('kubelocal.server.disconnect'), [{ sessionId: 'session-1' }]);
        assert.equal(server.callsOf('kubelocal.server.connect').length, 1);
    });
});

describe('debug set-up builders', () => {
    it('copies the configuration under a new name with the task first', () => {
        const target = { context: 'dev', namespace: 'shop', service: 'cart', localPorts: [8080] };
        const task = connectTask(target);
        assert.deepEqual(kubernetesCopy({ ...CART_LAUNCH, preLaunchTask: 'build' }, task.label), {
            ...CART_LAUNCH,
            name: 'Cart with Kubernetes',
            preLaunchTask: 'kubelocal: connect cart (shop)',
        });
    });

    it('upsert replaces by key and keeps entries it cannot read', () => {
        const list = ['junk', { name: 'a', v: 1 }, { name: 'b' }];
        assert.deepEqual(upsert(list, { name: 'a', v: 2 }, 'name'), ['junk', { name: 'a', v: 2 }, { name: 'b' }]);
        assert.deepEqual(upsert(list, { name: 'c' }, 'name'), [...list, { name: 'c' }]);
    });
});

describe('openConnectedTerminal', () => {
    beforeEach(() => {
        fake.reset();
        fake.workspaceFolders = [workspaceFolder('/work/shop')];
    });

    it("opens a terminal with the session's environment", async () => {
        const server = clusterServer().on('kubelocal.server.env', () => ({
            env: { CART_DB_HOST: '127.1.1.1' },
            envFile: '/tmp/kubelocal/session-1.env',
        }));
        const connection = new Connection(server);
        connection.update({ state: 'connected', session: session() });
        await openConnectedTerminal(server, connection);
        assert.deepEqual(server.callsOf('kubelocal.server.env'), [{ sessionId: 'session-1' }]);
        const [terminal] = fake.terminals;
        assert.equal(terminal.options.name, 'Kubelocal: cart');
        assert.deepEqual(terminal.options.env, { CART_DB_HOST: '127.1.1.1' });
        assert.equal(terminal.options.cwd.fsPath, '/work/shop');
        assert.ok(terminal.shown);
    });

    it('offers to connect when not connected', async () => {
        fake.messageAnswer = (call) => call.actions[0];
        const server = clusterServer();
        assert.equal(await openConnectedTerminal(server, new Connection(server)), undefined);
        assert.equal(fake.terminals.length, 0);
        assert.deepEqual(fake.executedCommands.map((call) => call.command), ['kubelocal.connect']);
    });
});
