/**
 * The `kubelocal.connect` task type, and the original product's `bridge-to-kubernetes.resource`,
 * usable as a debug configuration's preLaunchTask: the task connects through the server and ends
 * (exit code 0) once connected, so debugging starts with the session in place.
 */
import * as vscode from 'vscode';
import { BridgeTaskDefinition, ConnectArguments, KubelocalTaskDefinition, ServerCommands, TaskTypes } from './contract';
import { Connection } from './connection';
import { errorMessage } from './logger';
import { ServerApi } from './serverApi';
import { Settings } from './settings';
import * as vscodeapi from './vscodeapi';

/** What a task asks for; what it leaves out is found from the cluster (see completeConnectArguments). */
export interface ConnectRequest {
    service: string;
    namespace?: string;
    context?: string;
    container?: string;
    localPorts?: number[];
}

/** Thrown for a task definition that cannot be connected; the message says what to change. */
export class TaskDefinitionError extends Error {}

/** Maps either task type to one request. Throws TaskDefinitionError for what kubelocal cannot do. */
export function connectRequestFromTask(definition: vscode.TaskDefinition): ConnectRequest {
    if (definition.type === TaskTypes.connect) {
        const task = definition as KubelocalTaskDefinition;
        requireString(task.service, 'service', definition.type);
        return withoutUndefined({
            service: task.service,
            namespace: optionalString(task.namespace),
            context: optionalString(task.context),
            container: optionalString(task.container),
            localPorts: optionalPorts(task.localPorts, 'localPorts', definition.type),
        });
    }
    if (definition.type === TaskTypes.bridgeToKubernetes) {
        const task = definition as BridgeTaskDefinition;
        requireString(task.resource, 'resource', definition.type);
        if (task.resourceType !== undefined && task.resourceType !== 'service') {
            throw new TaskDefinitionError(
                `kubelocal connects services only, and this ${definition.type} task names a ${task.resourceType}: ` +
                    `set "resourceType": "service" and "resource" to the service in front of it.`,
            );
        }
        return withoutUndefined({
            service: task.resource,
            namespace: optionalString(task.targetNamespace),
            container: optionalString(task.targetContainer),
            localPorts: optionalPorts(task.ports, 'ports', definition.type),
        });
    }
    throw new TaskDefinitionError(`kubelocal does not run tasks of type ${String(definition.type)}.`);
}

function requireString(value: unknown, property: string, type: string): asserts value is string {
    if (typeof value !== 'string' || value.trim() === '') {
        throw new TaskDefinitionError(`The ${type} task needs "${property}": the name of the service to connect.`);
    }
}

function optionalString(value: unknown): string | undefined {
    return typeof value === 'string' && value !== '' ? value : undefined;
}

function optionalPorts(value: unknown, property: string, type: string): number[] | undefined {
    if (value === undefined) {
        return undefined;
    }
    if (
        !Array.isArray(value) ||
        value.length === 0 ||
        !value.every((port) => Number.isInteger(port) && port >= 1 && port <= 65535)
    ) {
        throw new TaskDefinitionError(`"${property}" of the ${type} task must be a list of ports between 1 and 65535.`);
    }
    return value as number[];
}

