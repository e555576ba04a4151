"""Completion items from a cursor context (pure): what is offered and the text it writes.

Aspects: an empty file offers every top-level key and the starter-file snippet; renaming a key
writes the name only; a new env item needing a dash gets it; snippet indentation is absolute for
clients that keep it as is, relative otherwise; enum values skip those present; cluster items.
"""

from __future__ import annotations

from lsprotocol import types

from kubelocal.config import problems, schema
from kubelocal.kube import cataloging
from kubelocal.lsp import completions, cursor_contexts, schemas

SCHEMA = schema.load_schema()
SECTIONS = schemas.section_shapes(SCHEMA)
REPLACE = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))


def offered(text: str, *, absolute: bool = True, snapshot=cataloging.EMPTY) -> dict[str, str]:
    before, _, after = text.partition("|")
    lines = (before + after).split("\n")
    line = before.count("\n")
    cursor = problems.Position(line, len(before.split("\n")[-1]))
    context = cursor_contexts.analyse(lines, cursor, sections=SECTIONS)
    indent = len(lines[line]) - len(lines[line].lstrip())
    items = completions.items(
        context,
        schema=SCHEMA,
        snapshot=snapshot,
        replace=REPLACE,
        line_indent=indent,
        absolute_indent=absolute,
    )
    return {
        item.label: item.text_edit.new_text for item in items if isinstance(item.text_edit, types.TextEdit)
    }


def test_an_empty_file_offers_every_key_and_the_starter_file():
    items = offered("|")
    assert set(items) == {"version", "env", "volumeMounts", "enableFeatures", "KubernetesLocalProcessConfig"}
    assert items["version"] == "version: 0.1"
    assert items["enableFeatures"] == "enableFeatures:\n  - ${1|Probes,LifecycleHooks,ManagedIdentity|}"
    assert (
        items["KubernetesLocalProcessConfig"]
        == "version: 0.1\nenv:\n  - name: ${1:NAME}\n    value: ${2:value}"
    )


def test_renaming_a_key_writes_the_name_only():
    assert offered("vol|: x\nversion: 0.1\n") == {
        "env": "env",
        "volumeMounts": "volumeMounts",
        "enableFeatures": "enableFeatures",
    }


def test_a_new_env_item_gets_its_dash_and_indentation():
    items = offered("version: 0.1\nenv:\n  |\n")
    assert items["name"] == "- name: $1"
    assert items["env entry"] == "- name: ${1:NAME}\n    value: ${2:value}"
    # A client that adjusts indentation itself gets it relative to the cursor line's (2 spaces).
    relative = offered("version: 0.1\nenv:\n  |\n", absolute=False)
    assert relative["env entry"] == "- name: ${1:NAME}\n  value: ${2:value}"


def test_enum_values_skip_those_present():
    assert offered("enableFeatures:\n  - Probes\n  - |\n") == {
        "ManagedIdentity": "ManagedIdentity",
        "LifecycleHooks": "LifecycleHooks",
    }
    assert offered("enableFeatures:\n  - Probes\n  |\n")["LifecycleHooks"] == "- LifecycleHooks"


def test_env_values_offer_ready_made_tokens_for_what_the_cluster_has():
    snapshot = cataloging.Snapshot(
        namespace="shop",
        services=(cataloging.Service("cart", "shop"), cataloging.Service("ledger", "payments")),
        volumes=("data",),
        read_at=1.0,
    )
    items = offered("env:\n  - name: A\n    value: |\n", snapshot=snapshot)
    assert items["$(services:cart)"] == "$(services:cart)"
    assert items["$(volumeMounts:data)"] == "$(volumeMounts:data)"
    assert "$(services:ledger)" not in items  # another namespace: offered inside the token as ledger.payments
    names = offered("env:\n  - name: A\n    value: $(services:|\n", snapshot=snapshot)
    assert set(names) == {"cart", "ledger.payments"}
