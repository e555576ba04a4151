"""Completion through the language server, end to end.

Aspects: top-level keys not yet present, as snippets that write the value's skeleton; item keys of an
env entry; whole-entry snippets; features not yet listed; the version; `$(` token snippets and
token types in env values (with UTF-16 replace ranges after astral characters); nothing in other
files. With a cluster (a fake API server on loopback): service names, namespaces, ports and volume
names, hover on a token saying what the cluster has under its name, and a log message to the client
saying what was read. With an unreachable or unresponsive cluster: the static items, answered while
the cluster has not answered.
"""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio
import pytest_lsp
from lsprotocol import types
from tests.lsp import fake_api, helpers

pytestmark = [
    pytest.mark.slow,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]


@pytest_lsp.fixture(scope="module", config=helpers.client_server_config())
async def client(lsp_client: helpers.RecordingClient):
    await helpers.initialize(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def complete_at_bar(client, text: str) -> types.CompletionList:
    """Open `text` as a fresh config file and complete at its `|` (the bar is removed)."""
    before, _, after = text.partition("|")
    uri = helpers.config_uri()
    helpers.open_document(client, uri, before + after)
    line = before.count("\n")
    column = len(before.split("\n")[-1].encode("utf-16-le")) // 2
    return await helpers.complete(client, uri, line, column)


def item(result: types.CompletionList, label: str) -> types.CompletionItem:
    return next(candidate for candidate in result.items if candidate.label == label)


async def test_top_level_keys_not_present_as_snippets(client):
    result = await complete_at_bar(client, "version: 0.1\n|\nenableFeatures: [Probes]\n")
    assert {"env", "volumeMounts"} <= set(helpers.labels(result))
    assert not {"version", "enableFeatures"} & set(helpers.labels(result))
    env = item(result, "env")
    assert env.insert_text_format == types.InsertTextFormat.Snippet
    assert isinstance(env.text_edit, types.TextEdit)
    assert env.text_edit.new_text == "env:\n  - name: ${1:NAME}\n    value: ${2:value}"
    assert env.text_edit.range == helpers.lsp_range((1, 0), (1, 0))
    assert isinstance(env.documentation, types.MarkupContent) and "tokens" in env.documentation.value


async def test_item_keys_and_whole_entry_snippets(client):
    result = await complete_at_bar(client, "version: 0.1\nenv:\n  - name: A\n    |\n")
    assert helpers.labels(result) == ["value"]
    assert result.items[0].text_edit.new_text == "value: $1"
    fresh = await complete_at_bar(client, "version: 0.1\nenv:\n  - |\n")
    assert {"name", "value", "env entry: service address"} <= set(helpers.labels(fresh))
    snippet = item(fresh, "env entry: service address")
    assert snippet.text_edit.new_text == "name: ${1:MYAPP_SERVICE_HOST}\n    value: \\$(services:${2:myapp})"


async def test_features_not_yet_listed(client):
    result = await complete_at_bar(client, "version: 0.1\nenableFeatures:\n  - Probes\n  - |\n")
    assert sorted(helpers.labels(result)) == ["LifecycleHooks", "ManagedIdentity"]
    flow = await complete_at_bar(client, "version: 0.1\nenableFeatures: [LifecycleHooks, Pro|]\n")
    assert sorted(helpers.labels(flow)) == ["ManagedIdentity", "Probes"]
    assert item(flow, "Probes").text_edit.range == helpers.lsp_range((1, 33), (1, 36))


async def test_version_value(client):
    result = await complete_at_bar(client, "version: |\n")
    assert helpers.labels(result) == ["0.1"]


async def test_token_snippets_in_env_values_replace_the_dollar(client):
    result = await complete_at_bar(client, "version: 0.1\nenv:\n  - name: A\n    value: 😀 $|\n")
    assert {"$(services:...)", "$(volumeMounts:...)", "$(externalendpoints:...)"} <= set(
        helpers.labels(result)
    )
    services = item(result, "$(services:...)")
    assert services.text_edit.new_text == "\\$(services:${1:name})"
    # "    value: 😀 " is 13 code points, 14 UTF-16 units: the `$` typed is replaced.
    assert services.text_edit.range == helpers.lsp_range((3, 14), (3, 15))


async def test_token_types_after_dollar_parenthesis(client):
    result = await complete_at_bar(client, "version: 0.1\nenv:\n  - name: A\n    value: x $(vol|\n")
    assert helpers.labels(result) == ["services", "volumeMounts", "externalendpoints"]
    volume = item(result, "volumeMounts")
    assert volume.text_edit.new_text == "volumeMounts:"
    assert volume.text_edit.range == helpers.lsp_range((3, 15), (3, 18))


async def test_nothing_offered_in_files_that_are_not_ours(client):
    uri = "file:///workspace/chart/values.yaml"
    helpers.open_document(client, uri, "env:\n  - \n")
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=helpers.position(1, 4)
        )
    )
    assert result is None


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api():
    server = fake_api.FakeApiServer()
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster_client(api, tmp_path_factory):
    kubeconfig = fake_api.write_kubeconfig(
        tmp_path_factory.mktemp("cluster") / "kubeconfig", server=f"http://127.0.0.1:{api.port}"
    )
    async with helpers.running_server(KUBECONFIG=str(kubeconfig)) as started:
        yield started


