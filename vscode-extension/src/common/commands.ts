/** The client-side commands: what each palette entry does, built from the other modules. */
import * as fs from 'fs';
import * as path from 'path';
import type * as vscode from 'vscode';
import { Connection, connectWithProgress } from './connection';
import { CONFIG_FILENAME } from './constants';
import { ClientCommands, ConnectArguments, Status } from './contract';
import { writeDebugSetup } from './debugSetup';
import { errorMessage, traceError } from './logger';
import { pickConnection } from './pickers';
import { ServerApi } from './serverApi';
import { Settings } from './settings';
import * as vscodeapi from './vscodeapi';

export interface CommandDeps {
    server: ServerApi;
    connection: Connection;
    settings: (folder: vscode.WorkspaceFolder | undefined) => Settings;
}

/** Runs a command's body; an error becomes one message that says what to do, and a log entry. */
export function guarded<A extends unknown[]>(name: string, body: (...args: A) => Promise<unknown>): (...args: A) => Promise<void> {
    return async (...args: A) => {
        try {
            await body(...args);
        } catch (error) {
            traceError(`${name} failed`, error);
            await vscodeapi.showErrorMessage(`Kubelocal: ${errorMessage(error)}`);
        }
    };
}

async function pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
    const folders = vscodeapi.getWorkspaceFolders();
    if (folders.length === 0) {
        await vscodeapi.showErrorMessage("Kubelocal: open your service's folder first; the workstation side of the session runs there.");
        return undefined;
    }
    return folders.length === 1 ? folders[0] : vscodeapi.showWorkspaceFolderPick({ placeHolder: "Your service's folder" });
}

/** "Connect to Cluster": the wizard, then the connection, then the debug set-up when one was chosen. */
export async function connectFlow(deps: CommandDeps): Promise<void> {
    const folder = await pickFolder();
    if (!folder) {
        return;
    }
    const current = deps.connection.session;
    if (current) {
        const answer = await vscodeapi.showWarningMessage(
            `Kubelocal is connected to ${current.service}. Disconnect it and connect another service?`,
            'Disconnect',
        );
        if (!answer) {
            return;
        }
        await deps.connection.disconnect(current.id);
    }
    const choice = await pickConnection(deps.server, folder);
    if (!choice) {
        return;
    }
    const configFile = path.join(folder.uri.fsPath, CONFIG_FILENAME);
    const args: ConnectArguments = {
        context: choice.context,
        namespace: choice.namespace,
        service: choice.service,
        localPorts: choice.localPorts,
        workspaceFolder: folder.uri.fsPath,
        hostsMode: deps.settings(folder).hostsMode,
        ...(fs.existsSync(configFile) ? { configFile } : {}),
    };
    const session = await connectWithProgress(deps.connection, args);
    if (!session) {
        return;
    }
    if (choice.launchConfiguration) {
        const copy = await writeDebugSetup(folder, choice.launchConfiguration, choice);
        const action = await vscodeapi.showInformationMessage(
            `Kubelocal: connected to ${session.service}. Debug "${copy.name}" to run it with the cluster's environment.`,
            'Start Debugging',
        );
        if (action) {
            await vscodeapi.startDebugging(folder, copy.name);
        }
    } else {
        const action = await vscodeapi.showInformationMessage(
            `Kubelocal: connected to ${session.service}. Its traffic comes to workstation ports ${session.localPorts.join(', ')}.`,
            'Open Connected Terminal',
        );
        if (action) {
            await vscodeapi.executeCommand(ClientCommands.openConnectedTerminal);
        }
    }
}

export async function disconnectCommand(deps: CommandDeps): Promise<void> {
    if (deps.connection.status.state === 'disconnected') {
        await vscodeapi.showInformationMessage('Kubelocal is not connected.');
        return;
    }
    await deps.connection.disconnect();
    await vscodeapi.showInformationMessage('Kubelocal: disconnected; the cluster is as it was.');
}

/** One sentence per status, for "Show Status". */
export function describeStatus(status: Status): string {
    const session = status.session;
    const where = session ? `${session.service} in ${session.namespace} (context ${session.context})` : '';
    switch (status.state) {
        case 'connected':
            return session
                ? `Connected: ${where} runs on this workstation since ${session.startedAt}; workload ${session.workload}, container ${session.container}, workstation ports ${session.localPorts.join(', ')}, names resolved through ${session.hostsMode === 'hosts' ? 'the hosts file' : 'environment variables'}.`
                : 'Connected.';
        case 'connecting':
            return `Connecting${session ? ` ${where}` : ''}…${status.message ? ` ${status.message}` : ''}`;
        case 'disconnecting':
            return `Disconnecting${session ? ` ${where}` : ''}: restoring the cluster…`;
        case 'error':
            return `The session failed: ${status.message ?? 'no details'}. Disconnect to restore the cluster, then connect again.`;
        case 'disconnected':
            return 'Not connected. Run "Kubelocal: Connect to Cluster" to start.';
    }
}

export async function showStatusCommand(deps: CommandDeps): Promise<void> {
    const status = await deps.connection.refresh();
    await vscodeapi.showInformationMessage(`Kubelocal: ${describeStatus(status)}`);
}
