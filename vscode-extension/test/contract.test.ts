/**
 * The contract with the server stays one source of truth (server/kubelocal/lsp/contract.json):
 * - the server command names, the notification, the client command ids and task types here equal it;
 * - client command ids differ from the server's, and package.json contributes exactly them;
 * - package.json's settings equal the contract's settings list, and readSettings/serverSettings
 *   carry every one of them to the server with package.json's defaults;
 * - the server is named once, in package.json's serverInfo.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { loadServerInfo } from '../src/common/constants';
import {
    ClientCommands,
    HOSTS_MODES,
    Notifications,
    ServerCommands,
    SESSION_STATES,
    SETTING_NAMES,
    SETTINGS_SECTION,
    TaskTypes,
} from '../src/common/contract';
import { readSettings, serverSettings } from '../src/common/settings';
import { fake } from './fakes/vscode';

// Compiled tests run from out/test; the sources' root is two levels up.
const EXTENSION_ROOT = path.resolve(__dirname, '..', '..');
const CONTRACT_PATH = path.resolve(EXTENSION_ROOT, '..', 'server', 'kubelocal', 'lsp', 'contract.json');

interface ContractJson {
    commands: Record<string, { name: string }>;
    notifications: Record<string, { method: string }>;
    clientCommands: string[];
    taskTypes: Record<string, string[]>;
    states: string[];
    hostsModes: string[];
    settingsSection: string;
    settings: string[];
}

interface PackageJson {
    contributes: {
        commands: { command: string; title: string }[];
        configuration: { properties: Record<string, { default: unknown; enum?: unknown[] }> };
        taskDefinitions: { type: string }[];
    };
    activationEvents: string[];
}

const contract = JSON.parse(fs.readFileSync(CONTRACT_PATH, 'utf8')) as ContractJson;
const packageJson = JSON.parse(fs.readFileSync(path.join(EXTENSION_ROOT, 'package.json'), 'utf8')) as PackageJson;

describe('contract.ts against contract.json', () => {
    it('has the same server commands', () => {
        const fromJson = Object.fromEntries(Object.entries(contract.commands).map(([key, value]) => [key, value.name]));
        assert.deepEqual({ ...ServerCommands }, fromJson);
    });

    it('has the same notification, states, hosts modes and task types', () => {
        assert.deepEqual(
            { ...Notifications },
            Object.fromEntries(Object.entries(contract.notifications).map(([key, value]) => [key, value.method])),
        );
        assert.deepEqual([...SESSION_STATES], contract.states);
        assert.deepEqual([...HOSTS_MODES], contract.hostsModes);
        assert.deepEqual(Object.values(TaskTypes).sort(), Object.keys(contract.taskTypes).sort());
    });

    it('has the same client command ids, none of them a server command', () => {
        assert.deepEqual(Object.values(ClientCommands), contract.clientCommands);
        const serverNames = new Set(Object.values(contract.commands).map((command) => command.name));
        for (const id of Object.values(ClientCommands)) {
            assert.ok(!serverNames.has(id), `${id} collides with a server command`);
        }
    });

    it('has the same settings', () => {
        assert.equal(SETTINGS_SECTION, contract.settingsSection);
        assert.deepEqual(
            SETTING_NAMES.map((name) => `${SETTINGS_SECTION}.${name}`),
            contract.settings,
        );
    });
});

describe('package.json against the contract', () => {
    it('contributes exactly the contract settings', () => {
        assert.deepEqual(Object.keys(packageJson.contributes.configuration.properties).sort(), [...contract.settings].sort());
    });

    it('offers the contract hosts modes', () => {
        assert.deepEqual(packageJson.contributes.configuration.properties['kubelocal.hostsMode'].enum, contract.hostsModes);
    });

    it('contributes exactly the client commands, each with an activation event', () => {
        const contributed = packageJson.contributes.commands.map((command) => command.command);
        assert.deepEqual(contributed, contract.clientCommands);
        for (const id of contributed) {
            assert.ok(packageJson.activationEvents.includes(`onCommand:${id}`), `no activation event for ${id}`);
        }
        for (const command of packageJson.contributes.commands) {
            assert.match(command.title, /^Kubelocal: /);
        }
    });

    it('defines both task types', () => {
        assert.deepEqual(
            packageJson.contributes.taskDefinitions.map((definition) => definition.type).sort(),
            Object.keys(contract.taskTypes).sort(),
        );
    });

    it('names the server module once, in serverInfo', () => {
        assert.deepEqual(loadServerInfo(EXTENSION_ROOT), { name: 'Kubelocal', module: 'kubelocal.lsp' });
    });
});

describe('the settings the server receives', () => {
    beforeEach(() => fake.reset());

    it('carry every contract setting, with package.json defaults when none is set', () => {
        const sent = serverSettings(readSettings())[SETTINGS_SECTION] as unknown as Record<string, unknown>;
        for (const name of SETTING_NAMES) {
            const value = name.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], sent);
            const declared = packageJson.contributes.configuration.properties[`${SETTINGS_SECTION}.${name}`].default;
            assert.deepEqual(value, declared, `${name} reaches the server as its default`);
        }
        const flattened = Object.entries(sent).flatMap(([key, value]) =>
            typeof value === 'object' && !Array.isArray(value) ? Object.keys(value as object).map((sub) => `${key}.${sub}`) : [key],
        );
        assert.deepEqual(flattened.sort(), [...SETTING_NAMES].sort(), 'nothing more, nothing less');
    });
});
