/**
 * How the server is started, which documents it serves, and how its work-done progress reads: pure functions, kept apart from
 * server.ts (which needs the real VS Code through vscode-languageclient) so they are unit-tested.
 */
import type { Executable, WorkDoneProgressBegin, WorkDoneProgressEnd, WorkDoneProgressReport } from 'vscode-languageclient/node';
import { CONFIG_FILENAME, ServerInfo } from './constants';
import { ProgressUpdate } from './serverApi';
import { Settings } from './settings';

/** The documents the server serves: the config file by name, plus the configured patterns. */
export function documentSelector(settings: Settings): { scheme: string; pattern: string }[] {
    return [`**/${CONFIG_FILENAME}`, ...settings.configFilePatterns].map((pattern) => ({ scheme: 'file', pattern }));
}

/** The server's command line: the interpreter's command, `-m <module>`, then the extra arguments. */
export function serverCommandLine(
    interpreter: readonly string[],
    serverInfo: ServerInfo,
    serverArgs: readonly string[],
): { command: string; args: string[] } {
    const [command, ...leading] = interpreter;
    return { command, args: [...leading, '-m', serverInfo.module, ...serverArgs] };
}

/**
 * How vscode-languageclient runs the server: the command line as is, over stdio, in `cwd`. No
 * `transport`: with `TransportKind.stdio` the client appends `--stdio` to the arguments, which
 * `kubelocal.lsp` (stdio only) rejects, so the server would never start in a real VS Code.
 */
export function serverExecutable(commandLine: { command: string; args: string[] }, cwd: string | undefined): Executable {
    return { command: commandLine.command, args: commandLine.args, options: { cwd } };
}

/** Passes the server's work-done progress (begin and report; end is the response) on as updates. */
export function progressHandler(
    onProgress: (update: ProgressUpdate) => void,
): (value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd) => void {
    return (value) => {
        if (value.kind === 'begin') {
            onProgress({ title: value.title, message: value.message, percentage: value.percentage });
        } else if (value.kind === 'report') {
            onProgress({ message: value.message, percentage: value.percentage });
        }
    };
}
