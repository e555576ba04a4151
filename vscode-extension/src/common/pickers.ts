/**
 * The "Connect to Cluster" wizard: context -> namespace -> service -> workstation ports -> launch
 * configuration. The lists come from the server; Escape at any step ends the wizard with nothing
 * done (undefined).
 */
import type * as vscode from 'vscode';
import { DebugConfigurationObject, KubeContext, ServerCommands, Service, ServicePort } from './contract';
import { ServerApi } from './serverApi';
import * as vscodeapi from './vscodeapi';

export interface ConnectChoice {
    context: string;
    namespace: string;
    service: string;
    localPorts: number[];
    /** The launch configuration to debug with the cluster's environment; undefined for "connect only". */
    launchConfiguration?: DebugConfigurationObject;
}

interface Item<T> extends vscode.QuickPickItem {
    value: T;
}

const COMMON = { ignoreFocusOut: true, matchOnDescription: true } as const;

/** Runs the wizard. Server errors reject (the caller shows them); cancelling resolves to undefined. */
export async function pickConnection(server: ServerApi, folder: vscode.WorkspaceFolder): Promise<ConnectChoice | undefined> {
    const contexts = await server.run(ServerCommands.contexts, {});
    if (contexts.length === 0) {
        await vscodeapi.showErrorMessage(
            'Kubelocal: your kubeconfig has no contexts. Point KUBECONFIG at a kubeconfig with the cluster, or add one with kubectl config set-context.',
        );
        return undefined;
    }
    const context = await pickOne(contextItems(contexts), {
        title: 'Kubelocal: Connect to Cluster (1/5)',
        placeHolder: 'Kubeconfig context',
    });
    if (!context) {
        return undefined;
    }

    const namespaces = await server.run(ServerCommands.namespaces, { context: context.name });
    const namespace = await pickOne(namespaceItems(namespaces, context.namespace), {
        title: 'Kubelocal: Connect to Cluster (2/5)',
        placeHolder: `Namespace in ${context.name}`,
    });
    if (namespace === undefined) {
        return undefined;
    }

    const services = await server.run(ServerCommands.services, { context: context.name, namespace });
    const withPorts = services.filter((service) => service.ports.length > 0);
    if (withPorts.length === 0) {
        await vscodeapi.showErrorMessage(
            `Kubelocal: namespace ${namespace} has no service with ports. Pick another namespace, or deploy the service first.`,
        );
        return undefined;
    }
    const service = await pickOne(serviceItems(withPorts), {
        title: 'Kubelocal: Connect to Cluster (3/5)',
        placeHolder: `Service in ${namespace} whose traffic comes to your workstation`,
    });
    if (!service) {
        return undefined;
    }

    const portsText = await vscodeapi.showInputBox({
        title: 'Kubelocal: Connect to Cluster (4/5)',
        prompt: portPrompt(service),
        value: defaultLocalPorts(service),
        ignoreFocusOut: true,
        validateInput: (text) => validateLocalPorts(text, service.ports.length),
    });
    if (portsText === undefined) {
        return undefined;
    }
    const localPorts = parseLocalPorts(portsText);

    const launchConfigurations = readLaunchConfigurations(folder);
    let launchConfiguration: DebugConfigurationObject | undefined;
    if (launchConfigurations.length > 0) {
        const picked = await pickOne(launchConfigurationItems(launchConfigurations), {
            title: 'Kubelocal: Connect to Cluster (5/5)',
            placeHolder: 'Debug with a launch configuration? Its copy "<name> with Kubernetes" connects first',
        });
        if (picked === undefined) {
            return undefined;
        }
        launchConfiguration = picked === NONE ? undefined : picked;
    }

    return { context: context.name, namespace, service: service.name, localPorts, launchConfiguration };
}

const NONE = 'none' as const;

async function pickOne<T>(items: Item<T>[], options: vscode.QuickPickOptions): Promise<T | undefined> {
    const picked = await vscodeapi.showQuickPick(items, { ...COMMON, ...options });
    return picked?.value;
}

