/**
 * The Connect to Cluster wizard (pickers.ts):
 * - step order context -> namespace -> service -> ports -> launch configuration, each list from the server;
 * - defaults: the current context, its namespace, the service's ports, "None" first;
 * - Escape at each step ends the wizard with undefined and no further server call;
 * - workstation ports validated (1-65535, count, repeats) and parsed;
 * - services without ports are not offered; no contexts is an error that says what to do.
 */
import * as assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { pickConnection, validateLocalPorts, parseLocalPorts, describePort } from '../src/common/pickers';
import { clusterServer, escape, pickFirst, pickLabel, resetFake } from './fixtures';
import { fake, workspaceFolder } from './fakes/vscode';

const folder = workspaceFolder('/work/shop');
const LAUNCH = [
    { type: 'debugpy', request: 'launch', name: 'Cart' },
    { type: 'node', request: 'launch', name: 'Cart with Kubernetes', preLaunchTask: 'x' },
];

function acceptDefaults(): void {
    fake.quickPickAnswers.push(pickFirst, pickFirst, pickLabel('cart'));
    fake.inputBoxAnswers.push((options) => options.value);
}

describe('pickConnection', () => {
    beforeEach(resetFake);

    it('asks context, namespace, service, ports and launch configuration in that order', async () => {
        fake.configuration.launch = { configurations: LAUNCH };
        acceptDefaults();
        fake.quickPickAnswers.push(pickLabel('Cart'));
        const server = clusterServer();

        const choice = await pickConnection(server, folder);

        assert.deepEqual(fake.prompts, [
            'Kubelocal: Connect to Cluster (1/5)',
            'Kubelocal: Connect to Cluster (2/5)',
            'Kubelocal: Connect to Cluster (3/5)',
            'Kubelocal: Connect to Cluster (4/5)',
            'Kubelocal: Connect to Cluster (5/5)',
        ]);
        assert.deepEqual(server.calls.map((call) => [call.command, call.args]), [
            ['kubelocal.server.contexts', {}],
            ['kubelocal.server.namespaces', { context: 'dev' }],
            ['kubelocal.server.services', { context: 'dev', namespace: 'shop' }],
        ]);
        assert.deepEqual(choice, {
            context: 'dev',
            namespace: 'shop',
            service: 'cart',
            localPorts: [80],
            launchConfiguration: LAUNCH[0],
        });
    });

    it('offers the current context and its namespace first, and services with their ports', async () => {
        acceptDefaults();
        await pickConnection(clusterServer(), folder);

        const [contexts, namespaces, services] = fake.quickPicks;
        assert.deepEqual(contexts.items.map((item) => item.label), ['dev', 'staging']);
        assert.match(contexts.items[0].description, /current/);
        assert.deepEqual(namespaces.items.map((item) => item.label), ['shop', 'default', 'kube-system']);
        assert.deepEqual(services.items.map((item) => [item.label, item.description]), [
            ['cart', 'http 80/TCP -> 8080'],
            ['api', 'http 80/TCP -> web, grpc 9090/TCP -> 9090'],
        ]);
    });

    it("defaults the workstation ports to the service's ports and validates them in the box", async () => {
        fake.quickPickAnswers.push(pickFirst, pickFirst, pickLabel('api'));
        fake.inputBoxAnswers.push(() => '8000, 9000');
        const choice = await pickConnection(clusterServer(), folder);

        const box = fake.inputBoxes[0].options;
        assert.equal(box.value, '80, 9090');
        assert.equal(box.validateInput('80, 9090'), undefined);
        assert.match(box.validateInput('80, 9090, 1'), /at most/);
        assert.deepEqual(choice?.localPorts, [8000, 9000]);
    });

    it('skips the launch configuration step when launch.json has none, and "None" means connect only', async () => {
        acceptDefaults();
        const withoutLaunch = await pickConnection(clusterServer(), folder);
        assert.equal(fake.quickPicks.length, 3);
        assert.equal(withoutLaunch?.launchConfiguration, undefined);

        resetFake();
        fake.configuration.launch = { configurations: LAUNCH };
        acceptDefaults();
        fake.quickPickAnswers.push(pickFirst);
        const connectOnly = await pickConnection(clusterServer(), folder);
        const offered = fake.quickPicks[3].items.map((item) => item.label);
        assert.deepEqual(offered, ['None', 'Cart'], 'copies "with Kubernetes" are not offered again');
        assert.equal(connectOnly?.launchConfiguration, undefined);
        assert.equal(connectOnly?.service, 'cart');
    });

    const steps: { name: string; script: () => void; serverCalls: number }[] = [
        { name: 'context', script: () => fake.quickPickAnswers.push(escape), serverCalls: 1 },
        { name: 'namespace', script: () => fake.quickPickAnswers.push(pickFirst, escape), serverCalls: 2 },
        { name: 'service', script: () => fake.quickPickAnswers.push(pickFirst, pickFirst, escape), serverCalls: 3 },
        {
            name: 'ports',
            script: () => {
                fake.quickPickAnswers.push(pickFirst, pickFirst, pickLabel('cart'));
                fake.inputBoxAnswers.push(escape);
            },
            serverCalls: 3,
        },
        {
            name: 'launch configuration',
            script: () => {
                fake.configuration.launch = { configurations: LAUNCH };
                acceptDefaults();
                fake.quickPickAnswers.push(escape);
            },
            serverCalls: 3,
        },
    ];
    for (const step of steps) {
        it(`ends with nothing chosen when the ${step.name} step is cancelled`, async () => {
            step.script();
            const server = clusterServer();
            const choice = await pickConnection(server, folder);
            assert.equal(choice, undefined);
            assert.equal(server.calls.length, step.serverCalls);
            assert.equal(fake.quickPickAnswers.length + fake.inputBoxAnswers.length, 0, 'every scripted step was asked');
            assert.equal(fake.messages.length, 0, 'cancelling is not an error');
        });
    }

    it('says what to do when the kubeconfig has no contexts', async () => {
        const server = clusterServer().on('kubelocal.server.contexts', () => []);
        assert.equal(await pickConnection(server, folder), undefined);
        assert.equal(fake.quickPicks.length, 0);
        assert.equal(fake.messages[0].level, 'error');
        assert.match(fake.messages[0].message, /KUBECONFIG/);
    });

    it('says what to do when no service in the namespace has ports', async () => {
        fake.quickPickAnswers.push(pickFirst, pickLabel('default'));
        assert.equal(await pickConnection(clusterServer(), folder), undefined);
        assert.match(fake.messages[0].message, /no service with ports.*another namespace/);
    });

    it('passes server errors on to the caller', async () => {
        const server = clusterServer().on('kubelocal.server.contexts', () => {
            throw new Error('kubeconfig unreadable');
        });
        await assert.rejects(pickConnection(server, folder), /kubeconfig unreadable/);
    });
});

