/**
 * The `kubelocal.*` settings (declared once, in package.json's contributes.configuration), the
 * object the server receives, and the choice of Python interpreter.
 */
import type * as vscode from 'vscode';
import { DEFAULT_INTERPRETER, PYTHON_EXTENSION_ID } from './constants';
import { HOSTS_MODES, HostsMode, SETTINGS_SECTION } from './contract';
import { traceWarn, errorMessage } from './logger';
import * as vscodeapi from './vscodeapi';

export type TraceLevel = 'off' | 'messages' | 'verbose';

export interface Settings {
    interpreter: string[];
    serverArgs: string[];
    disconnectAfterDebugging: boolean;
    useEnvFile: boolean;
    hostsMode: HostsMode;
    trace: { server: TraceLevel };
    configFilePatterns: string[];
}

/**
 * Reads the settings for a folder (or the window). Values of the wrong type, which settings.json
 * can hold, fall back to the defaults rather than reaching the server.
 */
export function readSettings(scope?: vscode.ConfigurationScope): Settings {
    const config = vscodeapi.getConfiguration(SETTINGS_SECTION, scope);
    const hostsMode = config.get<unknown>('hostsMode');
    const trace = config.get<unknown>('trace.server');
    return {
        interpreter: stringArray(config.get<unknown>('interpreter')),
        serverArgs: stringArray(config.get<unknown>('serverArgs')),
        disconnectAfterDebugging: boolean(config.get<unknown>('disconnectAfterDebugging'), true),
        useEnvFile: boolean(config.get<unknown>('useEnvFile'), true),
        hostsMode: (HOSTS_MODES as readonly unknown[]).includes(hostsMode) ? (hostsMode as HostsMode) : 'auto',
        trace: { server: trace === 'messages' || trace === 'verbose' ? trace : 'off' },
        configFilePatterns: stringArray(config.get<unknown>('configFilePatterns')),
    };
}

/**
 * What the server gets in initializationOptions: the settings under the `kubelocal` section,
 * shaped as workspace/didChangeConfiguration sends them (`trace.server` nested as `trace: {server}`).
 */
export function serverSettings(settings: Settings): { [SETTINGS_SECTION]: Settings } {
    return { [SETTINGS_SECTION]: settings };
}

function stringArray(value: unknown): string[] {
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function boolean(value: unknown, fallback: boolean): boolean {
    return typeof value === 'boolean' ? value : fallback;
}

export type InterpreterSource = 'setting' | 'python-extension' | 'default';

export interface Interpreter {
    /** The command and its leading arguments, e.g. ["/venv/bin/python"] or ["uv", "run", "python"]. */
    command: string[];
    source: InterpreterSource;
}

/**
 * The interpreter that runs the server: the `kubelocal.interpreter` setting when it is not empty;
 * else the one the Python extension has selected (asked lazily, only then); else `python3`.
 */
export async function chooseInterpreter(
    setting: readonly string[],
    fromPythonExtension: () => Promise<string | undefined>,
): Promise<Interpreter> {
    const configured = setting.filter((part) => part.trim() !== '');
    if (configured.length > 0) {
        return { command: configured, source: 'setting' };
    }
    const selected = await fromPythonExtension();
    if (selected) {
        return { command: [selected], source: 'python-extension' };
    }
    return { command: [DEFAULT_INTERPRETER], source: 'default' };
}

/** The part of the Python extension's API used here (its `environments` API). */
export interface PythonExtensionApi {
    environments: {
        getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string };
        resolveEnvironment(
            environment: { id: string; path: string } | string,
        ): Thenable<{ executable: { uri?: vscode.Uri } } | undefined>;
        onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
    };
}

/** The Python extension's API when it is installed (activating it if needed), else undefined. */
export async function pythonExtensionApi(): Promise<PythonExtensionApi | undefined> {
    const extension = vscodeapi.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
    if (!extension) {
        return undefined;
    }
    try {
        return extension.isActive ? extension.exports : await extension.activate();
    } catch (error) {
        traceWarn(`The Python extension did not activate (${errorMessage(error)}); using another interpreter.`);
        return undefined;
    }
}

/** The executable of the environment the Python extension has selected for the resource, if any. */
export async function interpreterFromPythonExtension(resource?: vscode.Uri): Promise<string | undefined> {
    const api = await pythonExtensionApi();
    if (!api?.environments) {
        return undefined;
    }
    try {
        const active = api.environments.getActiveEnvironmentPath(resource);
        const resolved = await api.environments.resolveEnvironment(active);
        return resolved?.executable.uri?.fsPath;
    } catch (error) {
        traceWarn(`The Python extension could not resolve its environment (${errorMessage(error)}).`);
        return undefined;
    }
}

/** The interpreter for a folder: chooseInterpreter with this folder's setting and Python environment. */
export function resolveInterpreter(folder: vscode.WorkspaceFolder | undefined): Promise<Interpreter> {
    return chooseInterpreter(readSettings(folder).interpreter, () => interpreterFromPythonExtension(folder?.uri));
}

/** Settings the server's command line or document selector depend on: changing one restarts it. */
export const RESTART_SETTINGS = ['interpreter', 'serverArgs', 'configFilePatterns'] as const;

export function needsRestart(event: Pick<vscode.ConfigurationChangeEvent, 'affectsConfiguration'>): boolean {
    return RESTART_SETTINGS.some((name) => event.affectsConfiguration(`${SETTINGS_SECTION}.${name}`));
}
