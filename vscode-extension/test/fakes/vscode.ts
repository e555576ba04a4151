/**
 * A fake of the parts of the `vscode` module the extension uses. Tests script the user's answers
 * (quick picks, input boxes, message buttons) and the settings through `fake`, and read back what
 * the extension showed, wrote and created. Unscripted prompts throw, so a test notices a step it
 * did not expect.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import * as path from 'path';

export interface QuickPickCall {
    items: any[];
    options: any;
}
export interface InputBoxCall {
    options: any;
}
export interface MessageCall {
    level: 'information' | 'warning' | 'error';
    message: string;
    actions: string[];
}

type QuickPickAnswer = (items: any[], options: any) => any;
type InputBoxAnswer = (options: any) => string | undefined;

export class Disposable {
    constructor(private readonly onDispose: () => void = () => undefined) {}
    dispose(): void {
        this.onDispose();
    }
}

export class EventEmitter<T> {
    private listeners: ((value: T) => unknown)[] = [];
    readonly event = (listener: (value: T) => unknown): Disposable => {
        this.listeners.push(listener);
        return new Disposable(() => {
            this.listeners = this.listeners.filter((l) => l !== listener);
        });
    };
    fire(value: T): void {
        for (const listener of [...this.listeners]) {
            listener(value);
        }
    }
    dispose(): void {
        this.listeners = [];
    }
}

export class CancellationTokenSource {
    private readonly emitter = new EventEmitter<void>();
    readonly token = {
        isCancellationRequested: false,
        onCancellationRequested: this.emitter.event,
    };
    cancel(): void {
        this.token.isCancellationRequested = true;
        this.emitter.fire();
    }
    dispose(): void {
        this.emitter.dispose();
    }
}

export enum ProgressLocation {
    SourceControl = 1,
    Window = 10,
    Notification = 15,
}
export enum StatusBarAlignment {
    Left = 1,
    Right = 2,
}
export enum TaskScope {
    Global = 1,
    Workspace = 2,
}
export enum ConfigurationTarget {
    Global = 1,
    Workspace = 2,
    WorkspaceFolder = 3,
}

export class Uri {
    private constructor(readonly fsPath: string) {}
    static file(fsPath: string): Uri {
        return new Uri(path.resolve(fsPath));
    }
    toString(): string {
        return `file://${this.fsPath}`;
    }
}

export class CustomExecution {
    constructor(readonly callback: (definition: any) => Promise<any>) {}
}

export class Task {
    constructor(
        readonly definition: any,
        readonly scope: any,
        readonly name: string,
        readonly source: string,
        readonly execution?: any,
    ) {}
}

export function workspaceFolder(fsPath: string, name = path.basename(fsPath)): any {
    return { uri: Uri.file(fsPath), name, index: 0 };
}

class FakeState {
    quickPickAnswers: QuickPickAnswer[] = [];
    inputBoxAnswers: InputBoxAnswer[] = [];
    quickPicks: QuickPickCall[] = [];
    inputBoxes: InputBoxCall[] = [];
    /** The titles of quick picks and input boxes, in the order they were shown. */
    prompts: string[] = [];
    messages: MessageCall[] = [];
    /** Chooses the button of each message; default: dismissed. */
    messageAnswer: (call: MessageCall) => string | undefined = () => undefined;
    /** Settings by section, then key (dotted keys as VS Code's get accepts them). */
    configuration: Record<string, Record<string, unknown>> = {};
    /** Every configuration update, in order. */
    updates: { section: string; key: string; value: unknown; target: unknown }[] = [];
    workspaceFolders: any[] | undefined = undefined;
    statusBarItems: any[] = [];
    terminals: any[] = [];
    openedDocuments: string[] = [];
    executedCommands: { command: string; args: unknown[] }[] = [];
    startedDebugging: { folder: unknown; name: string }[] = [];
    progress: { options: any; reports: { message?: string; increment?: number }[]; token: CancellationTokenSource }[] = [];
    /** Set by a test to cancel the progress notification as soon as it shows. */
    cancelProgressImmediately = false;
    extensions: Record<string, any> = {};
    registeredCommands: string[] = [];
    debugProviders: string[] = [];
    taskProviders: string[] = [];

    reset(): void {
        Object.assign(this, new FakeState());
    }
}

export const fake = new FakeState();

