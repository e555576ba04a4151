"""Document symbols (pure): sections with their entries, and the flat form for older clients.

Aspects: sections in file order with exact ranges of env entries and volume mounts; features of a
block sequence; unknown features left out; no symbols without a model; the flat list names each
entry's section as its container.
"""

from __future__ import annotations

from lsprotocol import types

from kubelocal.config import checking
from kubelocal.lsp import outlines, positions

TEXT = """version: 0.1
volumeMounts:
  - name: data
    localPath: /tmp/data
env:
  - name: A
    value: x
enableFeatures:
  - Probes
  - Probe
"""


def tree(text: str) -> list[types.DocumentSymbol]:
    index = positions.TextIndex(text)
    return outlines.symbols(checking.check(text).model, index=index)


def test_sections_in_file_order_with_their_entries():
    sections = tree(TEXT)
    assert [symbol.name for symbol in sections] == ["version", "volumeMounts", "env", "enableFeatures"]
    [mount] = sections[1].children or []
    assert (mount.name, mount.detail) == ("data", "/tmp/data")
    assert mount.range == types.Range(
        start=types.Position(line=2, character=10), end=types.Position(line=3, character=24)
    )
    features = sections[3].children or []
    assert [feature.name for feature in features] == ["Probes"]  # the unknown "Probe" is not a feature
    assert features[0].range == types.Range(
        start=types.Position(line=8, character=4), end=types.Position(line=8, character=10)
    )


def test_no_model_no_symbols():
    assert tree("- a list\n") == []
    assert tree("") == []


def test_the_flat_form_names_each_entry_s_section():
    flat = outlines.flattened(tree(TEXT), uri="file:///w/x.yaml")
    assert [(symbol.name, symbol.container_name) for symbol in flat] == [
        ("version", None),
        ("volumeMounts", None),
        ("data", "volumeMounts"),
        ("env", None),
        ("A", "env"),
        ("enableFeatures", None),
        ("Probes", "enableFeatures"),
    ]
    assert all(symbol.location.uri == "file:///w/x.yaml" for symbol in flat)
