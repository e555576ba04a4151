/**
 * The connect task (taskProvider.ts):
 * - `kubelocal.connect` and `bridge-to-kubernetes.resource` definitions map to the same connect arguments;
 * - missing context/namespace/ports come from the current context and the service's ports;
 * - definitions kubelocal cannot run (pod resources, bad ports, no service) fail with what to change;
 * - the pseudoterminal connects with progress, closes 0 once connected (preLaunchTask), 0 at once when
 *   already connected to that service, 1 on errors, another session, or when stopped;
 * - resolveTask keeps the definition and gives a custom execution.
 */
import * as assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type * as vscode from 'vscode';
import { Connection } from '../src/common/connection';
import { ConnectArguments } from '../src/common/contract';
import { readSettings } from '../src/common/settings';
import {
    completeConnectArguments,
    connectRequestFromTask,
    ConnectTaskProvider,
    ConnectTerminal,
    TaskDefinitionError,
} from '../src/common/taskProvider';
import { clusterServer, session } from './fixtures';
import { FakeServer } from './fakes/server';
import { CustomExecution, fake, workspaceFolder } from './fakes/vscode';

const KUBELOCAL_TASK = {
    type: 'kubelocal.connect',
    service: 'api',
    namespace: 'payments',
    context: 'dev',
    container: 'api',
    localPorts: [8000, 9000],
};
const BRIDGE_TASK = {
    type: 'bridge-to-kubernetes.resource',
    resource: 'api',
    resourceType: 'service',
    ports: [8000, 9000],
    targetNamespace: 'payments',
    targetContainer: 'api',
};

const options = { workspaceFolder: '/work/shop', settings: readSettings() };

describe('connectRequestFromTask', () => {
    beforeEach(() => fake.reset());

    it('maps both task types to the same connect arguments', async () => {
        const server = clusterServer();
        const fromKubelocal = await completeConnectArguments(connectRequestFromTask(KUBELOCAL_TASK), server, options);
        const fromBridge = await completeConnectArguments(connectRequestFromTask(BRIDGE_TASK), server, options);
        assert.deepEqual(fromBridge, fromKubelocal);
        assert.deepEqual(fromKubelocal, {
            context: 'dev',
            namespace: 'payments',
            service: 'api',
            container: 'api',
            localPorts: [8000, 9000],
            workspaceFolder: '/work/shop',
            hostsMode: 'auto',
        });
    });

    it('fills in the current context, its namespace and the service ports', async () => {
        const server = clusterServer();
        const args = await completeConnectArguments(connectRequestFromTask({ type: 'kubelocal.connect', service: 'api' }), server, options);
        assert.deepEqual([args.context, args.namespace, args.localPorts], ['dev', 'shop', [80, 9090]]);
        assert.equal(args.container, undefined);
        const bridge = await completeConnectArguments(connectRequestFromTask({ type: 'bridge-to-kubernetes.resource', resource: 'cart' }), server, options);
        assert.deepEqual([bridge.context, bridge.namespace, bridge.localPorts], ['dev', 'shop', [80]]);
    });

    it("takes a named context's own namespace", async () => {
        const server = clusterServer().on('kubelocal.server.services', () => [
            { name: 'cart', namespace: 'team-a', ports: [{ name: '', port: 81, targetPort: 81, protocol: 'TCP' }] },
        ]);
        const args = await completeConnectArguments({ service: 'cart', context: 'staging' }, server, options);
        assert.deepEqual([args.context, args.namespace, args.localPorts], ['staging', 'team-a', [81]]);
    });

    it('says what to change when the service does not exist', async () => {
        await assert.rejects(
            completeConnectArguments({ service: 'nope', namespace: 'shop' }, clusterServer(), options),
            /no service nope in namespace shop.*Check/,
        );
    });

    const invalid: [string, vscode.TaskDefinition, RegExp][] = [
        ['no service', { type: 'kubelocal.connect' }, /needs "service"/],
        ['no resource', { type: 'bridge-to-kubernetes.resource', ports: [80] }, /needs "resource"/],
        ['a pod resource', { ...BRIDGE_TASK, resourceType: 'pod' }, /services only.*"resourceType": "service"/],
        ['port 0', { ...KUBELOCAL_TASK, localPorts: [0] }, /"localPorts".*between 1 and 65535/],
        ['ports not a list', { ...BRIDGE_TASK, ports: '80' }, /"ports"/],
        ['another type', { type: 'shell' }, /does not run tasks of type shell/],
    ];
    for (const [name, definition, message] of invalid) {
        it(`rejects a definition with ${name}`, () => {
            assert.throws(() => connectRequestFromTask(definition), (error: unknown) => error instanceof TaskDefinitionError && message.test(error.message));
        });
    }
});

