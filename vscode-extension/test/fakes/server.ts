/**
 * A fake language server: answers each command from a table the test fills, records every call
 * (command, argument object, whether progress was asked for), and can report progress or honour
 * cancellation for `connect`.
 */
import type * as vscode from 'vscode';
import { EventEmitter } from './vscode';
import { ServerCommand, ServerCommandSignatures, Status } from '../../src/common/contract';
import { RunOptions, ServerApi } from '../../src/common/serverApi';

type Handler<C extends ServerCommand> = (
    args: ServerCommandSignatures[C]['args'],
    options: RunOptions,
) => ServerCommandSignatures[C]['result'] | Promise<ServerCommandSignatures[C]['result']>;

export class FakeServer implements ServerApi {
    readonly calls: { command: ServerCommand; args: unknown; withProgress: boolean }[] = [];
    private readonly handlers: Partial<{ [C in ServerCommand]: Handler<C> }> = {};
    private readonly emitter = new EventEmitter<Status>();
    readonly onSessionChanged = this.emitter.event as unknown as vscode.Event<Status>;

    on<C extends ServerCommand>(command: C, handler: Handler<C>): this {
        (this.handlers as Record<string, unknown>)[command] = handler;
        return this;
    }

    notify(status: Status): void {
        this.emitter.fire(status);
    }

    callsOf(command: ServerCommand): unknown[] {
        return this.calls.filter((call) => call.command === command).map((call) => call.args);
    }

    async run<C extends ServerCommand>(
        command: C,
        args: ServerCommandSignatures[C]['args'],
        options: RunOptions = {},
    ): Promise<ServerCommandSignatures[C]['result']> {
        this.calls.push({ command, args, withProgress: options.onProgress !== undefined });
        const handler = this.handlers[command] as Handler<C> | undefined;
        if (!handler) {
            throw new Error(`the fake server has no answer for ${command}`);
        }
        return handler(args, options);
    }
}
