/**
 * The extension's log, written to the "Kubelocal" log output channel (shared with the server's
 * log). Before `registerLogger` runs (and in unit tests) messages are dropped.
 */
import type * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

export function registerLogger(outputChannel: vscode.LogOutputChannel): vscode.Disposable {
    channel = outputChannel;
    return {
        dispose: () => {
            channel = undefined;
        },
    };
}

export function traceInfo(message: string): void {
    channel?.info(message);
}

export function traceWarn(message: string): void {
    channel?.warn(message);
}

export function traceError(message: string, error?: unknown): void {
    channel?.error(error === undefined ? message : `${message}: ${errorMessage(error)}`);
}

export function traceDebug(message: string): void {
    channel?.debug(message);
}

/** The message of anything thrown (an Error, a JSON-RPC ResponseError, a string). */
export function errorMessage(error: unknown): string {
    if (error instanceof Error) {
        return error.message;
    }
    return String(error);
}
