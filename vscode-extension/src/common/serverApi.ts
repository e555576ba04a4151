/**
 * What the rest of the extension needs from the language server: typed command calls and the
 * session notifications. `server.ts` implements it over vscode-languageclient; tests use fakes.
 */
import type * as vscode from 'vscode';
import type { ServerCommand, ServerCommandSignatures, Status } from './contract';

/** One work-done progress value from the server (begin or report). */
export interface ProgressUpdate {
    title?: string;
    message?: string;
    /** 0-100 when the server knows how far it is. */
    percentage?: number;
}

export interface RunOptions {
    /** Cancelling it sends $/cancelRequest for the command. */
    token?: vscode.CancellationToken;
    /** When given, the request carries a work-done token and the server's progress comes here. */
    onProgress?: (update: ProgressUpdate) => void;
}

export interface ServerApi {
    /**
     * Runs a server command with its one argument object. Rejects with the server's error (whose
     * message says what to do), or when the server is not running.
     */
    run<C extends ServerCommand>(
        command: C,
        args: ServerCommandSignatures[C]['args'],
        options?: RunOptions,
    ): Promise<ServerCommandSignatures[C]['result']>;

    /** Fires with every `kubelocal/sessionChanged` notification, across server restarts. */
    readonly onSessionChanged: vscode.Event<Status>;
}
