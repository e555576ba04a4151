import * as fs from 'fs';
import * as path from 'path';

/** The file the server validates and the connect flow reads, in the workspace folder's root. */
export const CONFIG_FILENAME = 'KubernetesLocalProcessConfig.yaml';

/** The output channel that holds both the extension's log and the server's. */
export const OUTPUT_CHANNEL_NAME = 'Kubelocal';

/** The client id: vscode-languageclient reads the `kubelocal.trace.server` setting from it. */
export const CLIENT_ID = 'kubelocal';

/** Registered but not contributed: the status bar item's click target. */
export const STATUS_MENU_COMMAND = 'kubelocal.statusBarMenu';

/** Used when neither the setting nor the Python extension names an interpreter. */
export const DEFAULT_INTERPRETER = 'python3';

/** The property that marks a debug configuration whose environment came from a session (its id). */
export const DEBUG_SESSION_MARKER = 'kubelocalSessionId';

/** The Python extension, whose API gives the interpreter selected in the workspace. */
export const PYTHON_EXTENSION_ID = 'ms-python.python';

/** The server, named once: package.json's `serverInfo`. */
export interface ServerInfo {
    name: string;
    module: string;
}

/** Reads `serverInfo` from the extension's package.json. */
export function loadServerInfo(extensionRoot: string): ServerInfo {
    const packageJson = JSON.parse(fs.readFileSync(path.join(extensionRoot, 'package.json'), 'utf8')) as {
        serverInfo: ServerInfo;
    };
    return packageJson.serverInfo;
}
