/**
 * Settings and the interpreter (settings.ts):
 * - readSettings returns what settings.json holds, and defaults for missing or mistyped values;
 * - the interpreter: the setting when not empty, else the Python extension's environment (asked only
 *   then), else python3; the Python extension's API is used when installed, activated when needed.
 */
import * as assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type * as vscode from 'vscode';
import { chooseInterpreter, interpreterFromPythonExtension, needsRestart, readSettings } from '../src/common/settings';
import { fake, Uri } from './fakes/vscode';

describe('readSettings', () => {
    beforeEach(() => fake.reset());

    it('returns the configured values', () => {
        fake.configuration.kubelocal = {
            interpreter: ['/venv/bin/python', '-X', 'dev'],
            serverArgs: ['--log-level', 'debug'],
            disconnectAfterDebugging: false,
            useEnvFile: false,
            hostsMode: 'env',
            'trace.server': 'verbose',
            configFilePatterns: ['**/kubelocal/*.yaml'],
        };
        assert.deepEqual(readSettings(), {
            interpreter: ['/venv/bin/python', '-X', 'dev'],
            serverArgs: ['--log-level', 'debug'],
            disconnectAfterDebugging: false,
            useEnvFile: false,
            hostsMode: 'env',
            trace: { server: 'verbose' },
            configFilePatterns: ['**/kubelocal/*.yaml'],
        });
    });

    it('falls back to the defaults for values of the wrong type', () => {
        fake.configuration.kubelocal = {
            interpreter: '/usr/bin/python3',
            serverArgs: [1, '--x'],
            disconnectAfterDebugging: 'no',
            hostsMode: 'dns',
            'trace.server': true,
        };
        const settings = readSettings();
        assert.deepEqual(settings.interpreter, []);
        assert.deepEqual(settings.serverArgs, ['--x']);
        assert.equal(settings.disconnectAfterDebugging, true);
        assert.equal(settings.hostsMode, 'auto');
        assert.equal(settings.trace.server, 'off');
    });
});

describe('chooseInterpreter', () => {
    it('uses the setting without asking the Python extension', async () => {
        let asked = false;
        const chosen = await chooseInterpreter(['uv', 'run', 'python'], async () => {
            asked = true;
            return '/other/python';
        });
        assert.deepEqual(chosen, { command: ['uv', 'run', 'python'], source: 'setting' });
        assert.equal(asked, false);
    });

    it("uses the Python extension's interpreter when the setting is empty or blank", async () => {
        for (const setting of [[], ['  ']]) {
            const chosen = await chooseInterpreter(setting, async () => '/project/.venv/bin/python');
            assert.deepEqual(chosen, { command: ['/project/.venv/bin/python'], source: 'python-extension' });
        }
    });

    it('falls back to python3', async () => {
        assert.deepEqual(await chooseInterpreter([], async () => undefined), { command: ['python3'], source: 'default' });
    });
});

describe('interpreterFromPythonExtension', () => {
    beforeEach(() => fake.reset());

    function pythonApi(executable: string | undefined) {
        const resolvedFor: unknown[] = [];
        return {
            resolvedFor,
            api: {
                environments: {
                    getActiveEnvironmentPath: (resource?: Uri) => ({ id: 'env', path: `${resource?.fsPath ?? ''}/.venv` }),
                    resolveEnvironment: async (environment: unknown) => {
                        resolvedFor.push(environment);
                        return executable === undefined ? undefined : { executable: { uri: Uri.file(executable) } };
                    },
                    onDidChangeActiveEnvironmentPath: () => ({ dispose: () => undefined }),
                },
            },
        };
    }

    it('is undefined when the Python extension is not installed', async () => {
        assert.equal(await interpreterFromPythonExtension(), undefined);
    });

    it('resolves the active environment, activating the extension first', async () => {
        const { api, resolvedFor } = pythonApi('/project/.venv/bin/python');
        let activated = false;
        fake.extensions['ms-python.python'] = {
            isActive: false,
            exports: undefined,
            activate: async () => {
                activated = true;
                return api;
            },
        };
        assert.equal(await interpreterFromPythonExtension(Uri.file('/project') as unknown as vscode.Uri), '/project/.venv/bin/python');
        assert.ok(activated);
        assert.deepEqual(resolvedFor, [{ id: 'env', path: '/project/.venv' }]);
    });

    it('is undefined when the environment does not resolve or activation fails', async () => {
        fake.extensions['ms-python.python'] = { isActive: true, exports: pythonApi(undefined).api };
        assert.equal(await interpreterFromPythonExtension(), undefined);
        fake.extensions['ms-python.python'] = {
            isActive: false,
            activate: async () => {
                throw new Error('broken');
            },
        };
        assert.equal(await interpreterFromPythonExtension(), undefined);
    });
});

describe('needsRestart', () => {
    it('restarts the server for the settings its command line and documents depend on, only', () => {
        const changed = (name: string) => ({ affectsConfiguration: (section: string) => section === name });
        for (const name of ['kubelocal.interpreter', 'kubelocal.serverArgs', 'kubelocal.configFilePatterns']) {
            assert.equal(needsRestart(changed(name)), true, name);
        }
        for (const name of ['kubelocal.useEnvFile', 'kubelocal.hostsMode', 'kubelocal.disconnectAfterDebugging', 'editor.fontSize']) {
            assert.equal(needsRestart(changed(name)), false, name);
        }
    });
});
