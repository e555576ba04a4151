/** Sample server answers shared by the tests. */
import { KubeContext, Service, Session } from '../src/common/contract';
import { FakeServer } from './fakes/server';
import { fake } from './fakes/vscode';

export const CONTEXTS: KubeContext[] = [
    { name: 'staging', cluster: 'staging-cluster', namespace: 'team-a', current: false },
    { name: 'dev', cluster: 'dev-cluster', namespace: 'shop', current: true },
];

export const NAMESPACES = ['default', 'kube-system', 'shop'];

export const SERVICES: Service[] = [
    { name: 'empty', namespace: 'shop', ports: [] },
    {
        name: 'cart',
        namespace: 'shop',
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
    },
    {
        name: 'api',
        namespace: 'shop',
        ports: [
            { name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' },
            { name: 'grpc', port: 9090, targetPort: 9090, protocol: 'TCP' },
        ],
    },
];

export function session(overrides: Partial<Session> = {}): Session {
    return {
        id: 'session-1',
        context: 'dev',
        namespace: 'shop',
        service: 'cart',
        workload: 'deployment/cart',
        container: 'cart',
        localPorts: [8080],
        startedAt: '2026-11-27T18:00:00Z',
        envFile: '/tmp/kubelocal/session-1.env',
        hostsMode: 'env',
        ...overrides,
    };
}

/** A server that knows the sample cluster and connects to whatever it is asked. */
export function clusterServer(): FakeServer {
    return new FakeServer()
        .on('kubelocal.server.contexts', () => CONTEXTS)
        .on('kubelocal.server.namespaces', () => NAMESPACES)
        .on('kubelocal.server.services', ({ namespace }) => SERVICES.filter((s) => s.namespace === namespace))
        .on('kubelocal.server.status', () => ({ state: 'disconnected' }))
        .on('kubelocal.server.disconnect', () => null)
        .on('kubelocal.server.connect', (args) =>
            session({ context: args.context, namespace: args.namespace, service: args.service, localPorts: args.localPorts }),
        );
}

/** Picks the quick pick item with this label (fails the test when there is none). */
export function pickLabel(label: string): (items: { label: string }[]) => unknown {
    return (items) => {
        const item = items.find((candidate) => candidate.label === label);
        if (!item) {
            throw new Error(`no item "${label}" among ${items.map((i) => i.label).join(', ')}`);
        }
        return item;
    };
}

export const pickFirst = (items: unknown[]): unknown => items[0];
export const escape = (): undefined => undefined;

export function resetFake(): void {
    fake.reset();
}
