/**
 * Thin wrappers around the VS Code API calls the extension makes. Everything else calls these,
 * never `vscode.window`/`vscode.workspace` directly, so unit tests replace one module (the
 * `vscode` module, by the fake in test/fakes) and see every call.
 */
import * as vscode from 'vscode';

export function showQuickPick<T extends vscode.QuickPickItem>(
    items: readonly T[] | Thenable<readonly T[]>,
    options: vscode.QuickPickOptions,
    token?: vscode.CancellationToken,
): Thenable<T | undefined> {
    return vscode.window.showQuickPick(items, options, token);
}

export function showInputBox(options: vscode.InputBoxOptions): Thenable<string | undefined> {
    return vscode.window.showInputBox(options);
}

export function showInformationMessage(message: string, ...actions: string[]): Thenable<string | undefined> {
    return vscode.window.showInformationMessage(message, ...actions);
}

export function showWarningMessage(message: string, ...actions: string[]): Thenable<string | undefined> {
    return vscode.window.showWarningMessage(message, ...actions);
}

export function showErrorMessage(message: string, ...actions: string[]): Thenable<string | undefined> {
    return vscode.window.showErrorMessage(message, ...actions);
}

export function withProgress<R>(
    options: vscode.ProgressOptions,
    task: (
        progress: vscode.Progress<{ message?: string; increment?: number }>,
        token: vscode.CancellationToken,
    ) => Thenable<R>,
): Thenable<R> {
    return vscode.window.withProgress(options, task);
}

export function createStatusBarItem(alignment: vscode.StatusBarAlignment, priority: number): vscode.StatusBarItem {
    return vscode.window.createStatusBarItem(alignment, priority);
}

export function createOutputChannel(name: string): vscode.LogOutputChannel {
    return vscode.window.createOutputChannel(name, { log: true });
}

export function createTerminal(options: vscode.TerminalOptions): vscode.Terminal {
    return vscode.window.createTerminal(options);
}

export function showWorkspaceFolderPick(options: vscode.WorkspaceFolderPickOptions): Thenable<vscode.WorkspaceFolder | undefined> {
    return vscode.window.showWorkspaceFolderPick(options);
}

export async function openTextDocument(uri: vscode.Uri): Promise<void> {
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
}

export function getConfiguration(section: string, scope?: vscode.ConfigurationScope): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(section, scope);
}

export function onDidChangeConfiguration(
    listener: (event: vscode.ConfigurationChangeEvent) => unknown,
): vscode.Disposable {
    return vscode.workspace.onDidChangeConfiguration(listener);
}

export function getWorkspaceFolders(): readonly vscode.WorkspaceFolder[] {
    return vscode.workspace.workspaceFolders ?? [];
}

export function getWorkspaceFolder(uri: vscode.Uri): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.getWorkspaceFolder(uri);
}

export function registerCommand(command: string, callback: (...args: unknown[]) => unknown): vscode.Disposable {
    return vscode.commands.registerCommand(command, callback);
}

export function executeCommand<T>(command: string, ...args: unknown[]): Thenable<T | undefined> {
    return vscode.commands.executeCommand<T>(command, ...args);
}

export function registerDebugConfigurationProvider(
    debugType: string,
    provider: vscode.DebugConfigurationProvider,
): vscode.Disposable {
    return vscode.debug.registerDebugConfigurationProvider(debugType, provider);
}

export function onDidTerminateDebugSession(listener: (session: vscode.DebugSession) => unknown): vscode.Disposable {
    return vscode.debug.onDidTerminateDebugSession(listener);
}

export function startDebugging(folder: vscode.WorkspaceFolder | undefined, name: string): Thenable<boolean> {
    return vscode.debug.startDebugging(folder, name);
}

export function registerTaskProvider(type: string, provider: vscode.TaskProvider): vscode.Disposable {
    return vscode.tasks.registerTaskProvider(type, provider);
}

export function getExtension<T>(extensionId: string): vscode.Extension<T> | undefined {
    return vscode.extensions.getExtension<T>(extensionId);
}
