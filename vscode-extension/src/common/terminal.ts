/** "Open Connected Terminal": a terminal whose environment is the connected session's. */
import type * as vscode from 'vscode';
import { Connection } from './connection';
import { ClientCommands, ServerCommands } from './contract';
import { ServerApi } from './serverApi';
import * as vscodeapi from './vscodeapi';

/** Opens the terminal, or, when not connected, offers to connect. Resolves to the terminal if opened. */
export async function openConnectedTerminal(
    server: ServerApi,
    connection: Connection,
): Promise<vscode.Terminal | undefined> {
    const session = connection.session;
    if (!session) {
        const action = await vscodeapi.showInformationMessage(
            'Kubelocal is not connected: connect to a service first, then open the terminal.',
            'Connect to Cluster',
        );
        if (action) {
            await vscodeapi.executeCommand(ClientCommands.connect);
        }
        return undefined;
    }
    const { env } = await server.run(ServerCommands.env, { sessionId: session.id });
    const folder = vscodeapi.getWorkspaceFolders()[0];
    const terminal = vscodeapi.createTerminal({
        name: `Kubelocal: ${session.service}`,
        env,
        cwd: folder?.uri,
    });
    terminal.show();
    return terminal;
}
