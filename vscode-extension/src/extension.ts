/** Activation wiring only: every behaviour lives in src/common. */
import * as vscode from 'vscode';
import { connectFlow, CommandDeps, disconnectCommand, guarded, showStatusCommand } from './common/commands';
import { Connection } from './common/connection';
import { loadServerInfo, OUTPUT_CHANNEL_NAME, STATUS_MENU_COMMAND } from './common/constants';
import { ClientCommands, TaskTypes } from './common/contract';
import { createConfig } from './common/createConfig';
import { disconnectAfterDebugging, KubelocalDebugConfigurationProvider } from './common/debugProvider';
import { registerLogger, traceError } from './common/logger';
import { KubelocalServer } from './common/server';
import { needsRestart, pythonExtensionApi, readSettings, resolveInterpreter } from './common/settings';
import { StatusBar } from './common/statusBar';
import { ConnectTaskProvider } from './common/taskProvider';
import { openConnectedTerminal } from './common/terminal';
import * as vscodeapi from './common/vscodeapi';

let server: KubelocalServer | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
    const outputChannel = vscodeapi.createOutputChannel(OUTPUT_CHANNEL_NAME);
    context.subscriptions.push(outputChannel, registerLogger(outputChannel));

    server = new KubelocalServer(loadServerInfo(context.extensionPath), outputChannel);
    const connection = new Connection(server);
    const statusBar = new StatusBar(connection);
    const settings = (folder: vscode.WorkspaceFolder | undefined) => readSettings(folder);
    const deps: CommandDeps = { server, connection, settings };
    const running = server;
    context.subscriptions.push(server, connection, statusBar);

    context.subscriptions.push(
        vscodeapi.registerCommand(ClientCommands.connect, guarded('Connect to Cluster', () => connectFlow(deps))),
        vscodeapi.registerCommand(ClientCommands.disconnect, guarded('Disconnect', () => disconnectCommand(deps))),
        vscodeapi.registerCommand(ClientCommands.showStatus, guarded('Show Status', () => showStatusCommand(deps))),
        vscodeapi.registerCommand(
            ClientCommands.openConnectedTerminal,
            guarded('Open Connected Terminal', () => openConnectedTerminal(running, connection)),
        ),
        vscodeapi.registerCommand(
            ClientCommands.createConfig,
            guarded('Create config', () =>
                createConfig(async () => (await resolveInterpreter(vscodeapi.getWorkspaceFolders()[0])).command),
            ),
        ),
        vscodeapi.registerCommand(ClientCommands.restartServer, guarded('Restart Server', () => running.restart())),
        vscodeapi.registerCommand(STATUS_MENU_COMMAND, guarded('Status menu', () => statusBar.showMenu())),
        vscodeapi.registerDebugConfigurationProvider('*', new KubelocalDebugConfigurationProvider(deps)),
        vscodeapi.onDidTerminateDebugSession((session) => disconnectAfterDebugging(session, deps)),
        vscodeapi.registerTaskProvider(TaskTypes.connect, new ConnectTaskProvider(deps)),
        vscodeapi.registerTaskProvider(TaskTypes.bridgeToKubernetes, new ConnectTaskProvider(deps)),
        // After every (re)start the server may have re-attached to a session on disk: read it.
        running.onDidStart(() => connection.refresh().catch((error) => traceError('Reading the status failed', error))),
        vscodeapi.onDidChangeConfiguration((event) => needsRestart(event) && running.restart()),
    );

    const python = await pythonExtensionApi();
    if (python?.environments?.onDidChangeActiveEnvironmentPath) {
        context.subscriptions.push(
            python.environments.onDidChangeActiveEnvironmentPath(() => {
                if (readSettings(vscodeapi.getWorkspaceFolders()[0]).interpreter.length === 0) {
                    void running.restart();
                }
            }),
        );
    }
    await running.restart();
}

export async function deactivate(): Promise<void> {
    await server?.stop();
    server = undefined;
}