export const window = {
    showQuickPick: async (items: any, options: any): Promise<any> => {
        const resolved = await items;
        fake.quickPicks.push({ items: resolved, options });
        fake.prompts.push(options?.title ?? options?.placeHolder);
        const answer = fake.quickPickAnswers.shift();
        if (!answer) {
            throw new Error(`unexpected quick pick: ${options?.title ?? options?.placeHolder}`);
        }
        return answer(resolved, options);
    },
    showInputBox: async (options: any): Promise<string | undefined> => {
        fake.inputBoxes.push({ options });
        fake.prompts.push(options?.title ?? options?.prompt);
        const answer = fake.inputBoxAnswers.shift();
        if (!answer) {
            throw new Error(`unexpected input box: ${options?.title ?? options?.prompt}`);
        }
        return answer(options);
    },
    showInformationMessage: async (message: string, ...actions: string[]) => message_('information', message, actions),
    showWarningMessage: async (message: string, ...actions: string[]) => message_('warning', message, actions),
    showErrorMessage: async (message: string, ...actions: string[]) => message_('error', message, actions),
    withProgress: async (options: any, task: (progress: any, token: any) => Promise<any>): Promise<any> => {
        const record = { options, reports: [] as { message?: string; increment?: number }[], token: new CancellationTokenSource() };
        fake.progress.push(record);
        if (fake.cancelProgressImmediately) {
            record.token.cancel();
        }
        return task({ report: (value: any) => record.reports.push(value) }, record.token.token);
    },
    createStatusBarItem: (alignment: StatusBarAlignment, priority: number): any => {
        const item = {
            alignment,
            priority,
            text: '',
            tooltip: '' as unknown,
            command: undefined as unknown,
            name: undefined as unknown,
            visible: false,
            show() {
                item.visible = true;
            },
            hide() {
                item.visible = false;
            },
            dispose() {
                item.visible = false;
            },
        };
        fake.statusBarItems.push(item);
        return item;
    },
    createOutputChannel: (name: string): any => ({
        name,
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
        debug: () => undefined,
        dispose: () => undefined,
    }),
    createTerminal: (options: any): any => {
        const terminal = { options, shown: false, show: () => (terminal.shown = true) };
        fake.terminals.push(terminal);
        return terminal;
    },
    showWorkspaceFolderPick: async (): Promise<any> => fake.workspaceFolders?.[0],
    showTextDocument: async (document: any): Promise<void> => {
        fake.openedDocuments.push(document.uri.fsPath);
    },
};

function message_(level: MessageCall['level'], message: string, actions: string[]): string | undefined {
    const call = { level, message, actions };
    fake.messages.push(call);
    return fake.messageAnswer(call);
}

export const workspace = {
    get workspaceFolders(): any[] | undefined {
        return fake.workspaceFolders;
    },
    getConfiguration: (section: string): any => {
        const values = (fake.configuration[section] ??= {});
        return {
            get: <T>(key: string, defaultValue?: T): T | undefined =>
                key in values ? (values[key] as T) : defaultValue,
            has: (key: string) => key in values,
            update: async (key: string, value: unknown, target: unknown) => {
                values[key] = value;
                fake.updates.push({ section, key, value, target });
            },
        };
    },
    onDidChangeConfiguration: () => new Disposable(),
    getWorkspaceFolder: (): any => fake.workspaceFolders?.[0],
    openTextDocument: async (uri: Uri): Promise<any> => ({ uri }),
};

export const commands = {
    registerCommand: (command: string): Disposable => {
        fake.registeredCommands.push(command);
        return new Disposable(() => {
            fake.registeredCommands = fake.registeredCommands.filter((registered) => registered !== command);
        });
    },
    executeCommand: async (command: string, ...args: unknown[]): Promise<undefined> => {
        fake.executedCommands.push({ command, args });
        return undefined;
    },
};

export const debug = {
    registerDebugConfigurationProvider: (debugType: string): Disposable => {
        fake.debugProviders.push(debugType);
        return new Disposable();
    },
    onDidTerminateDebugSession: () => new Disposable(),
    startDebugging: async (folder: unknown, name: string): Promise<boolean> => {
        fake.startedDebugging.push({ folder, name });
        return true;
    },
};

export const tasks = {
    registerTaskProvider: (type: string): Disposable => {
        fake.taskProviders.push(type);
        return new Disposable();
    },
};

export const extensions = {
    getExtension: (id: string): any => fake.extensions[id],
};
