"""Parse the text into libyaml's node tree and build plain values from it, with exact positions.

libyaml's composer (`yaml.CSafeLoader`) is fast and keeps every node's start and end mark. PyYAML's
constructor is not used, because it silently keeps the last of two equal keys and expands aliases
without bound; values are built here instead:

- scalars resolve as YAML 1.1 does (PyYAML's resolver already tagged them: `yes` is a boolean,
  `0123` an octal number, `~` null), so the schema sees what a Kubernetes tool would see;
- a repeated key is a `duplicate-key` problem on the later key, and the first value is kept;
- aliases share the value built for their anchor, and once the aliases would expand the document by
  more than `ALIAS_EXPANSION_LIMIT` nodes (an alias bomb), building stops with an `alias-limit`
  problem and no value, so nothing downstream walks the explosion;
- a recursive alias (`&a [*a]`) is an `alias-limit` problem too;
- nesting deeper than `NESTING_LIMIT` is a `nesting-limit` problem (a config nests three levels);
- characters YAML forbids (control characters, lone surrogates) are found before libyaml sees the
  text, so the problem points at the exact character;
- only the first YAML document is read; a second one is a `multiple-documents` problem.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import yaml

from kubelocal.config import locations, problems

ALIAS_EXPANSION_LIMIT = 10_000
NESTING_LIMIT = 100

# The characters libyaml's reader accepts (YAML 1.1 "printable"); anything else stops the parse.
_FORBIDDEN_CHARACTER = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_COLLECTION_NODES = (yaml.MappingNode, yaml.SequenceNode)  # a tuple: `A | B` is built on every call
_SCALAR_CONSTRUCTOR = yaml.constructor.SafeConstructor()


class _Loader(yaml.CSafeLoader):
    """libyaml's composer with PyYAML's safe resolver, minus the work the safe resolver never needs.

    The composer calls these three Python methods for every node; PyYAML's versions first look for
    path resolvers and wildcard implicit resolvers, which the safe loader does not have. Without
    that, composing a 2,000-entry file takes a fifth less time. The tags are the same (a test
    compares them with `yaml.CSafeLoader`'s); `parse` falls back to `yaml.CSafeLoader` if someone
    registers such resolvers on it.
    """

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            if implicit[0]:
                # YAML 1.1's implicit types, chosen by the first character ('' for the empty value).
                for tag, regexp in self.yaml_implicit_resolvers.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return self.DEFAULT_SCALAR_TAG
        if kind is yaml.SequenceNode:
            return self.DEFAULT_SEQUENCE_TAG
        return self.DEFAULT_MAPPING_TAG


def _loader_class() -> type[yaml.CSafeLoader]:
    if yaml.CSafeLoader.yaml_path_resolvers or None in yaml.CSafeLoader.yaml_implicit_resolvers:
        return yaml.CSafeLoader
    return _Loader


@dataclasses.dataclass
class Parsed:
    """The first document of a text: its node tree, its plain value, and what went wrong.

    `root` is None when the text has no document (empty, comments only) or cannot be parsed;
    `value` is None then, and also when building stopped (alias bomb, recursion, nesting).
    """

    index: locations.LineIndex
    root: yaml.Node | None = None
    value: Any = None
    problems: list[problems.Problem] = dataclasses.field(default_factory=list)
    lookup: EntryLookup = dataclasses.field(default_factory=lambda: EntryLookup())


def parse(text: str) -> Parsed:
    """Parse `text`; never raises for any input text."""
    parsed = Parsed(index=locations.LineIndex(text))
    # From here on, the text without a leading byte-order mark, as libyaml's marks count it.
    text = parsed.index.text
    forbidden = _FORBIDDEN_CHARACTER.search(text)
    if forbidden is not None:
        parsed.problems.append(_forbidden_character_problem(parsed.index, forbidden.start()))
        return parsed
    loader = _loader_class()(text)
    try:
        if not loader.check_node():
            return parsed
        parsed.root = loader.get_node()
        next_event = loader.peek_event()
        if isinstance(next_event, yaml.DocumentStartEvent):
            parsed.problems.append(_multiple_documents_problem(parsed.index, next_event))
    except yaml.MarkedYAMLError as error:
        parsed.root = None
        parsed.problems.append(_syntax_problem(parsed.index, error))
        return parsed
    except yaml.YAMLError as error:
        # Only a reader error gets here, and the forbidden-character scan above prevents those.
        parsed.root = None
        parsed.problems.append(
            problems.Problem(
                code="yaml-syntax",
                severity=problems.Severity.ERROR,
                message=f"The text cannot be read as YAML: {error}. Fix the text and check again.",
                span=parsed.index.span(0, 0),
            )
        )
        return parsed
    finally:
        loader.dispose()
    builder = _Builder(parsed.index)
    try:
        parsed.value = builder.build(parsed.root, depth=0)
    except _BuildStopped:
        parsed.value = None
    parsed.problems.extend(builder.problems)
    return parsed


def node_span(index: locations.LineIndex, node: yaml.Node) -> problems.Span:
    start = node.start_mark.index
    end = content_end(node)
    # A block scalar (`|`, `>`) ends after its last line break: stop at its last character.
    text = index.text
    while end > start and text[end - 1] in " \t\r\n":
        end -= 1
    return index.span(start, end)


def content_end(node: yaml.Node) -> int:
    """Where a node's own text ends.

    libyaml ends a block list or mapping where the next token starts (the next line, after any
    comment lines); the node's text really ends with its last item's.
    """
    while isinstance(node, _COLLECTION_NODES) and not node.flow_style and node.value:
        last = node.value[-1]
        last = last[1] if isinstance(node, yaml.MappingNode) else last
        if last.start_mark.index < node.start_mark.index:
            # An alias of an earlier anchor: its node lies elsewhere; libyaml's end will do.
            break
        node = last
    return node.end_mark.index


def key_text(node: yaml.Node) -> str | None:
    """The text of a mapping key as written (`yes:` is the key "yes"), None for a non-scalar key."""
    if isinstance(node, yaml.ScalarNode):
        return node.value
    return None


def mapping_entries(node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
    """The key/value node pairs of a mapping as its value is built.

    The first occurrence of each key only; then the entries merged in with `<<: *anchor` (or a
    list of anchors) whose keys the mapping does not set itself, so that a problem in a merged
    value is found at the anchor's text. Recursive merges are followed once.
    """
    return _entries(node, visiting=set())


def _entries(node: yaml.MappingNode, *, visiting: set[int]) -> list[tuple[yaml.Node, yaml.Node]]:
    visiting.add(id(node))
    seen: set[str] = set()
    entries = []
    merged: list[yaml.Node] = []
    # Inlined key_text and is_merge_key: this runs for every entry of every list item.
    for entry in node.value:
        key_node = entry[0]
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        if key_node.tag == _MERGE_TAG:
            value_node = entry[1]
            merged.extend(value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node])
            continue
        key = key_node.value
        if key in seen:
            continue
        seen.add(key)
        entries.append(entry)
    for source in merged:
        if not isinstance(source, yaml.MappingNode) or id(source) in visiting:
            continue
        for key_node, value_node in _entries(source, visiting=visiting):
            if key_node.value not in seen:
                seen.add(key_node.value)
                entries.append((key_node, value_node))
    return entries


def is_merge_key(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _MERGE_TAG


def resolve_path(
    root: yaml.Node, path: tuple[str | int, ...], *, lookup: EntryLookup | None = None
) -> tuple[yaml.Node | None, yaml.Node | None]:
    """Follow a value path (as jsonschema reports it) through the node tree.

    Returns `(key_node, value_node)`: the key node is the one naming the last step when that step
    is a mapping key, else None. `(None, None)` when the path leaves the tree. Pass the `lookup`
    of the tree (`Parsed.lookup`) when following many paths: each mapping is then indexed once.
    """
    if lookup is None:
        lookup = EntryLookup()
    key_node: yaml.Node | None = None
    node: yaml.Node | None = root
    for step in path:
        key_node = None
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            entry = lookup.entry(node, step)
            if entry is None:
                return None, None
            key_node, node = entry
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            return None, None
    return key_node, node


class EntryLookup:
    """A mapping node's entry by key in constant time, each mapping indexed on first use.

    Listing a mapping's entries for every path followed made a file with n problems in one mapping
    (n unknown keys, say) cost n listings of n entries: quadratic, 44 s for 8,000 unknown keys.
    Keep one lookup per tree (`Parsed.lookup`); it keeps the mapping nodes it indexed alive, so
    their ids are never reused while it lives.
    """

    def __init__(self) -> None:
        self._by_node: dict[int, tuple[yaml.MappingNode, dict[str, tuple[yaml.Node, yaml.Node]]]] = {}

    def entry(self, node: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
        """`(key_node, value_node)` of `key` as `mapping_entries` lists it (merges included), or None."""
        indexed = self._by_node.get(id(node))
        if indexed is None:
            # mapping_entries lists each key once, so every key maps to its only entry.
            by_key = {
                key_node.value: (key_node, value_node) for key_node, value_node in mapping_entries(node)
            }
            indexed = self._by_node[id(node)] = (node, by_key)
        return indexed[1].get(key)


def plain_scalar_start(index: locations.LineIndex, node: yaml.Node) -> int | None:
    """Where the text of an untagged plain scalar starts (after an anchor), else None.

    A plain scalar is the one YAML resolves by its look (`yes`, `0123`); a tagged one (`!!int 1`)
    says what it is, and a quoted or block one is text.
    """
    if not isinstance(node, yaml.ScalarNode) or node.style:
        return None
    start, end = node.start_mark.index, node.end_mark.index
    value_start = end - len(node.value)
    if value_start < start or index.text[value_start:end] != node.value:
        return None  # a plain scalar folded over several lines
    if "!" in index.text[start:value_start]:
        return None
    return value_start


class _BuildStopped(Exception):
    """Building the value stopped; the reason is already in the builder's problems."""


_IN_PROGRESS = object()


class _Builder:
    """Builds values from nodes, once per collection node (an alias shares the anchor's value).

    Scalars are not memoized: an alias of a scalar costs one node, so it cannot explode. Sizes
    (nodes a collection stands for once expanded) are computed only when an alias is met.
    """

    def __init__(self, index: locations.LineIndex) -> None:
        self.index = index
        self.problems: list[problems.Problem] = []
        self.built: dict[int, Any] = {}
        self.sizes: dict[int, int] = {}
        self.alias_expansion = 0

    def build(self, node: yaml.Node, *, depth: int, place: yaml.Node | None = None) -> Any:
        """Build the value of `node`; `place` is where the node is referred to (for alias problems)."""
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        node_id = id(node)
        value = self.built.get(node_id, self)
        if value is _IN_PROGRESS:
            self._stop(
                "alias-limit",
                "This alias refers to a node that contains it, which would never end. "
                "Replace the alias with the values it should stand for.",
                node=place or node,
            )
        if value is not self:  # built before: this is an alias
            self.alias_expansion += self._size(node)
            if self.alias_expansion > ALIAS_EXPANSION_LIMIT:
                self._stop(
                    "alias-limit",
                    f"Aliases here expand the document beyond {ALIAS_EXPANSION_LIMIT} nodes "
                    "(an alias bomb?). Write the values out, or use fewer aliases of aliases.",
                    node=place or node,
                )
            return value
        if depth > NESTING_LIMIT:
            self._stop(
                "nesting-limit",
                f"Nesting deeper than {NESTING_LIMIT} levels is not supported; "
                "KubernetesLocalProcessConfig.yaml needs three. Flatten this value.",
                node=node,
            )
        self.built[node_id] = _IN_PROGRESS
        if isinstance(node, yaml.MappingNode):
            value = {}
            first_keys: dict[str, yaml.Node] = {}
            merged: list[tuple[yaml.Node, yaml.Node]] = []
            # key_text, is_merge_key and the text case of build inlined: this runs for every entry.
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.tag == _MERGE_TAG:
                        merged.append((key_node, value_node))
                        continue
                    key = key_node.value
                else:
                    key = None
                if key is None:
                    self._problem(
                        "wrong-type",
                        "A key must be plain text, not a list or a mapping. Write the key as text.",
                        node=key_node,
                    )
                    continue
                if key in first_keys:
                    self.problems.append(
                        duplicate_key_problem(
                            key=key,
                            span=node_span(self.index, key_node),
                            first=self.index.position(first_keys[key].start_mark.index),
                        )
                    )
                    continue
                first_keys[key] = key_node
                if isinstance(value_node, yaml.ScalarNode) and value_node.tag == _STR_TAG:
                    value[key] = value_node.value
                else:
                    value[key] = self.build(value_node, depth=depth + 1, place=key_node)
            for key_node, value_node in merged:
                self._merge(value, key_node, value_node, depth=depth)
        else:
            value = [self.build(item, depth=depth + 1, place=node) for item in node.value]
        self.built[node_id] = value
        return value

    def _merge(self, value: dict[str, Any], key_node: yaml.Node, source: yaml.Node, *, depth: int) -> None:
        """`<<: *anchor` (or a list of anchors): add the keys the mapping does not set itself.

        As YAML 1.1 (and Kubernetes' YAML) does; a merged value is shared with its anchor.
        """
        sources = source.value if isinstance(source, yaml.SequenceNode) else [source]
        for item in sources:
            if not isinstance(item, yaml.MappingNode):
                self._problem(
                    "wrong-type",
                    "'<<' merges mappings: write '<<: *anchor' with the anchor of a mapping, "
                    "or a list of such aliases.",
                    node=item,
                )
                continue
            built = self.build(item, depth=depth + 1, place=key_node)
            for key, merged_value in built.items():
                value.setdefault(key, merged_value)

    def _size(self, node: yaml.Node) -> int:
        """How many nodes `node` stands for once its aliases are expanded (memoized).

        Only called for nodes already built, so there is no cycle and the depth is bounded.
        """
        if isinstance(node, yaml.ScalarNode):
            return 1
        size = self.sizes.get(id(node))
        if size is None:
            children = (
                (value for _, value in node.value) if isinstance(node, yaml.MappingNode) else node.value
            )
            size = self.sizes[id(node)] = 1 + sum(self._size(child) for child in children)
        return size

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _STR_TAG:  # most scalars: no constructor call needed
            return node.value
        constructor = yaml.constructor.SafeConstructor.yaml_constructors.get(node.tag)
        if constructor is None:
            if node.tag.startswith("tag:yaml.org,2002:"):
                # Collection tags on scalars (`!!map x`) and the like: read the text.
                return node.value
            self._problem(
                "unknown-tag",
                f"The tag '{node.tag}' is not supported here. Remove it; the value is read as text.",
                node=node,
            )
            return node.value
        try:
            return constructor(_SCALAR_CONSTRUCTOR, node)
        except Exception:
            # PyYAML's constructors raise anything (IndexError on an empty `!!int`): an explicit tag
            # that does not fit its text, like `!!int abc` or `!!binary` that is not base64.
            self._problem(
                "wrong-type",
                f"'{node.value}' is not a valid {node.tag.rsplit(':', 1)[-1]}. "
                "Remove the tag or fix the value.",
                node=node,
            )
            return node.value

    def _problem(
        self, code: str, message: str, *, node: yaml.Node, data: dict[str, Any] | None = None
    ) -> None:
        self.problems.append(
            problems.Problem(
                code=code,
                severity=problems.Severity.ERROR,
                message=message,
                span=node_span(self.index, node),
                data=data or {},
            )
        )

    def _stop(self, code: str, message: str, *, node: yaml.Node) -> None:
        self._problem(code, message, node=node)
        raise _BuildStopped


def duplicate_key_problem(*, key: str, span: problems.Span, first: problems.Position) -> problems.Problem:
    """A key set a second time in one mapping (at `span`); `first` is where the first one starts."""
    return problems.Problem(
        code="duplicate-key",
        severity=problems.Severity.ERROR,
        message=(
            f"Duplicate key '{key}': it is already set on line {first.line + 1}, "
            "and only the first is used. Remove one of them."
        ),
        span=span,
        data={"key": key, "first": {"line": first.line, "column": first.column}},
    )


def _forbidden_character_problem(index: locations.LineIndex, offset: int) -> problems.Problem:
    character = index.text[offset]
    return problems.Problem(
        code="invalid-character",
        severity=problems.Severity.ERROR,
        message=(
            f"The character U+{ord(character):04X} is not allowed in YAML. Remove it "
            "(inside a double-quoted string, write it as an escape such as \\x01 or \\u0001)."
        ),
        span=index.span(offset, offset + 1),
        data={"character": f"U+{ord(character):04X}"},
    )


def _syntax_problem(index: locations.LineIndex, error: yaml.MarkedYAMLError) -> problems.Problem:
    mark = error.problem_mark or error.context_mark
    offset = mark.index if mark is not None else 0
    # One character wide, so an editor underlines something, unless the error is at the very end.
    span = index.span(offset, offset + 1 if offset < index.length else offset)
    problem = (error.problem or "invalid YAML").strip()
    context = ""
    if error.context and error.context_mark is not None:
        where = index.position(error.context_mark.index)
        context = f" ({error.context} started at line {where.line + 1}, column {where.column + 1})"
    return problems.Problem(
        code="yaml-syntax",
        severity=problems.Severity.ERROR,
        message=f"YAML syntax error: {problem}{context}. Fix the YAML here and check again.",
        span=span,
    )


def _multiple_documents_problem(
    index: locations.LineIndex, event: yaml.DocumentStartEvent
) -> problems.Problem:
    start = event.start_mark.index
    end = event.end_mark.index if event.end_mark.index > start else start
    return problems.Problem(
        code="multiple-documents",
        severity=problems.Severity.ERROR,
        message=(
            "A second YAML document starts here, but KubernetesLocalProcessConfig.yaml holds one; "
            "only the first is read. Remove this '---' and what follows, or merge it into the first."
        ),
        span=index.span(start, end),
    )