function withoutUndefined<T extends object>(value: T): T {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Fills in what the request left out: the current context, its namespace (else `default`), and the
 * service's own ports as the workstation ports.
 */
export async function completeConnectArguments(
    request: ConnectRequest,
    server: ServerApi,
    options: { workspaceFolder: string; settings: Settings },
): Promise<ConnectArguments> {
    let context = request.context;
    let namespace = request.namespace;
    if (context === undefined || namespace === undefined) {
        const contexts = await server.run(ServerCommands.contexts, {});
        const chosen = context === undefined ? contexts.find((c) => c.current) : contexts.find((c) => c.name === context);
        if (context === undefined) {
            if (!chosen) {
                throw new Error('Your kubeconfig has no current context: set one with kubectl config use-context, or give the task a "context".');
            }
            context = chosen.name;
        }
        namespace ??= chosen?.namespace || 'default';
    }
    let localPorts = request.localPorts;
    if (localPorts === undefined) {
        const services = await server.run(ServerCommands.services, { context, namespace });
        const service = services.find((s) => s.name === request.service);
        if (!service) {
            throw new Error(`There is no service ${request.service} in namespace ${namespace} (context ${context}). Check the task's service and namespace.`);
        }
        localPorts = service.ports.map((port) => port.port);
    }
    return withoutUndefined({
        context,
        namespace,
        service: request.service,
        container: request.container,
        localPorts,
        workspaceFolder: options.workspaceFolder,
        hostsMode: options.settings.hostsMode,
    });
}

/** The pseudoterminal of one task run: connects, prints each step, closes with 0 once connected. */
export class ConnectTerminal implements vscode.Pseudoterminal {
    private readonly written = new vscode.EventEmitter<string>();
    private readonly closed = new vscode.EventEmitter<number>();
    readonly onDidWrite = this.written.event;
    readonly onDidClose = this.closed.event;
    private readonly cancellation = new vscode.CancellationTokenSource();
    /** Settles when the task has finished (for tests and for callers that wait). */
    done: Promise<number> = Promise.resolve(0);

    constructor(
        private readonly definition: vscode.TaskDefinition,
        private readonly deps: {
            server: ServerApi;
            connection: Connection;
            workspaceFolder: string;
            settings: Settings;
        },
    ) {}

    open(): void {
        this.done = this.run().then((code) => {
            this.closed.fire(code);
            return code;
        });
    }

    /** The user stopped the task: stop connecting. */
    close(): void {
        this.cancellation.cancel();
    }

    private line(text: string): void {
        this.written.fire(`${text}\r\n`);
    }

    private async run(): Promise<number> {
        try {
            const request = connectRequestFromTask(this.definition);
            if ((this.definition as BridgeTaskDefinition).isolateAs) {
                this.line('kubelocal does not isolate yet ("isolateAs"): all traffic to the service comes to this workstation.');
            }
            const args = await completeConnectArguments(request, this.deps.server, this.deps);
            const current = this.deps.connection.session;
            if (current && current.service === args.service && current.namespace === args.namespace && current.context === args.context) {
                this.line(`Already connected to ${args.service} in ${args.namespace}.`);
                return 0;
            }
            if (this.deps.connection.status.state !== 'disconnected' && this.deps.connection.status.state !== 'error') {
                this.line(`A session is ${this.deps.connection.status.state} (${current?.service ?? 'another service'}): run "Kubelocal: Disconnect" first.`);
                return 1;
            }
            this.line(`Connecting ${args.service} in ${args.namespace} (context ${args.context}) to workstation ports ${args.localPorts.join(', ')}...`);
            const session = await this.deps.connection.connect(args, {
                token: this.cancellation.token,
                onProgress: (update) => {
                    const text = update.message ?? update.title;
                    if (text) {
                        this.line(text);
                    }
                },
            });
            if (!session) {
                this.line('Cancelled.');
                return 1;
            }
            this.line(`Connected: ${session.service} runs on this workstation (session ${session.id}).`);
            return 0;
        } catch (error) {
            this.line(`kubelocal: ${errorMessage(error)}`);
            return 1;
        }
    }
}

/** Resolves both task types into tasks whose execution is a ConnectTerminal. */
export class ConnectTaskProvider implements vscode.TaskProvider {
    constructor(
        private readonly deps: {
            server: ServerApi;
            connection: Connection;
            settings: (folder: vscode.WorkspaceFolder | undefined) => Settings;
        },
    ) {}

    /** No tasks are auto-detected: they are written by the connect wizard or by hand. */
    provideTasks(): vscode.Task[] {
        return [];
    }

    resolveTask(task: vscode.Task): vscode.Task {
        const folder = typeof task.scope === 'object' ? task.scope : vscodeapi.getWorkspaceFolders()[0];
        const resolved = new vscode.Task(
            task.definition,
            task.scope ?? vscode.TaskScope.Workspace,
            task.name,
            'kubelocal',
            new vscode.CustomExecution(async (definition) =>
                new ConnectTerminal(definition, {
                    server: this.deps.server,
                    connection: this.deps.connection,
                    workspaceFolder: folder?.uri.fsPath ?? '',
                    settings: this.deps.settings(folder),
                }),
            ),
        );
        return resolved;
    }
}
