/**
 * Starts, restarts and talks to the kubelocal language server: `<interpreter> -m kubelocal.lsp`
 * over stdio, through vscode-languageclient.
 */
import { randomUUID } from 'crypto';
import * as vscode from 'vscode';
import {
    ExecuteCommandRequest,
    LanguageClient,
    LanguageClientOptions,
    ServerOptions,
    State,
    WorkDoneProgress,
} from 'vscode-languageclient/node';
import { CLIENT_ID, ServerInfo } from './constants';
import { Notifications, ServerCommand, ServerCommandSignatures, SETTINGS_SECTION, Status } from './contract';
import { errorMessage, traceError, traceInfo } from './logger';
import { RunOptions, ServerApi } from './serverApi';
import * as vscodeapi from './vscodeapi';
import { documentSelector, progressHandler, serverCommandLine, serverExecutable } from './serverLaunch';
import { readSettings, resolveInterpreter, serverSettings } from './settings';

export class KubelocalServer implements ServerApi, vscode.Disposable {
    private client: LanguageClient | undefined;
    private readonly sessionChanged = new vscode.EventEmitter<Status>();
    readonly onSessionChanged = this.sessionChanged.event;
    /** Serialises start/stop so a restart during a start does not leave two servers. */
    private lifecycle: Promise<void> = Promise.resolve();

    constructor(
        private readonly serverInfo: ServerInfo,
        private readonly outputChannel: vscode.LogOutputChannel,
    ) {}

    /** Fires after each successful (re)start, so state can be re-read from the server. */
    private readonly started = new vscode.EventEmitter<void>();
    readonly onDidStart = this.started.event;

    restart(): Promise<void> {
        this.lifecycle = this.lifecycle.then(async () => {
            await this.stopClient();
            await this.startClient();
        });
        return this.lifecycle;
    }

    stop(): Promise<void> {
        this.lifecycle = this.lifecycle.then(() => this.stopClient());
        return this.lifecycle;
    }

    dispose(): void {
        void this.stop();
        this.sessionChanged.dispose();
        this.started.dispose();
    }

    private async startClient(): Promise<void> {
        const folder = vscodeapi.getWorkspaceFolders()[0];
        const settings = readSettings(folder);
        const interpreter = await resolveInterpreter(folder);
        const commandLine = serverCommandLine(interpreter.command, this.serverInfo, settings.serverArgs);
        const { command, args } = commandLine;
        traceInfo(`Starting ${this.serverInfo.name} server (interpreter from ${interpreter.source}): ${[command, ...args].join(' ')}`);
        const serverOptions: ServerOptions = serverExecutable(commandLine, folder?.uri.fsPath);
        const clientOptions: LanguageClientOptions = {
            documentSelector: documentSelector(settings),
            outputChannel: this.outputChannel,
            traceOutputChannel: this.outputChannel,
            initializationOptions: serverSettings(settings),
            synchronize: { configurationSection: SETTINGS_SECTION },
            // A server that cannot start (no kubelocal in that interpreter) should say so once, not five times.
            connectionOptions: { maxRestartCount: 2 },
        };
        let client: LanguageClient | undefined;
        try {
            client = new LanguageClient(CLIENT_ID, this.serverInfo.name, serverOptions, clientOptions);
            client.onNotification(Notifications.sessionChanged, (status: Status) => this.sessionChanged.fire(status));
            await client.start();
        } catch (error) {
            const advice =
                `The ${this.serverInfo.name} server did not start with '${command}'. Install kubelocal into that ` +
                'interpreter (pip install kubelocal) or set kubelocal.interpreter, then run "Kubelocal: Restart Server".';
            traceError(advice, error);
            await client?.dispose().catch(() => undefined);
            void vscodeapi.showErrorMessage(advice, 'Show Output').then((action) => action && this.outputChannel.show());
            return;
        }
        this.client = client;
        this.started.fire();
    }

    private async stopClient(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        if (client) {
            try {
                await client.dispose();
            } catch (error) {
                traceError('Stopping the server failed', error);
            }
        }
    }

    async run<C extends ServerCommand>(
        command: C,
        args: ServerCommandSignatures[C]['args'],
        options: RunOptions = {},
    ): Promise<ServerCommandSignatures[C]['result']> {
        const client = this.client;
        if (!client || client.state !== State.Running) {
            throw new Error(
                `The ${this.serverInfo.name} server is not running. See the Kubelocal output for why, ` +
                    'then run "Kubelocal: Restart Server".',
            );
        }
        const workDoneToken = options.onProgress ? randomUUID() : undefined;
        const progress =
            workDoneToken && options.onProgress
                ? client.onProgress(WorkDoneProgress.type, workDoneToken, progressHandler(options.onProgress))
                : undefined;
        try {
            const result: unknown = await client.sendRequest(
                ExecuteCommandRequest.type,
                { command, arguments: [args], workDoneToken },
                options.token,
            );
            return result as ServerCommandSignatures[C]['result'];
        } catch (error) {
            throw new Error(errorMessage(error));
        } finally {
            progress?.dispose();
        }
    }
}
