/**
 * "Create KubernetesLocalProcessConfig.yaml": the server's CLI writes its commented starter file
 * (`<interpreter> -m kubelocal config init <path>`), then the file opens. An existing file is
 * opened, never overwritten.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { CONFIG_FILENAME } from './constants';
import { traceInfo } from './logger';
import * as vscodeapi from './vscodeapi';

export interface ProcessResult {
    code: number;
    stdout: string;
    stderr: string;
}

export type ProcessRunner = (command: string, args: string[]) => Promise<ProcessResult>;

export const runProcess: ProcessRunner = (command, args) =>
    new Promise((resolve) => {
        execFile(command, args, { timeout: 30_000 }, (error, stdout, stderr) => {
            const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
            resolve({ code, stdout, stderr: stderr || (error && !stderr ? error.message : stderr) });
        });
    });

/** The command line that writes the starter file. */
export function initCommandLine(interpreter: readonly string[], file: string): { command: string; args: string[] } {
    const [command, ...leading] = interpreter;
    return { command, args: [...leading, '-m', 'kubelocal', 'config', 'init', file] };
}

/** Resolves to the file's path when it exists afterwards (created or already there), else undefined. */
export async function createConfig(
    interpreter: () => Promise<string[]>,
    run: ProcessRunner = runProcess,
): Promise<string | undefined> {
    const folders = vscodeapi.getWorkspaceFolders();
    const folder =
        folders.length <= 1
            ? folders[0]
            : await vscodeapi.showWorkspaceFolderPick({ placeHolder: `Folder to create ${CONFIG_FILENAME} in` });
    if (!folder) {
        if (folders.length === 0) {
            await vscodeapi.showErrorMessage(`Kubelocal: open your service's folder first; ${CONFIG_FILENAME} goes in its root.`);
        }
        return undefined;
    }
    const file = path.join(folder.uri.fsPath, CONFIG_FILENAME);
    if (fs.existsSync(file)) {
        await vscodeapi.openTextDocument(vscode.Uri.file(file));
        await vscodeapi.showInformationMessage(`Kubelocal: ${CONFIG_FILENAME} already exists; opened it.`);
        return file;
    }
    const { command, args } = initCommandLine(await interpreter(), file);
    traceInfo(`Running ${[command, ...args].join(' ')}`);
    const result = await run(command, args);
    if (result.code !== 0) {
        await vscodeapi.showErrorMessage(
            `Kubelocal could not create ${CONFIG_FILENAME} with '${command}': ${result.stderr.trim() || `exit code ${result.code}`}. ` +
                'Install kubelocal into that interpreter (pip install kubelocal) or set kubelocal.interpreter.',
        );
        return undefined;
    }
    await vscodeapi.openTextDocument(vscode.Uri.file(file));
    return file;
}
