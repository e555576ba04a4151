/**
 * Activation of the shipped bundle (dist/extension.js, built by `npm test` first), loaded with its
 * bundled vscode-languageclient against the fake `vscode`:
 * - every contributed command, the status bar menu, the debug provider for every debug type and both
 *   task providers are registered, and the status bar shows "disconnected";
 * - a server that cannot start does not fail activation: the user gets a message saying what to do;
 * - deactivate and disposing the subscriptions unregister the commands.
 * The fake lacks most of what the language client needs to run, so this covers the wiring and the
 * start-failure path; the running server is covered by the code-server end-to-end test.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as fakeVscode from './fakes/vscode';

const fake = fakeVscode.fake;
const EXTENSION_ROOT = path.resolve(__dirname, '..', '..');

// vscode-languageclient subclasses these when it loads; empty classes are enough to load it.
const LOADED_CLASSES = [
    'CancellationError',
    'CallHierarchyItem',
    'CodeAction',
    'CodeLens',
    'CompletionItem',
    'Diagnostic',
    'DocumentLink',
    'InlayHint',
    'TypeHierarchyItem',
    'SymbolInformation',
];
for (const name of LOADED_CLASSES) {
    (fakeVscode as unknown as Record<string, unknown>)[name] = class {};
}

describe('activate', () => {
    it('registers everything and survives a server that cannot start', async () => {
        fake.reset();
        fake.workspaceFolders = [fakeVscode.workspaceFolder(EXTENSION_ROOT)];
        fake.configuration.kubelocal = { interpreter: [path.join(EXTENSION_ROOT, 'no-such-python')] };
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const extension = require(path.join(EXTENSION_ROOT, 'dist', 'extension.js')) as typeof import('../src/extension');
        const subscriptions: { dispose(): unknown }[] = [];

        await extension.activate({ subscriptions, extensionPath: EXTENSION_ROOT } as never);

        const packageJson = JSON.parse(fs.readFileSync(path.join(EXTENSION_ROOT, 'package.json'), 'utf8')) as {
            contributes: { commands: { command: string }[] };
        };
        const contributed = packageJson.contributes.commands.map((command) => command.command);
        assert.deepEqual(
            [...fake.registeredCommands].sort(),
            [...contributed, 'kubelocal.statusBarMenu'].sort(),
        );
        assert.deepEqual(fake.debugProviders, ['*']);
        assert.deepEqual(fake.taskProviders.sort(), ['bridge-to-kubernetes.resource', 'kubelocal.connect']);
        assert.equal(fake.statusBarItems[0].text, '$(debug-disconnect) Kubelocal: disconnected');
        assert.equal(fake.statusBarItems[0].visible, true);
        const errors = fake.messages.filter((message) => message.level === 'error');
        assert.equal(errors.length, 1);
        assert.match(errors[0].message, /did not start.*pip install kubelocal.*Restart Server/);
        assert.deepEqual(errors[0].actions, ['Show Output']);

        await extension.deactivate();
        for (const subscription of subscriptions) {
            subscription.dispose();
        }
        assert.deepEqual(fake.registeredCommands, []);
        assert.equal(fake.statusBarItems[0].visible, false);
    });
});
