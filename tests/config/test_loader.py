"""The parser's loader tags every node as PyYAML's safe loader does, with less work per node.

Covers: the same node tree (kinds, tags, values, styles, start and end offsets) as
`yaml.compose(text, Loader=yaml.CSafeLoader)` for every YAML 1.1 implicit type, quoted and block
scalars, explicit tags, flow and block collections, anchors, aliases and merge keys; and for any
YAML-ish text (property-based, bounded), including text libyaml rejects, the same error.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import yaml
from hypothesis import strategies as st

from kubelocal.config import parsing

SCALARS = [
    "yes", "No", "on", "OFF", "true", "False", "y", "n", "~", "null", "Null", "NULL", "", "0", "-1",
    "+12", "0123", "0o17", "0x1F", "0b101", "1_000", "190:20:30", "1.0", "-.5", "+1e3", ".inf", "-.Inf",
    ".nan", "6.8523015e+5", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2002-12-14 21:59:43", "<<",
    "=", "name", "value", "$(services:a:80)", "SERVICE_1_HOST", "'quoted yes'", '"0123"', "!!str 12",
    "!!int '7'", "!custom x", "|\n    yes\n", ">-\n    1.0\n", "&anchor on", "-a", ".", "+", "0.1.2", "é",
]  # fmt: skip


def tree(node: yaml.Node | None) -> Any:
    if node is None:
        return None
    where = (type(node).__name__, node.tag, node.start_mark.index, node.end_mark.index)
    if isinstance(node, yaml.ScalarNode):
        return (*where, node.value, node.style)
    if isinstance(node, yaml.MappingNode):
        return (*where, node.flow_style, [(tree(key), tree(value)) for key, value in node.value])
    return (*where, node.flow_style, [tree(item) for item in node.value])


def composed_by(loader_class: type[yaml.CSafeLoader], text: str) -> Any:
    loader = loader_class(text)
    try:
        return tree(loader.get_single_node())
    except yaml.YAMLError as error:
        return ("error", str(error))
    finally:
        loader.dispose()


def test_every_kind_of_scalar_gets_the_safe_loaders_tag():
    text = "".join(f"k{number}: {scalar}\n" for number, scalar in enumerate(SCALARS))
    text += "list: [yes, 1, ~, {a: 0x1}]\nbase: &b {x: 1}\nmerged: {<<: *b, y: no}\nalias: *b\n"
    text += "seq: !!seq [1]\nmap: !!map {a: 1}\nset: !!set {? a}\nomap: !!omap [a: 1]\n"
    ours = composed_by(parsing._loader_class(), text)
    assert ours == composed_by(yaml.CSafeLoader, text)
    assert ours[0] == "MappingNode"


FRAGMENTS = [*SCALARS, ": ", "\n", "  ", "- ", "[", "]", "{", "}", ", ", "*anchor", "---\n", "#", "? "]


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join))
def test_any_text_composes_as_with_the_safe_loader(text: str):
    assert composed_by(parsing._loader_class(), text) == composed_by(yaml.CSafeLoader, text)
