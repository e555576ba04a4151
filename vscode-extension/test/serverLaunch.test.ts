/**
 * Starting the server (serverLaunch.ts):
 * - the command line is the interpreter's command and leading arguments, `-m kubelocal.lsp`
 *   (from package.json's serverInfo), then kubelocal.serverArgs;
 * - the language client runs exactly that command line (no `--stdio` appended: the server rejects it);
 * - the server gets KubernetesLocalProcessConfig.yaml files anywhere, plus the configured patterns.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { loadServerInfo } from '../src/common/constants';
import { documentSelector, progressHandler, serverCommandLine, serverExecutable } from '../src/common/serverLaunch';
import { readSettings } from '../src/common/settings';
import { fake } from './fakes/vscode';

const serverInfo = loadServerInfo(path.resolve(__dirname, '..', '..'));

describe('serverCommandLine', () => {
    it('runs the module named in package.json with the interpreter and the extra arguments', () => {
        assert.deepEqual(serverCommandLine(['/venv/bin/python'], serverInfo, []), {
            command: '/venv/bin/python',
            args: ['-m', 'kubelocal.lsp'],
        });
        assert.deepEqual(serverCommandLine(['uv', 'run', 'python'], serverInfo, ['--log-level', 'debug']), {
            command: 'uv',
            args: ['run', 'python', '-m', 'kubelocal.lsp', '--log-level', 'debug'],
        });
    });
});

describe('serverExecutable', () => {
    it('runs the command line as is, over stdio, in the folder', () => {
        const executable = serverExecutable({ command: '/venv/bin/python', args: ['-m', 'kubelocal.lsp'] }, '/work/app');
        assert.deepEqual(executable, {
            command: '/venv/bin/python',
            args: ['-m', 'kubelocal.lsp'],
            options: { cwd: '/work/app' },
        });
        // TransportKind.stdio would make vscode-languageclient append `--stdio`, which the server rejects.
        assert.equal('transport' in executable, false);
    });
});

describe('documentSelector', () => {
    beforeEach(() => fake.reset());

    it('selects the config file by name, plus the configured patterns', () => {
        assert.deepEqual(documentSelector(readSettings()), [
            { scheme: 'file', pattern: '**/KubernetesLocalProcessConfig.yaml' },
        ]);
        fake.configuration.kubelocal = { configFilePatterns: ['**/kubelocal/*.yaml'] };
        assert.deepEqual(
            documentSelector(readSettings()).map((selector) => selector.pattern),
            ['**/KubernetesLocalProcessConfig.yaml', '**/kubelocal/*.yaml'],
        );
    });
});

describe('progressHandler', () => {
    it('passes begin and report values on, and ignores end', () => {
        const updates: unknown[] = [];
        const handle = progressHandler((update) => updates.push(update));
        handle({ kind: 'begin', title: 'Connecting cart', percentage: 0 });
        handle({ kind: 'report', message: 'Replacing deployment/cart', percentage: 40 });
        handle({ kind: 'end', message: 'done' });
        assert.deepEqual(updates, [
            { title: 'Connecting cart', message: undefined, percentage: 0 },
            { message: 'Replacing deployment/cart', percentage: 40 },
        ]);
    });
});
