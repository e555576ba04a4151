/** The status bar item that follows the session, and its menu. */
import * as vscode from 'vscode';
import { Connection } from './connection';
import { STATUS_MENU_COMMAND } from './constants';
import { ClientCommands, Status } from './contract';
import * as vscodeapi from './vscodeapi';

export interface Presentation {
    text: string;
    tooltip: string;
}

/** What the item shows for a status. */
export function presentation(status: Status): Presentation {
    const session = status.session;
    switch (status.state) {
        case 'connected':
            return {
                text: `$(plug) Kubelocal: ${session?.service ?? 'connected'}`,
                tooltip: session
                    ? `Connected: ${session.service} in ${session.namespace} (${session.context}) runs on this workstation, ports ${session.localPorts.join(', ')}. Click for actions.`
                    : 'Connected. Click for actions.',
            };
        case 'connecting':
            return { text: '$(sync~spin) Kubelocal: connecting…', tooltip: status.message ?? 'Connecting…' };
        case 'disconnecting':
            return { text: '$(sync~spin) Kubelocal: disconnecting…', tooltip: status.message ?? 'Restoring the cluster…' };
        case 'error':
            return {
                text: '$(error) Kubelocal: error',
                tooltip: `${status.message ?? 'The session failed.'} Click for actions.`,
            };
        case 'disconnected':
            return { text: '$(debug-disconnect) Kubelocal: disconnected', tooltip: 'Not connected. Click to connect.' };
    }
}

export interface MenuItem extends vscode.QuickPickItem {
    command: string;
}

/** The menu's actions for a status: connect when there is no session, the session's actions when there is. */
export function menuItems(status: Status): MenuItem[] {
    const connect: MenuItem = { label: '$(plug) Connect to Cluster', command: ClientCommands.connect };
    const showStatus: MenuItem = { label: '$(info) Show Status', command: ClientCommands.showStatus };
    switch (status.state) {
        case 'connected':
            return [
                { label: '$(terminal) Open Connected Terminal', command: ClientCommands.openConnectedTerminal },
                showStatus,
                { label: '$(debug-disconnect) Disconnect', command: ClientCommands.disconnect },
            ];
        case 'connecting':
        case 'disconnecting':
            return [showStatus];
        case 'error':
            return [connect, showStatus, { label: '$(debug-disconnect) Disconnect', command: ClientCommands.disconnect }];
        case 'disconnected':
            return [connect, showStatus];
    }
}

export class StatusBar implements vscode.Disposable {
    private readonly item: vscode.StatusBarItem;
    private readonly subscription: vscode.Disposable;

    constructor(private readonly connection: Connection) {
        this.item = vscodeapi.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
        this.item.name = 'Kubelocal';
        this.item.command = STATUS_MENU_COMMAND;
        this.show(connection.status);
        this.item.show();
        this.subscription = connection.onDidChangeStatus((status) => this.show(status));
    }

    private show(status: Status): void {
        const { text, tooltip } = presentation(status);
        this.item.text = text;
        this.item.tooltip = tooltip;
    }

    /** Shows the menu and runs the chosen action's command. */
    async showMenu(): Promise<void> {
        const picked = await vscodeapi.showQuickPick(menuItems(this.connection.status), { placeHolder: 'Kubelocal' });
        if (picked) {
            await vscodeapi.executeCommand(picked.command);
        }
    }

    dispose(): void {
        this.subscription.dispose();
        this.item.dispose();
    }
}
