/**
 * Loaded with `node --require` before the tests: makes `require('vscode')` (which only exists inside
 * VS Code) return the fake in ./fakes/vscode.
 */
import Module = require('module');
import * as fakeVscode from './fakes/vscode';

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
const moduleWithLoad = Module as unknown as { _load: Load };
const originalLoad = moduleWithLoad._load;
moduleWithLoad._load = function load(request: string, parent: unknown, isMain: boolean): unknown {
    return request === 'vscode' ? fakeVscode : originalLoad.call(this, request, parent, isMain);
};
