/**
 * Writing the debug set-up the original product wrote: a `kubelocal.connect` task in tasks.json and
 * a copy of the chosen launch configuration, named "<name> with Kubernetes", with that task as its
 * preLaunchTask. Pure builders, then one thin function that writes them.
 */
import * as vscode from 'vscode';
import { DebugConfigurationObject, KubelocalTaskDefinition, TaskTypes } from './contract';
import * as vscodeapi from './vscodeapi';

export const COPY_SUFFIX = ' with Kubernetes';

export interface ConnectTarget {
    context: string;
    namespace: string;
    service: string;
    localPorts: number[];
}

export type LabelledTask = KubelocalTaskDefinition & { label: string };

export function taskLabel(target: ConnectTarget): string {
    return `kubelocal: connect ${target.service} (${target.namespace})`;
}

export function connectTask(target: ConnectTarget): LabelledTask {
    return {
        label: taskLabel(target),
        type: TaskTypes.connect,
        service: target.service,
        namespace: target.namespace,
        context: target.context,
        localPorts: [...target.localPorts],
    };
}

/** The copy debugged "with Kubernetes"; the original stays as it was. */
export function kubernetesCopy(configuration: DebugConfigurationObject, label: string): DebugConfigurationObject {
    return { ...configuration, name: `${configuration.name}${COPY_SUFFIX}`, preLaunchTask: label };
}

/** The list with `item` replacing the entry with the same key, or appended; other entries untouched. */
export function upsert<T extends object>(list: readonly unknown[], item: T, key: keyof T): unknown[] {
    const value = item[key];
    const index = list.findIndex(
        (entry) => typeof entry === 'object' && entry !== null && (entry as T)[key] === value,
    );
    return index === -1 ? [...list, item] : list.map((entry, i) => (i === index ? item : entry));
}

/** Writes (or rewrites) the task and the copy into the folder's tasks.json and launch.json. */
export async function writeDebugSetup(
    folder: vscode.WorkspaceFolder,
    configuration: DebugConfigurationObject,
    target: ConnectTarget,
): Promise<DebugConfigurationObject> {
    const task = connectTask(target);
    const copy = kubernetesCopy(configuration, task.label);

    const tasks = vscodeapi.getConfiguration('tasks', folder.uri);
    const existingTasks = tasks.get<unknown>('tasks');
    if (tasks.get<unknown>('version') === undefined) {
        await tasks.update('version', '2.0.0', vscode.ConfigurationTarget.WorkspaceFolder);
    }
    await tasks.update(
        'tasks',
        upsert(Array.isArray(existingTasks) ? existingTasks : [], task, 'label'),
        vscode.ConfigurationTarget.WorkspaceFolder,
    );

    const launch = vscodeapi.getConfiguration('launch', folder.uri);
    const existingConfigurations = launch.get<unknown>('configurations');
    await launch.update(
        'configurations',
        upsert(Array.isArray(existingConfigurations) ? existingConfigurations : [], copy, 'name'),
        vscode.ConfigurationTarget.WorkspaceFolder,
    );
    return copy;
}
