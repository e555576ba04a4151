"""The typed model of a KubernetesLocalProcessConfig.yaml, with the tokens of env values parsed.

Built best-effort from the node tree, so an editor has a model while the file has problems:
entries whose name or value is missing or not a scalar are left out, a token with an issue stays
literal text, and scalar values are taken as written (`value: yes` is the text "yes"). The engine
acts only on files without errors, where the model is exactly what the file says.
"""

from __future__ import annotations

import dataclasses

import yaml

from kubelocal.config import locations, parsing, problems, schema, tokens

Literal = tokens.Literal
ServiceToken = tokens.ServiceToken
VolumeMountToken = tokens.VolumeMountToken
ExternalEndpointToken = tokens.ExternalEndpointToken
Part = tokens.Part


@dataclasses.dataclass(frozen=True)
class EnvEntry:
    name: str
    value: str
    name_span: problems.Span
    value_span: problems.Span
    parts: tuple[Part, ...]


@dataclasses.dataclass(frozen=True)
class VolumeMount:
    name: str
    local_path: str
    name_span: problems.Span
    local_path_span: problems.Span


@dataclasses.dataclass(frozen=True)
class ConfigModel:
    """`version` is the text as written (`0.1`); `features` holds the known features only."""

    version: str | None
    env: tuple[EnvEntry, ...]
    volume_mounts: tuple[VolumeMount, ...]
    features: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class ValueLocator:
    """Maps offsets inside a scalar's value to document spans.

    Exact for a single-line plain scalar and for a single-line quoted one without escapes (the
    content starts one column after the quote). Otherwise (escapes, folded or multi-line
    scalars) offsets cannot be mapped exactly, and every span is the whole value node.
    """

    index: locations.LineIndex
    node_span: problems.Span
    content_start: int | None

    def span(self, start: int, end: int) -> problems.Span:
        if self.content_start is None:
            return self.node_span
        return self.index.span(self.content_start + start, self.content_start + end)


def locate_value(index: locations.LineIndex, node: yaml.ScalarNode) -> ValueLocator:
    start, end = node.start_mark.index, node.end_mark.index
    source = index.text[start:end]
    content_start: int | None = None
    if not node.style and source == node.value:
        content_start = start
    elif node.style in ("'", '"') and source[1:-1] == node.value and "\n" not in source:
        # Equal content means no escapes ('' or \x) and no folding: offsets map one to one.
        content_start = start + 1
    return ValueLocator(index, parsing.node_span(index, node), content_start)


def top_level(root: yaml.Node, key: str) -> yaml.Node | None:
    if not isinstance(root, yaml.MappingNode):
        return None
    _, node = parsing.resolve_path(root, (key,))
    return node


def list_items(root: yaml.Node, key: str) -> list[yaml.Node]:
    node = top_level(root, key)
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def item_fields(
    item: yaml.Node, *, first: str, second: str
) -> tuple[yaml.ScalarNode | None, yaml.ScalarNode | None]:
    """The two scalar fields of a list item (`name`/`value`); a field that is absent or not a
    scalar (or the item not a mapping) is None."""
    first_node = second_node = None
    if isinstance(item, yaml.MappingNode):
        for key_node, value_node in parsing.mapping_entries(item):
            if key_node.value == first:
                first_node = value_node
            elif key_node.value == second:
                second_node = value_node
    return (
        first_node if isinstance(first_node, yaml.ScalarNode) else None,
        second_node if isinstance(second_node, yaml.ScalarNode) else None,
    )


def build(parsed: parsing.Parsed) -> ConfigModel | None:
    """The model of a parsed file; None when the document is not a mapping or could not be built."""
    root = parsed.root
    if not isinstance(root, yaml.MappingNode) or parsed.value is None:
        return None
    index = parsed.index
    version_node = top_level(root, "version")
    env = []
    for item in list_items(root, "env"):
        name_node, value_node = item_fields(item, first="name", second="value")
        if name_node is None or value_node is None:
            continue
        # Positional arguments: a frozen dataclass is built noticeably faster so (2,000 entries).
        env.append(
            EnvEntry(
                name_node.value,
                value_node.value,
                parsing.node_span(index, name_node),
                parsing.node_span(index, value_node),
                located_parts(index, value_node),
            )
        )
    volume_mounts = []
    for item in list_items(root, "volumeMounts"):
        name_node, path_node = item_fields(item, first="name", second="localPath")
        if name_node is None or path_node is None:
            continue
        volume_mounts.append(
            VolumeMount(
                name=name_node.value,
                local_path=path_node.value,
                name_span=parsing.node_span(index, name_node),
                local_path_span=parsing.node_span(index, path_node),
            )
        )
    known_features = schema.feature_names()
    features = tuple(
        item.value
        for item in list_items(root, "enableFeatures")
        if isinstance(item, yaml.ScalarNode) and item.value in known_features
    )
    return ConfigModel(
        version=version_node.value if isinstance(version_node, yaml.ScalarNode) else None,
        env=tuple(env),
        volume_mounts=tuple(volume_mounts),
        features=features,
    )


def located_parts(index: locations.LineIndex, value_node: yaml.ScalarNode) -> tuple[Part, ...]:
    locator = locate_value(index, value_node)
    located: list[Part] = []
    for part in tokens.parse(value_node.value).parts:
        span = locator.span(part.start, part.end)
        if isinstance(part, Literal):  # the most common part: built directly, replace() is slower
            located.append(Literal(part.text, part.start, part.end, span))
        else:
            located.append(dataclasses.replace(part, span=span))
    return tuple(located)
