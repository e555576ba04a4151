/**
 * "Create KubernetesLocalProcessConfig.yaml" (createConfig.ts):
 * - runs `<interpreter...> -m kubelocal config init <folder>/KubernetesLocalProcessConfig.yaml`, then opens the file;
 * - an existing file is opened, the CLI not run; no folder open and a failing CLI say what to do.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createConfig, initCommandLine, ProcessRunner } from '../src/common/createConfig';
import { fake, workspaceFolder } from './fakes/vscode';

let folderPath: string;
const interpreter = async () => ['uv', 'run', 'python'];

function recordingRunner(result: { code: number; stderr?: string }, writeFile = true) {
    const runs: { command: string; args: string[] }[] = [];
    const run: ProcessRunner = async (command, args) => {
        runs.push({ command, args });
        if (writeFile && result.code === 0) {
            fs.writeFileSync(args[args.length - 1], 'version: 0.1\n');
        }
        return { code: result.code, stdout: '', stderr: result.stderr ?? '' };
    };
    return { runs, run };
}

describe('createConfig', () => {
    beforeEach(() => {
        fake.reset();
        folderPath = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelocal-ext-'));
        fake.workspaceFolders = [workspaceFolder(folderPath)];
    });
    afterEach(() => fs.rmSync(folderPath, { recursive: true, force: true }));

    it('runs kubelocal config init with the interpreter and opens the file', async () => {
        const file = path.join(folderPath, 'KubernetesLocalProcessConfig.yaml');
        const { runs, run } = recordingRunner({ code: 0 });
        assert.equal(await createConfig(interpreter, run), file);
        assert.deepEqual(runs, [{ command: 'uv', args: ['run', 'python', '-m', 'kubelocal', 'config', 'init', file] }]);
        assert.deepEqual(fake.openedDocuments, [file]);
    });

    it('opens an existing file without running the CLI', async () => {
        const file = path.join(folderPath, 'KubernetesLocalProcessConfig.yaml');
        fs.writeFileSync(file, 'version: 0.1\n');
        const { runs, run } = recordingRunner({ code: 0 });
        assert.equal(await createConfig(interpreter, run), file);
        assert.equal(runs.length, 0);
        assert.deepEqual(fake.openedDocuments, [file]);
        assert.equal(fs.readFileSync(file, 'utf8'), 'version: 0.1\n', 'not overwritten');
    });

    it('says what to do when the CLI fails', async () => {
        const { run } = recordingRunner({ code: 1, stderr: 'No module named kubelocal' });
        assert.equal(await createConfig(interpreter, run), undefined);
        assert.equal(fake.openedDocuments.length, 0);
        assert.match(fake.messages[0].message, /No module named kubelocal.*pip install kubelocal.*kubelocal.interpreter/);
    });

    it('says to open a folder when none is open', async () => {
        fake.workspaceFolders = undefined;
        const { runs, run } = recordingRunner({ code: 0 });
        assert.equal(await createConfig(interpreter, run), undefined);
        assert.equal(runs.length, 0);
        assert.match(fake.messages[0].message, /open your service's folder/);
    });

    it('builds the command line for a plain interpreter', () => {
        assert.deepEqual(initCommandLine(['python3'], '/w/K.yaml'), {
            command: 'python3',
            args: ['-m', 'kubelocal', 'config', 'init', '/w/K.yaml'],
        });
    });
});
