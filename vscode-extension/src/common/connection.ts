/**
 * The workstation's view of the session: the last status the server reported, and connecting or
 * disconnecting through the server. One instance per window.
 */
import * as vscode from 'vscode';
import { ConnectArguments, ServerCommands, Session, Status } from './contract';
import { traceInfo } from './logger';
import { ProgressUpdate, ServerApi } from './serverApi';
import * as vscodeapi from './vscodeapi';

export class Connection implements vscode.Disposable {
    private current: Status = { state: 'disconnected' };
    private readonly changed = new vscode.EventEmitter<Status>();
    readonly onDidChangeStatus = this.changed.event;
    /** Sessions this window started (wizard or task); others were re-attached to, e.g. from the CLI. */
    private readonly startedHere = new Set<string>();
    private readonly subscription: vscode.Disposable;

    constructor(private readonly server: ServerApi) {
        this.subscription = server.onSessionChanged((status) => this.update(status));
    }

    get status(): Status {
        return this.current;
    }

    /** The session when connected, else undefined. */
    get session(): Session | undefined {
        return this.current.state === 'connected' ? this.current.session : undefined;
    }

    startedInThisWindow(sessionId: string): boolean {
        return this.startedHere.has(sessionId);
    }

    update(status: Status): void {
        this.current = status;
        this.changed.fire(status);
    }

    /** Asks the server for the status (e.g. after it restarted and re-attached to a session on disk). */
    async refresh(): Promise<Status> {
        this.update(await this.server.run(ServerCommands.status, {}));
        return this.current;
    }

    /**
     * Connects through the server, passing its progress on. Resolves to the session, or to
     * undefined when the token cancelled it (the server undoes what it did). Server errors reject
     * after the status has been re-read, so the status bar does not stay on "connecting".
     */
    async connect(
        args: ConnectArguments,
        options: { token?: vscode.CancellationToken; onProgress?: (update: ProgressUpdate) => void } = {},
    ): Promise<Session | undefined> {
        this.update({ state: 'connecting', message: `Connecting to ${args.service}` });
        try {
            const session = await this.server.run(ServerCommands.connect, args, options);
            this.startedHere.add(session.id);
            this.update({ state: 'connected', session });
            traceInfo(`Connected to ${session.service} in ${session.namespace} (session ${session.id}).`);
            return session;
        } catch (error) {
            await this.refresh().catch(() => this.update({ state: 'disconnected' }));
            if (options.token?.isCancellationRequested) {
                traceInfo(`Connecting to ${args.service} was cancelled.`);
                return undefined;
            }
            throw error;
        }
    }

    /** Disconnects the given session (default: the current one) and restores the cluster. */
    async disconnect(sessionId?: string): Promise<void> {
        const id = sessionId ?? this.current.session?.id;
        this.update({ state: 'disconnecting', session: this.current.session });
        try {
            await this.server.run(ServerCommands.disconnect, id === undefined ? {} : { sessionId: id });
            if (id !== undefined) {
                this.startedHere.delete(id);
            }
            this.update({ state: 'disconnected' });
        } catch (error) {
            await this.refresh().catch(() => undefined);
            throw error;
        }
    }

    dispose(): void {
        this.subscription.dispose();
        this.changed.dispose();
    }
}

/**
 * Turns the server's percentages (absolute) into VS Code's increments (relative), and shows the
 * step's message.
 */
export function progressToIncrements(
    progress: vscode.Progress<{ message?: string; increment?: number }>,
): (update: ProgressUpdate) => void {
    let reported = 0;
    return (update) => {
        let increment: number | undefined;
        if (update.percentage !== undefined && update.percentage > reported) {
            increment = update.percentage - reported;
            reported = update.percentage;
        }
        progress.report({ message: update.message ?? update.title, increment });
    };
}

/** Connects with a cancellable notification showing each step the server reports. */
export function connectWithProgress(connection: Connection, args: ConnectArguments): Thenable<Session | undefined> {
    return vscodeapi.withProgress(
        {
            location: vscode.ProgressLocation.Notification,
            title: `Kubelocal: connecting ${args.service} (${args.namespace})`,
            cancellable: true,
        },
        (progress, token) => connection.connect(args, { token, onProgress: progressToIncrements(progress) }),
    );
}
