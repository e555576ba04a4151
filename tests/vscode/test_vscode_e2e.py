"""A real VS Code drives kubelocal: code-server 4.100.3 in Debian's headless Chromium, with the
freshly built .vsix, against the sandbox running the sample app (or the cluster of
KUBELOCAL_TEST_KUBECONFIG, see tests/connect/e2e_cluster.py).

Aspects, in the order a user meets them (a screenshot of each lands in the artifact directory):
- the .vsix installs offline, the extension activates and starts the language server with the
  interpreter of the `kubelocal.interpreter` setting;
- a KubernetesLocalProcessConfig.yaml with problems shows exactly the server's messages (the same
  as `kubelocal config check`) in the Problems panel;
- completion in a value offers the live cluster's services as `$(services:NAME)` tokens;
- "Kubelocal: Connect to Cluster" from the command palette walks context -> namespace -> service ->
  workstation port -> launch configuration, the status bar turns to the service, the copied launch
  configuration carries the session's env file, and a request into the cluster's frontend is
  answered by the workstation's greeter (samples/workstation/greeter.py);
- "Kubelocal: Disconnect" turns the status bar back, and the greeter Deployment is as it was;
- the language server started once and logged no error (the Kubelocal output channel).

On failure the test saves `failure.png` and puts the Kubelocal output channel's log and the tail
of code-server's log in the failure message. Screenshots go to KUBELOCAL_VSCODE_SCREENSHOTS when it
is set (`make screenshots` points it at docs/images), else to tests/vscode/artifacts/ (emptied at the
start of each run, ignored by git), where failure.png and failure-logs.txt always go.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
import vscode_session
import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "connect"))

import e2e_cluster

from kubelocal.kube import fetching, forwarding, loading, pods, requesting, resources

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

CONFIG_NAME = "KubernetesLocalProcessConfig.yaml"
# Two problems the server reports, and a value whose completion the test asks for (line 10).
CONFIG_WITH_PROBLEMS = """\
version: 0.1
evn:
  - name: TYPO
    value: the key above should be env
env:
  - name: VERBOSE
    value: yes
  - name: GREETING
    value: Hello
  - name: CATALOG_URL
    value: http://
"""
COMPLETION_AT = (11, 19)  # line 11, after "http://"
FIXED_CONFIG = """\
version: 0.1
env:
  - name: VERBOSE
    value: "yes"
  - name: CATALOG_URL
    value: http://$(services:catalog)/items
