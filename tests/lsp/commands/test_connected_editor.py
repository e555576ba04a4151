"""What the editor gets from the language server while connected, end to end against the sandbox's
sample app (a pytest-lsp client with VS Code's capabilities drives `python -m kubelocal.lsp`).

Aspects:
- the `kubelocal.useEnvFile` setting (the `kubelocal` section, as the VS Code extension sends it):
  from initializationOptions, true makes `launchConfiguration` point at the session's env file and
  keep every value (the Secret's too) out of the configuration; after a
  workspace/didChangeConfiguration to false it injects the variables as `env`; a request's own
  `useEnvFile` wins over the setting;
- completion while connected offers live names seen from the session: inside `$(services:` the
  services of the session's namespace by their plain names, with their ports; inside
  `$(volumeMounts:` and as a `volumeMounts[].name` the replaced container's volumes (not the
  agent's own volume); after disconnecting, the session's namespace is no longer the default one.
"""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
from lsprotocol import types

from .. import helpers
from . import test_commands_end_to_end as end_to_end

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

SECRET_VALUE = "sample-api-key-not-a-real-secret"  # greeter-secret's API_KEY in the sample app
BASE = {"name": "Greeter", "type": "debugpy", "request": "launch", "program": "app.py"}


@pytest.fixture
async def cluster(tmp_path):
    async with end_to_end.e2e_cluster.sample_app(tmp_path) as running:
        yield running


async def connect(client, cluster, tmp_path, port: int) -> dict[str, Any]:
    contexts = await end_to_end.run(client, "kubelocal.server.contexts", {})
    [current] = [row for row in contexts if row["current"]]
    arguments = {
        "context": current["name"],
        "namespace": cluster.namespace,
        "service": "greeter",
        "localPorts": [port],
        "workspaceFolder": str(tmp_path),
        "hostsMode": "env",
    }
    return await end_to_end.run(client, "kubelocal.server.connect", arguments)


async def launch(client, tmp_path, **extra: Any) -> dict[str, Any]:
    arguments = {"workspaceFolder": str(tmp_path), "base": BASE, **extra}
    return (await end_to_end.run(client, "kubelocal.server.launchConfiguration", arguments))["configuration"]


async def test_the_use_env_file_setting_chooses_env_file_or_env(cluster, tmp_path):
    options = {"kubelocal": {"useEnvFile": True, "diagnosticsDelayMs": 10}}
    async with end_to_end.language_server(cluster, tmp_path, options=options) as client:
        session = await connect(client, cluster, tmp_path, 18_621)
        try:
            with_file = await launch(client, tmp_path)
            assert with_file["envFile"] == session["envFile"]
            assert SECRET_VALUE in pathlib.Path(with_file["envFile"]).read_text()
            assert SECRET_VALUE not in str(with_file)
            assert "GREETING" not in with_file.get("env", {})

            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings={"kubelocal": {"useEnvFile": False}})
            )
            inline = await launch(client, tmp_path)
            assert "envFile" not in inline
            assert inline["env"]["GREETING"] == "Hello"
            assert inline["env"]["API_KEY"] == SECRET_VALUE

            explicit = await launch(client, tmp_path, useEnvFile=True)
            assert explicit["envFile"] == session["envFile"]
            assert SECRET_VALUE not in str(explicit)
        finally:
            await end_to_end.run(client, "kubelocal.server.disconnect", {})


SERVICE_TOKEN = "version: 0.1\nenv:\n  - name: A\n    value: $(services:|\n"
VOLUME_TOKEN = "version: 0.1\nenv:\n  - name: A\n    value: $(volumeMounts:|\n"
VOLUME_MOUNT_NAME = "version: 0.1\nvolumeMounts:\n  - name: |\n"


async def test_completion_offers_the_sessions_services_and_volumes(cluster, tmp_path):
    async with end_to_end.language_server(cluster, tmp_path, options={"diagnosticsDelayMs": 10}) as client:
        await connect(client, cluster, tmp_path, 18_622)
        try:
            services = await helpers.complete_at_bar(client, SERVICE_TOKEN)
            by_label = {item.label: item for item in services.items}
            assert {"frontend", "greeter", "catalog"} <= set(by_label)
            assert "80/TCP (http)" in (by_label["greeter"].detail or "")
            assert services.is_incomplete is False

            volumes = await helpers.complete_at_bar(client, VOLUME_TOKEN)
            assert helpers.labels(volumes) == ["code", "message"]
            mount_names = await helpers.complete_at_bar(client, VOLUME_MOUNT_NAME)
            assert helpers.labels(mount_names) == ["code", "message"]
        finally:
            await end_to_end.run(client, "kubelocal.server.disconnect", {})
        # Disconnected: the session's namespace is no longer the default, so no plain `greeter`
        # (the sandbox context's namespace is another one).
        services = await helpers.complete_at_bar(client, SERVICE_TOKEN)
        assert "greeter" not in helpers.labels(services)
