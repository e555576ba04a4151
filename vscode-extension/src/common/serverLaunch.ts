/**
 * How the server is started and which documents it serves: pure functions, kept apart from
 * server.ts (which needs the real VS Code through vscode-languageclient) so they are unit-tested.
 */
import { CONFIG_FILENAME, ServerInfo } from './constants';
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