/** The current context first, so Enter accepts it. */
export function contextItems(contexts: readonly KubeContext[]): Item<KubeContext>[] {
    const ordered = [...contexts].sort((a, b) => Number(b.current) - Number(a.current));
    return ordered.map((context) => ({
        label: context.name,
        description: context.current ? `${context.cluster} (current)` : context.cluster,
        detail: context.namespace ? `namespace ${context.namespace}` : undefined,
        value: context,
    }));
}

/** The context's own namespace first (else `default`), so Enter accepts it. */
export function namespaceItems(namespaces: readonly string[], preferred: string | undefined): Item<string>[] {
    const first = preferred || 'default';
    const ordered = [...namespaces].sort((a, b) => Number(b === first) - Number(a === first));
    return ordered.map((namespace) => ({ label: namespace, value: namespace }));
}

export function serviceItems(services: readonly Service[]): Item<Service>[] {
    return services.map((service) => ({
        label: service.name,
        description: service.ports.map(describePort).join(', '),
        value: service,
    }));
}

/** "http 80/TCP -> 8080": name, service port, protocol and the pod's port. */
export function describePort(port: ServicePort): string {
    const name = port.name ? `${port.name} ` : '';
    return `${name}${port.port}/${port.protocol || 'TCP'} -> ${port.targetPort}`;
}

function portPrompt(service: Service): string {
    const ports = service.ports.map(describePort).join(', ');
    return service.ports.length === 1
        ? `Workstation port that receives ${service.name}'s traffic (${ports})`
        : `Workstation ports, comma-separated, in the order of ${service.name}'s ports (${ports})`;
}

/** The service's own ports, so a process listening as it does in the pod needs no change. */
export function defaultLocalPorts(service: Service): string {
    return service.ports.map((port) => String(port.port)).join(', ');
}

/**
 * Undefined when the text is 1 to `servicePortCount` comma-separated ports in 1-65535, without
 * repeats; else the message the input box shows.
 */
export function validateLocalPorts(text: string, servicePortCount: number): string | undefined {
    const parts = text.split(',').map((part) => part.trim());
    if (parts.length === 0 || parts.every((part) => part === '')) {
        return 'Enter a port between 1 and 65535.';
    }
    for (const part of parts) {
        if (!/^\d+$/.test(part) || Number(part) < 1 || Number(part) > 65535) {
            return `"${part}" is not a port: enter a whole number between 1 and 65535.`;
        }
    }
    if (parts.length > servicePortCount) {
        return `The service has ${servicePortCount} port${servicePortCount === 1 ? '' : 's'}: enter at most that many.`;
    }
    if (new Set(parts.map(Number)).size !== parts.length) {
        return 'Each workstation port can receive one service port only: remove the repeated port.';
    }
    return undefined;
}

export function parseLocalPorts(text: string): number[] {
    return text.split(',').map((part) => Number(part.trim()));
}

export function readLaunchConfigurations(folder: vscode.WorkspaceFolder): DebugConfigurationObject[] {
    const configurations = vscodeapi.getConfiguration('launch', folder.uri).get<unknown>('configurations');
    if (!Array.isArray(configurations)) {
        return [];
    }
    return configurations.filter(
        (item): item is DebugConfigurationObject =>
            typeof item === 'object' && item !== null && typeof (item as { name?: unknown }).name === 'string',
    );
}

/** "None" first; the copies this extension wrote are left out (they would be copied again). */
export function launchConfigurationItems(
    configurations: readonly DebugConfigurationObject[],
): Item<DebugConfigurationObject | typeof NONE>[] {
    const originals = configurations.filter((configuration) => !configuration.name.endsWith(' with Kubernetes'));
    return [
        { label: 'None', description: 'connect only', value: NONE },
        ...originals.map((configuration) => ({
            label: configuration.name,
            description: `${configuration.type} ${configuration.request}`,
            value: configuration,
        })),
    ];
}