"""
LAUNCH_CONFIGURATION = {
    "name": "Greeter",
    "type": "debugpy",
    "request": "launch",
    "program": "${workspaceFolder}/greeter.py",
}
WORKSTATION_GREETER = vscode_session.ROOT / "samples" / "workstation" / "greeter.py"
STATUS_ID = vscode_session.EXTENSION_ID
ARTIFACTS = pathlib.Path(__file__).resolve().parent / "artifacts"
# Generous: two cores shared with other test suites; a cold code-server and extension host are slow.
STEP_TIMEOUT = 90


@pytest.fixture
def tools() -> None:
    missing = vscode_session.missing_tools()
    if missing:
        pytest.fail(
            f"a real VS Code cannot run here; missing: {'; '.join(missing)}. {vscode_session.INSTALL_HINT}"
        )


@pytest.fixture
async def cluster(tmp_path, monkeypatch, tools):
    monkeypatch.setenv("KUBELOCAL_HOME", str(tmp_path / "home"))
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1\tlocalhost\n")
    monkeypatch.setenv("KUBELOCAL_HOSTS_FILE", str(hosts))
    async with e2e_cluster.sample_app(tmp_path) as running:
        yield running


@pytest.fixture
def screenshots() -> pathlib.Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    chosen = os.environ.get("KUBELOCAL_VSCODE_SCREENSHOTS")
    directory = pathlib.Path(chosen).resolve() if chosen else ARTIFACTS
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def kubeconfig_in_namespace(source: pathlib.Path, namespace: str, target: pathlib.Path) -> pathlib.Path:
    """A copy of the kubeconfig whose contexts default to the test's namespace, as a developer's
    context points at the namespace they work in (the pickers and completion start there)."""
    config = yaml.safe_load(source.read_text())
    for context in config.get("contexts") or []:
        context.setdefault("context", {})["namespace"] = namespace
    target.write_text(yaml.safe_dump(config))
    target.chmod(0o600)
    return target


def server_messages(config: pathlib.Path) -> list[str]:
    """What `kubelocal config check` says about the file: the messages the Problems panel must show."""
    result = subprocess.run(
        [sys.executable, "-m", "kubelocal", "config", "check", "--json", str(config)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return sorted(problem["message"] for problem in json.loads(result.stdout))


async def ask_frontend(client: requesting.Client) -> dict:
    """GET / from a ready frontend pod through the API server's port-forward; frontend calls greeter."""
    ready = [
        pod
        for pod in await fetching.list_objects(client, resources.PODS, label_selector="app=frontend")
        if pods.is_ready(pod)
    ]
    assert ready, "no frontend pod is ready"
    reader, writer = await forwarding.open_forward(client, pod=pods.name(ready[0]), port=8080)
    try:
        writer.write(b"GET / HTTP/1.1\r\nHost: frontend\r\nConnection: close\r\n\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 20)
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        return json.loads(await asyncio.wait_for(reader.readexactly(length), 20))
    finally:
        writer.close()


async def greeting_until(client: requesting.Client, prefix: str, timeout: float) -> str:
    """Ask frontend until greeter's greeting starts with `prefix` (a rollout takes a moment)."""
    last: object = None
    async with asyncio.timeout(timeout):
        while True:
            try:
                greeting = str((await ask_frontend(client)).get("greeter", {}).get("greeting", ""))
                if greeting.startswith(prefix):
                    return greeting
                last = greeting
            # While pods roll, a forward can fail for a moment: ask again.
            except (OSError, AssertionError, ValueError, StopIteration, asyncio.IncompleteReadError) as error:
                last = error
            await asyncio.sleep(0.5)
    raise AssertionError(f"greeter never answered {prefix!r}; last: {last!r}")


@contextlib.asynccontextmanager
async def workstation_greeter(port: int, log: pathlib.Path) -> AsyncIterator[None]:
    """samples/workstation/greeter.py on `port`, as the developer's debug session would run it."""
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(WORKSTATION_GREETER), "--port", str(port), stdout=output, stderr=output
        )
        try:
            yield
        finally:
            if process.returncode is None:
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


def failure_report(layout: vscode_session.Layout) -> str:
    parts = []
    for path in layout.extension_logs():
        parts.append(f"--- {path.name} (the Kubelocal output channel) ---\n{path.read_text()[-6000:]}")
    code_server_log = layout.base / "code-server.log"
    if code_server_log.exists():
        parts.append(f"--- code-server.log ---\n{code_server_log.read_text(errors='replace')[-3000:]}")
    driver_log = layout.base / "driver.log"
    if driver_log.exists():
        parts.append(f"--- driver.log ---\n{driver_log.read_text(errors='replace')[-3000:]}")
    return "\n".join(parts) or "(no logs were written)"


