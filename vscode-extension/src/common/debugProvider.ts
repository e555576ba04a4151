/**
 * Debugging with the cluster's environment: a debug configuration provider for every debug type
 * that, while a session is connected, has the server inject the session's environment (as `env`,
 * or `envFile` so secrets stay out of launch.json), and disconnecting when such a debug session
 * ends.
 */
import type * as vscode from 'vscode';
import { Connection } from './connection';
import { DEBUG_SESSION_MARKER } from './constants';
import { DebugConfigurationObject, ServerCommands } from './contract';
import { traceError, traceInfo } from './logger';
import { ServerApi } from './serverApi';
import { Settings } from './settings';
import * as vscodeapi from './vscodeapi';

export class KubelocalDebugConfigurationProvider implements vscode.DebugConfigurationProvider {
    constructor(
        private readonly deps: {
            server: ServerApi;
            connection: Connection;
            settings: (folder: vscode.WorkspaceFolder | undefined) => Settings;
        },
    ) {}

    /**
     * Unchanged when no session is connected or the configuration already has the environment
     * (a restart); else the server's configuration, marked with the session id. A server error
     * stops the launch with the message rather than debugging without the cluster's environment.
     */
    async resolveDebugConfigurationWithSubstitutedVariables(
        folder: vscode.WorkspaceFolder | undefined,
        configuration: vscode.DebugConfiguration,
        token?: vscode.CancellationToken,
    ): Promise<vscode.DebugConfiguration | undefined> {
        const session = this.deps.connection.session;
        if (!session || configuration[DEBUG_SESSION_MARKER] === session.id) {
            return configuration;
        }
        const workspaceFolder = folder ?? vscodeapi.getWorkspaceFolders()[0];
        try {
            const result = await this.deps.server.run(
                ServerCommands.launchConfiguration,
                {
                    workspaceFolder: workspaceFolder?.uri.fsPath ?? '',
                    base: configuration as DebugConfigurationObject,
                    useEnvFile: this.deps.settings(workspaceFolder).useEnvFile,
                },
                { token },
            );
            traceInfo(
                `Debugging "${configuration.name}" with the environment of ${session.service}; it must listen on port ${result.listenPort}.`,
            );
            return { ...result.configuration, [DEBUG_SESSION_MARKER]: session.id };
        } catch (error) {
            if (token?.isCancellationRequested) {
                return undefined;
            }
            traceError('Injecting the cluster environment failed', error);
            await vscodeapi.showErrorMessage(
                `Kubelocal could not give "${configuration.name}" the cluster's environment: ${String(
                    error instanceof Error ? error.message : error,
                )}`,
            );
            return undefined;
        }
    }
}

/**
 * Disconnects when a debug session that got a session's environment ends, if the setting says so
 * and this window started that session (a session re-attached to, e.g. one started from the CLI,
 * is left alone). Resolves to whether it disconnected.
 */
export async function disconnectAfterDebugging(
    debugSession: Pick<vscode.DebugSession, 'configuration' | 'workspaceFolder'>,
    deps: { connection: Connection; settings: (folder: vscode.WorkspaceFolder | undefined) => Settings },
): Promise<boolean> {
    const sessionId: unknown = debugSession.configuration[DEBUG_SESSION_MARKER];
    if (typeof sessionId !== 'string') {
        return false;
    }
    if (!deps.settings(debugSession.workspaceFolder).disconnectAfterDebugging) {
        return false;
    }
    const current = deps.connection.session;
    if (!current || current.id !== sessionId || !deps.connection.startedInThisWindow(sessionId)) {
        return false;
    }
    traceInfo(`Debugging ended: disconnecting ${current.service} (kubelocal.disconnectAfterDebugging).`);
    try {
        await deps.connection.disconnect(sessionId);
        return true;
    } catch (error) {
        traceError('Disconnecting after debugging failed', error);
        await vscodeapi.showErrorMessage(
            `Kubelocal could not disconnect after debugging: ${error instanceof Error ? error.message : String(error)}`,
        );
        return false;
    }
}