describe('validateLocalPorts', () => {
    it('accepts ports from 1 to 65535, with spaces', () => {
        assert.equal(validateLocalPorts('1', 1), undefined);
        assert.equal(validateLocalPorts(' 65535 ', 1), undefined);
        assert.equal(validateLocalPorts('80,8080', 2), undefined);
        assert.equal(validateLocalPorts('8080', 2), undefined, 'fewer ports than the service has is fine');
    });

    for (const bad of ['', '0', '65536', '-1', '80.5', 'http', '80,', '1e3']) {
        it(`rejects ${JSON.stringify(bad)} with a message`, () => {
            assert.match(validateLocalPorts(bad, 2) ?? '', /port/);
        });
    }

    it('rejects more ports than the service has, and repeated ports', () => {
        assert.match(validateLocalPorts('80, 81', 1) ?? '', /1 port: enter at most/);
        assert.match(validateLocalPorts('80, 80', 2) ?? '', /repeated/);
    });

    it('parses what it accepted', () => {
        assert.deepEqual(parseLocalPorts(' 80, 9090'), [80, 9090]);
    });

    it('describes a port without a name', () => {
        assert.equal(describePort({ name: '', port: 53, targetPort: 5353, protocol: 'UDP' }), '53/UDP -> 5353');
    });
});
