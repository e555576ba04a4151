/**
 * The contract between this extension and the kubelocal language server, as TypeScript.
 *
 * The source of truth is `server/kubelocal/lsp/contract.json`; `test/contract.test.ts` fails when the
 * names here drift from it or when package.json's settings differ from its settings list.
 */

/** Commands the server executes (workspace/executeCommand), one argument object each. */
export const ServerCommands = {
    contexts: 'kubelocal.server.contexts',
    namespaces: 'kubelocal.server.namespaces',
    services: 'kubelocal.server.services',
    connect: 'kubelocal.server.connect',
    disconnect: 'kubelocal.server.disconnect',
    status: 'kubelocal.server.status',
    env: 'kubelocal.server.env',
    launchConfiguration: 'kubelocal.server.launchConfiguration',
} as const;

/** Server -> client notifications. */
export const Notifications = {
    sessionChanged: 'kubelocal/sessionChanged',
} as const;

/** The extension's own VS Code command ids; they must differ from the server's, which the client registers. */
export const ClientCommands = {
    connect: 'kubelocal.connect',
    disconnect: 'kubelocal.disconnect',
    showStatus: 'kubelocal.showStatus',
    openConnectedTerminal: 'kubelocal.openConnectedTerminal',
    createConfig: 'kubelocal.createConfig',
    restartServer: 'kubelocal.restartServer',
} as const;

export const TaskTypes = {
    connect: 'kubelocal.connect',
    bridgeToKubernetes: 'bridge-to-kubernetes.resource',
} as const;

export const SETTINGS_SECTION = 'kubelocal';

/** Setting names without the section, in the contract's order. */
export const SETTING_NAMES = [
    'interpreter',
    'serverArgs',
    'disconnectAfterDebugging',
    'useEnvFile',
    'hostsMode',
    'trace.server',
    'configFilePatterns',
] as const;

export const SESSION_STATES = ['disconnected', 'connecting', 'connected', 'disconnecting', 'error'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export const HOSTS_MODES = ['auto', 'hosts', 'env'] as const;
export type HostsMode = (typeof HOSTS_MODES)[number];

export interface KubeContext {
    name: string;
    cluster: string;
    namespace: string;
    current: boolean;
}

export interface ServicePort {
    name: string;
    port: number;
    targetPort: number | string;
    protocol: string;
}

export interface Service {
    name: string;
    namespace: string;
    ports: ServicePort[];
}

export interface Session {
    id: string;
    context: string;
    namespace: string;
    service: string;
    workload: string;
    container: string;
    localPorts: number[];
    /** ISO-8601. */
    startedAt: string;
    envFile: string;
    hostsMode: 'hosts' | 'env';
}

/** What `kubelocal.server.status` returns and `kubelocal/sessionChanged` carries. */
export interface Status {
    state: SessionState;
    session?: Session;
    message?: string;
}

export interface NamespacesArguments {
    context: string;
}

export interface ServicesArguments {
    context: string;
    namespace: string;
}

export interface ConnectArguments {
    context: string;
    namespace: string;
    service: string;
    container?: string;
    localPorts: number[];
    workspaceFolder: string;
    configFile?: string;
    hostsMode?: HostsMode;
}

export interface SessionArguments {
    sessionId?: string;
}

export interface EnvResult {
    env: Record<string, string>;
    envFile: string;
}

/** A debug configuration as launch.json holds it: any JSON object with type, request and name. */
export interface DebugConfigurationObject {
    type: string;
    request: string;
    name: string;
    [key: string]: unknown;
}

export interface LaunchConfigurationArguments {
    workspaceFolder: string;
    base: DebugConfigurationObject;
    useEnvFile?: boolean;
}

export interface LaunchConfigurationResult {
    configuration: DebugConfigurationObject;
    listenPort: number;
}

/** Argument and result types per server command, so every call site is checked. */
export interface ServerCommandSignatures {
    [ServerCommands.contexts]: { args: Record<string, never>; result: KubeContext[] };
    [ServerCommands.namespaces]: { args: NamespacesArguments; result: string[] };
    [ServerCommands.services]: { args: ServicesArguments; result: Service[] };
    [ServerCommands.connect]: { args: ConnectArguments; result: Session };
    [ServerCommands.disconnect]: { args: SessionArguments; result: null };
    [ServerCommands.status]: { args: Record<string, never>; result: Status };
    [ServerCommands.env]: { args: SessionArguments; result: EnvResult };
    [ServerCommands.launchConfiguration]: { args: LaunchConfigurationArguments; result: LaunchConfigurationResult };
}

export type ServerCommand = keyof ServerCommandSignatures;

/** The `kubelocal.connect` task type's definition in tasks.json. */
export interface KubelocalTaskDefinition {
    type: typeof TaskTypes.connect;
    service: string;
    namespace?: string;
    context?: string;
    container?: string;
    localPorts?: number[];
}

/** The original product's task type, accepted so existing tasks.json files keep working. */
export interface BridgeTaskDefinition {
    type: typeof TaskTypes.bridgeToKubernetes;
    resource: string;
    resourceType?: string;
    ports?: number[];
    targetNamespace?: string;
    targetContainer?: string;
    isolateAs?: string;
}