async def complete_until(client, text: str, wanted: str, *, timeout: float = 15.0) -> types.CompletionList:
    """Complete until `wanted` is offered (the catalog reads the cluster in the background)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await complete_at_bar(client, text)
        if wanted in helpers.labels(result) or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.05)


async def test_service_names_from_the_cluster(cluster_client):
    result = await complete_until(
        cluster_client, "version: 0.1\nenv:\n  - name: A\n    value: $(services:c|\n", "cart"
    )
    # Services of the context's namespace (shop) by name; others as NAME.NAMESPACE.
    assert {"cart", "catalog", "ledger.payments", "kubernetes.default"} <= set(helpers.labels(result))
    assert "8080/TCP (http)" in (item(result, "cart").detail or "")
    assert result.is_incomplete is False
    logged = [message.message for message in cluster_client.log_messages]
    assert (
        "Read 4 services in 3 namespaces and 2 volumes from context 'fake-context' for completion." in logged
    )


async def test_namespaces_ports_and_volumes_from_the_cluster(cluster_client):
    await complete_until(cluster_client, "version: 0.1\nenv:\n  - name: A\n    value: $(services:|\n", "cart")
    namespaces = await complete_at_bar(
        cluster_client, "version: 0.1\nenv:\n  - name: A\n    value: $(services:ledger.|\n"
    )
    assert set(helpers.labels(namespaces)) == {"default", "payments", "shop"}
    assert item(namespaces, "payments").sort_text < item(namespaces, "shop").sort_text
    ports = await complete_at_bar(
        cluster_client, "version: 0.1\nenv:\n  - name: A\n    value: $(services:catalog:|\n"
    )
    assert helpers.labels(ports) == ["80", "9090"]
    volumes = await complete_at_bar(
        cluster_client, "version: 0.1\nenv:\n  - name: A\n    value: $(volumeMounts:|\n"
    )
    assert helpers.labels(volumes) == ["app-config", "cache"]
    mount_names = await complete_at_bar(cluster_client, "version: 0.1\nvolumeMounts:\n  - name: |\n")
    assert helpers.labels(mount_names) == ["app-config", "cache"]


async def test_unreachable_cluster_still_gets_the_static_items(tmp_path):
    kubeconfig = fake_api.write_kubeconfig(
        tmp_path / "kubeconfig", server=f"https://127.0.0.1:{fake_api.closed_port()}"
    )
    async with helpers.running_server(KUBECONFIG=str(kubeconfig)) as client:
        for _ in range(2):  # during and after the failed read
            tokens = await complete_at_bar(client, "version: 0.1\nenv:\n  - name: A\n    value: $|\n")
            assert "$(services:...)" in helpers.labels(tokens)
            names = await complete_at_bar(
                client, "version: 0.1\nenv:\n  - name: A\n    value: $(services:|\n"
            )
            assert helpers.labels(names) == []
            await asyncio.sleep(0.2)


async def test_unresponsive_cluster_does_not_hold_completion(tmp_path):
    server = fake_api.FakeApiServer()
    server.hang = True
    await server.start()
    try:
        kubeconfig = fake_api.write_kubeconfig(
            tmp_path / "kubeconfig", server=f"http://127.0.0.1:{server.port}"
        )
        async with helpers.running_server(
            options={"clusterTimeoutSeconds": 30}, KUBECONFIG=str(kubeconfig)
        ) as client:
            for _ in range(200):  # wait until the catalog's read is held by the cluster
                if server.requests:
                    break
                await asyncio.sleep(0.05)
            assert server.requests == ["/api/v1/namespaces"]
            result = await complete_at_bar(client, "|\n")
            assert "version" in helpers.labels(result)
            names = await complete_at_bar(
                client, "version: 0.1\nenv:\n  - name: A\n    value: $(services:|\n"
            )
            # Answered while the cluster's first answer is still pending; the list says more may come.
            assert server.requests == ["/api/v1/namespaces"]
            assert names.is_incomplete is True
    finally:
        await server.stop()


async def test_hover_on_a_token_tells_what_the_cluster_has(cluster_client):
    await complete_until(cluster_client, "version: 0.1\nenv:\n  - name: A\n    value: $(services:|\n", "cart")
    uri = helpers.config_uri()
    helpers.open_document(
        cluster_client, uri, "version: 0.1\nenv:\n  - name: A\n    value: $(services:cart) $(services:gone)\n"
    )

    async def hover_text(character: int) -> str:
        result = await cluster_client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=helpers.position(3, character)
            )
        )
        assert result is not None and isinstance(result.contents, types.MarkupContent)
        return result.contents.value

    found = await hover_text(15)
    assert "In context `fake-context`: namespace `shop` at 10.0.0.10, ports 8080/TCP (http)." in found
    missing = await hover_text(35)
    assert "Not found in namespace `shop` of context `fake-context`." in missing