function terminal(definition: vscode.TaskDefinition, server: FakeServer, connection = new Connection(server)) {
    const term = new ConnectTerminal(definition, { server, connection, ...options });
    const output: string[] = [];
    const closed: number[] = [];
    term.onDidWrite((text) => output.push(text));
    term.onDidClose((code) => closed.push(code));
    return { term, output, closed, connection };
}

describe('ConnectTerminal', () => {
    beforeEach(() => fake.reset());

    it('connects with progress and closes with 0 once connected', async () => {
        const server = clusterServer().on('kubelocal.server.connect', (args: ConnectArguments, runOptions) => {
            runOptions.onProgress?.({ title: 'Connecting', message: 'Replacing deployment/api' });
            runOptions.onProgress?.({ message: 'Forwarding ports' });
            return session({ service: args.service, localPorts: args.localPorts });
        });
        const { term, output, closed, connection } = terminal(KUBELOCAL_TASK, server);
        term.open();
        assert.equal(await term.done, 0);
        assert.deepEqual(closed, [0]);
        assert.deepEqual(server.calls.filter((c) => c.command === 'kubelocal.server.connect').map((c) => c.withProgress), [true]);
        const text = output.join('');
        assert.match(text, /Replacing deployment\/api\r\nForwarding ports\r\n/);
        assert.match(text, /Connected: api/);
        assert.equal(connection.status.state, 'connected');
    });

    it('closes with 0 at once when already connected to that service', async () => {
        const server = clusterServer();
        const { term, output, connection } = terminal(KUBELOCAL_TASK, server);
        connection.update({ state: 'connected', session: session({ service: 'api', namespace: 'payments' }) });
        term.open();
        assert.equal(await term.done, 0);
        assert.equal(server.callsOf('kubelocal.server.connect').length, 0);
        assert.match(output.join(''), /Already connected to api/);
    });

    it('closes with 1 when another service is connected', async () => {
        const server = clusterServer();
        const { term, output, connection } = terminal(KUBELOCAL_TASK, server);
        connection.update({ state: 'connected', session: session({ service: 'cart' }) });
        term.open();
        assert.equal(await term.done, 1);
        assert.equal(server.callsOf('kubelocal.server.connect').length, 0);
        assert.match(output.join(''), /cart.*Kubelocal: Disconnect/);
    });

    it('closes with 1 and the message on a server error or a bad definition', async () => {
        const server = clusterServer().on('kubelocal.server.connect', () => {
            throw new Error('forbidden: ask your admin for the "edit" role in shop');
        });
        const failing = terminal(KUBELOCAL_TASK, server);
        failing.term.open();
        assert.equal(await failing.term.done, 1);
        assert.match(failing.output.join(''), /kubelocal: forbidden: ask your admin/);

        const bad = terminal({ ...BRIDGE_TASK, resourceType: 'pod' }, clusterServer());
        bad.term.open();
        assert.equal(await bad.term.done, 1);
        assert.match(bad.output.join(''), /services only/);
    });

    it('cancels connecting when the task is stopped', async () => {
        let sawCancel = false;
        const server = clusterServer().on('kubelocal.server.connect', (_args, runOptions) =>
            new Promise((_resolve, reject) => {
                runOptions.token?.onCancellationRequested(() => {
                    sawCancel = true;
                    reject(new Error('Request cancelled'));
                });
            }),
        );
        const { term, output, closed } = terminal(KUBELOCAL_TASK, server);
        term.open();
        await new Promise((resolve) => setImmediate(resolve));
        term.close();
        assert.equal(await term.done, 1);
        assert.ok(sawCancel);
        assert.deepEqual(closed, [1]);
        assert.match(output.join(''), /Cancelled/);
    });
});

describe('ConnectTaskProvider', () => {
    beforeEach(() => fake.reset());

    it('resolves a task to a custom execution running the connect terminal, keeping its definition', async () => {
        fake.workspaceFolders = [workspaceFolder('/work/shop')];
        const server = clusterServer();
        const provider = new ConnectTaskProvider({ server, connection: new Connection(server), settings: () => readSettings() });
        assert.deepEqual(provider.provideTasks(), []);
        const task = { definition: BRIDGE_TASK, scope: fake.workspaceFolders[0], name: 'bridge' } as unknown as vscode.Task;
        const resolved = provider.resolveTask(task);
        assert.equal(resolved.definition, BRIDGE_TASK);
        assert.equal(resolved.name, 'bridge');
        assert.ok(resolved.execution instanceof CustomExecution);
        const pty = (await (resolved.execution as unknown as CustomExecution).callback(BRIDGE_TASK)) as ConnectTerminal;
        pty.open();
        assert.equal(await pty.done, 0);
        assert.deepEqual((server.callsOf('kubelocal.server.connect')[0] as ConnectArguments).workspaceFolder, '/work/shop');
    });
});