async def suggestions_until(vscode: vscode_session.Driver, wanted: str, timeout: float) -> list[str]:
    """Ask for completion until `wanted` is offered: the server reads the cluster in the background,
    so the first request may come before it knows the services."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    labels: list[str] = []
    while loop.time() < deadline:
        labels = [row["label"] for row in await vscode.act("suggest", timeout=STEP_TIMEOUT)]
        if wanted in labels:
            return labels
        await vscode.act("press", key="Escape")
        await asyncio.sleep(1)
    raise AssertionError(f"completion never offered {wanted!r}; last offered: {labels}")


async def test_vscode_connects_and_disconnects_through_the_palette(cluster, tmp_path, screenshots):
    base = tmp_path / "vscode"
    layout = vscode_session.Layout(base)
    base.mkdir()
    workspace = tmp_path / "workspace"
    (workspace / ".vscode").mkdir(parents=True)
    config = workspace / CONFIG_NAME
    config.write_text(CONFIG_WITH_PROBLEMS)
    launch = workspace / ".vscode" / "launch.json"
    launch.write_text(json.dumps({"version": "0.2.0", "configurations": [LAUNCH_CONFIGURATION]}, indent=2))
    kubeconfig = kubeconfig_in_namespace(cluster.kubeconfig, cluster.namespace, tmp_path / "kubeconfig")
    context = yaml.safe_load(kubeconfig.read_text())["current-context"]
    vscode_session.write_user_settings(
        layout,
        {
            "kubelocal.interpreter": [vscode_session.python_for_server()],
            # Service names through environment variables: the workstation's /etc/hosts stays untouched.
            "kubelocal.hostsMode": "env",
            "workbench.startupEditor": "none",
            "workbench.tips.enabled": False,
            "extensions.ignoreRecommendations": True,
            "telemetry.telemetryLevel": "off",
            "window.commandCenter": False,
            "extensions.autoCheckUpdates": False,
            "extensions.autoUpdate": False,
            # The sandbox's port-forwards would otherwise fill the Ports view.
            "remote.autoForwardPorts": False,
        },
    )
    env = vscode_session.code_server_env(
        layout, {"KUBECONFIG": str(kubeconfig), "KUBELOCAL_HOME": os.environ["KUBELOCAL_HOME"]}
    )
    installed = await vscode_session.install_extension(layout, env)
    assert "successfully installed" in installed

    async with requesting.Client(loading.load(kubeconfig=kubeconfig)) as client:
        original = e2e_cluster.comparable(await fetching.read(client, resources.DEPLOYMENTS, name="greeter"))
        try:
            async with (
                vscode_session.code_server(layout, folder=workspace, env=env) as url,
                vscode_session.driver(base / "driver.log") as vscode,
            ):
                try:
                    await walk_through(
                        vscode,
                        url=url,
                        layout=layout,
                        screenshots=screenshots,
                        config=config,
                        launch=launch,
                        context=context,
                        namespace=cluster.namespace,
                        client=client,
                        tmp_path=tmp_path,
                    )
                except Exception as error:
                    with contextlib.suppress(Exception):
                        await vscode.act("screenshot", path=str(ARTIFACTS / "failure.png"), timeout=20)
                    report = failure_report(layout)
                    (ARTIFACTS / "failure-logs.txt").write_text(report)
                    raise AssertionError(
                        f"{error}\n(failure.png and failure-logs.txt in {ARTIFACTS})\n{report}"
                    ) from error
        finally:
            leftovers = vscode_session.reap(marker=str(base)) + vscode_session.reap(marker=str(workspace))
        assert leftovers == [], "processes outlived code-server and the driver (killed now)"

        # The cluster is as it was: greeter's Deployment as the user wrote it, answered by the cluster.
        await e2e_cluster.wait_ready(client, cluster.namespace, ["greeter"])
        assert (
            e2e_cluster.comparable(await fetching.read(client, resources.DEPLOYMENTS, name="greeter"))
            == original
        )
        # The cluster's greeter greets with its ConfigMap's GREETING again.
        assert await greeting_until(client, "Hello", STEP_TIMEOUT) == "Hello"


async def walk_through(
    vscode: vscode_session.Driver,
    *,
    url: str,
    layout: vscode_session.Layout,
    screenshots: pathlib.Path,
    config: pathlib.Path,
    launch: pathlib.Path,
    context: str,
    namespace: str,
    client: requesting.Client,
    tmp_path: pathlib.Path,
) -> None:
    await vscode.act("open", url=url, profile=str(layout.base / "chromium"), timeout=STEP_TIMEOUT)

    # 1. Diagnostics: the Problems panel shows exactly what the server's checks say.
    await vscode.act("openFile", name=CONFIG_NAME, timeout=STEP_TIMEOUT)
    await vscode.act("press", key="Control+B")  # hide the side bar: room for the messages
    expected = server_messages(config)
    assert (
        "Unknown key 'evn' at the top level. Valid keys here: version, env, volumeMounts, enableFeatures."
        in expected
    )
    rows = await vscode.act("problems", atLeast=len(expected), timeout=STEP_TIMEOUT)
    shown = sorted(row["message"] for row in rows if row["message"])
    assert shown == expected
    assert all("generated by kubelocal" in row["ariaLabel"] for row in rows if row["message"])
    await vscode.act("statusBar", id=STATUS_ID, text="Kubelocal: disconnected", timeout=STEP_TIMEOUT)
    await vscode.act("screenshot", path=str(screenshots / "vscode-1-problems.png"))

    # 2. Completion: the live cluster's services, as ready-made tokens.
    line, column = COMPLETION_AT
    await vscode.act("goTo", line=line, column=column, timeout=STEP_TIMEOUT)
    labels = await suggestions_until(vscode, "$(services:greeter)", timeout=STEP_TIMEOUT)
    assert {"$(services:catalog)", "$(services:frontend)"} <= set(labels)
    await vscode.act("screenshot", path=str(screenshots / "vscode-2-completion.png"))
    await vscode.act("press", key="Escape")

    # The developer fixes the file (connect refuses a config with problems): the panel empties.
    config.write_text(FIXED_CONFIG)
    assert server_messages(config) == []
    await vscode.act("problems", atMost=0, timeout=STEP_TIMEOUT)

    # 3. Connect to Cluster through the quick picks.
    port = vscode_session.free_port()
    await vscode.act("command", title="Kubelocal: Connect to Cluster", timeout=STEP_TIMEOUT)
    contexts = await vscode.act("quickInput", title="(1/5)", rows=True, timeout=STEP_TIMEOUT)
    assert contexts["rows"][0]["label"] == context
    await vscode.act("pick", text=context, label=context, timeout=STEP_TIMEOUT)
    namespaces = await vscode.act("quickInput", title="(2/5)", rows=True, timeout=STEP_TIMEOUT)
    assert namespaces["rows"][0]["label"] == namespace  # the context's namespace first
    await vscode.act("pick", text=namespace, label=namespace, timeout=STEP_TIMEOUT)
    services = await vscode.act("quickInput", title="(3/5)", rows=True, timeout=STEP_TIMEOUT)
    assert {row["label"] for row in services["rows"]} >= {"greeter", "catalog", "frontend"}
    assert {row["description"] for row in services["rows"] if row["label"] == "greeter"} == {
        "http 80/TCP -> http"
    }
    await vscode.act("screenshot", path=str(screenshots / "vscode-3-connect-pickers.png"))
    await vscode.act("pick", text="greeter", label="greeter", timeout=STEP_TIMEOUT)
    ports = await vscode.act("quickInput", title="(4/5)", timeout=STEP_TIMEOUT)
    assert ports["value"] == "80"
    await vscode.act("enter", text=str(port), timeout=STEP_TIMEOUT)
    launch_picks = await vscode.act("quickInput", title="(5/5)", rows=True, timeout=STEP_TIMEOUT)
    assert [row["label"] for row in launch_picks["rows"]] == ["None", "Greeter"]
    await vscode.act("pick", text="Greeter", label="Greeter", timeout=STEP_TIMEOUT)

    await vscode.act("statusBar", id=STATUS_ID, text="Kubelocal: greeter", timeout=STEP_TIMEOUT * 2)
    await vscode.act("notification", text="connected to greeter", timeout=STEP_TIMEOUT)
    await vscode.act("screenshot", path=str(screenshots / "vscode-4-connected.png"))
    # The debug set-up: a copy of the launch configuration whose preLaunchTask connects first.
    label = f"kubelocal: connect greeter ({namespace})"
    configurations = json.loads(launch.read_text())["configurations"]
    assert configurations == [
        LAUNCH_CONFIGURATION,
        {**LAUNCH_CONFIGURATION, "name": "Greeter with Kubernetes", "preLaunchTask": label},
    ]
    tasks = json.loads((launch.parent / "tasks.json").read_text())["tasks"]
    assert tasks == [
        {
            "label": label,
            "type": "kubelocal.connect",
            "service": "greeter",
            "namespace": namespace,
            "context": context,
            "localPorts": [port],
        }
    ]

    # The cluster's frontend now reaches greeter on this workstation.
    async with workstation_greeter(port, tmp_path / "workstation-greeter.log"):
        greeting = await greeting_until(client, "hello from the workstation", timeout=STEP_TIMEOUT)
    assert greeting.startswith("hello from the workstation")

    # 4. Disconnect: the status bar goes back.
    await vscode.act("press", key="Escape")
    await vscode.act("command", title="Kubelocal: Disconnect", timeout=STEP_TIMEOUT)
    await vscode.act("statusBar", id=STATUS_ID, text="Kubelocal: disconnected", timeout=STEP_TIMEOUT * 2)
    await vscode.act("notification", text="disconnected; the cluster is as it was", timeout=STEP_TIMEOUT)
    await vscode.act("screenshot", path=str(screenshots / "vscode-5-disconnected.png"))

    # The language server ran the whole time: one start, no error, no crash in the Kubelocal log.
    [log] = layout.extension_logs()
    lines = log.read_text().splitlines()
    assert [line for line in lines if "[error]" in line or "exited with code" in line] == []
    assert len([line for line in lines if "Starting Kubelocal server" in line]) == 1
