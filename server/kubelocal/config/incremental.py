"""Incremental checking: re-check only the parts of a file that changed, with the full check's result.

    checker = incremental.IncrementalChecker()
    result = checker.check(text)   # the same problems, in the same order, as checking.check(text)
    checker.last_run               # how the last check was done (full or incremental, and why)

An editor checks the same file after every pause in typing; a full check of a 2,000-entry file
costs 20-25 ms of CPU, most of it composing and validating entries that did not change. Here the
text is split into chunks: one per top-level key, and inside a block list under `env:` or
`volumeMounts:`, one per list item (`- ` at the list's indentation). Each chunk's problems are
cached under its text; a check re-checks only the chunks whose text is new (consecutive new items
together, as one small document), moves the cached problems of chunks that only moved to their new
lines, and adds what depends on several chunks from per-chunk summaries:

- a top-level key set twice (`duplicate-key` on the later one, whose content is then ignored, as
  the full check ignores it), `missing-version`, and an unknown top-level key (its suggestion
  depends on the keys present);
- `duplicate-env-name` and `duplicate-volume-mount` across list items;
- the item's place in its list, which schema messages name (`env[3].value`).

A chunk is checked as a document of its own that puts it on its own lines (blank lines before it,
and `env:` on the line before an item), so its positions and messages are the full check's. The
split is trusted only where the chunks cannot interact; otherwise the full check runs, and its
result is returned as is. It runs when the text has a byte-order mark, a tab, a line break other
than LF or CRLF (a lone CR, NEL, LS, PS), a document marker or directive, a line before the first
top-level key that is not a comment, a top-level line starting with a YAML indicator, a line left of
a list's indentation that is not an item, text that may be an anchor, alias or merge key (`&`
or `*` starting a token, `<<`); when a chunk has block scalars or flow collections at the top or
list level, a syntax error, a character YAML forbids, a
value only the slow schema validator takes (a date), or a nesting or alias problem; when an item
chunk with problems has text that could read like a list index (`[0`, an escape or a tag); and when
many chunks changed at once in many places.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import itertools
import re
from collections.abc import Iterator
from typing import NamedTuple

import yaml

from kubelocal.config import checking, checks, model, parsing, problems, schema

SPLIT_KEYS = ("env", "volumeMounts")
# More separately changed places than this: the full check answers, and only this many places
# are checked into the cache (each costs a small check of its own).
MAX_DIRTY_GROUPS = 24

_UNSAFE_CHARACTERS = ("\t", "\ufeff", "\x85", "\u2028", "\u2029")
# A top-level line: any character but a space or a comment at column 0, or `-` starting no item.
_TOP_LINE = re.compile(r"\n(?:[^ \r\n#-]|-(?![ \r\n]|$))", re.MULTILINE)
_TOP_LINE_AT_START = re.compile(r"[^ \r\n#-]|-(?![ \r\n]|$)", re.MULTILINE)
_ITEM_LINE = re.compile(r"(?P<indent> *)-(?:[ ]+(?P<rest>.?)|(?=\r?\n|\r?$))")
_SIGNIFICANT = re.compile(r"^ *[^ \r\n#]", re.MULTILINE)
_HEAD_LINE = re.compile(r"(env|volumeMounts):[ ]*(?:#.*)?")
_VALUE_AFTER_KEY = re.compile(r":(?: +|$)")
# What starts a YAML node that is not a plain or quoted scalar: flow, anchor, alias, tag, block
# scalar, directive, reserved. At the start of a top-level line it is not a simple key either.
_INDICATORS = "[]{}&*!|>%@`?:,"
_INDEX_LOOKALIKE = re.compile(r"\[\d|\\|!")
# A check of a chunk on its own says nothing about the whole file when it finds one of these.
_UNTRUSTED_CODES = frozenset(
    {"yaml-syntax", "invalid-character", "multiple-documents", "alias-limit", "nesting-limit", "empty-file"}
)
# Problems whose message names a line: moved, their chunk is checked again.
_LINE_IN_MESSAGE = frozenset({"duplicate-key", "duplicate-env-name", "duplicate-volume-mount"})
_CROSS_ITEM_CODES = frozenset({"duplicate-env-name", "duplicate-volume-mount"})
_ITEM_FIELDS = {"env": ("name", "value"), "volumeMounts": ("name", "localPath")}
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_COLLECTION_NODES = (yaml.MappingNode, yaml.SequenceNode)


class _Untrusted(Exception):
    """The split cannot be trusted for this text; `args[0]` says why."""


class Chunk(NamedTuple):
    """A part of the text checked on its own.

    `kind` is "top" (a top-level key and its value), "head" (the line of `env:` or `volumeMounts:`
    whose value is split into items, with the comments up to the first item) or "item" (one list
    item of `parent`). `line` is the chunk's first line, `start`/`end` its offsets in the text.
    The first chunk starts at the text's start, so it holds the comments above the first key.
    (A named tuple: a large file has thousands, made on every check.)
    """

    kind: str
    parent: str
    line: int
    start: int
    end: int


@dataclasses.dataclass(frozen=True)
class Split:
    """The chunks of a text, or why it cannot be split (`chunks` is empty then)."""

    chunks: tuple[Chunk, ...] = ()
    refusal: str | None = None


def split(text: str) -> Split:
    """Split `text` into chunks, or refuse (for the reasons in the module docstring)."""
    try:
        return Split(chunks=tuple(_chunks(text)))
    except _Untrusted as refusal:
        return Split(refusal=str(refusal))


def _chunks(text: str) -> list[Chunk]:
    """The chunks of `text`, found by searching for top-level lines, then for each list's items.

    The lines in between are checked with one search per list (none may sit left of the list's
    items, or at their indentation without being an item), not one by one: most lines of a large
    file are never looked at in Python.
    """
    if not text:
        raise _Untrusted("the text is empty")
    for character in _UNSAFE_CHARACTERS:
        if character in text:  # one scan per character: faster than one regular expression
            raise _Untrusted(f"the text has the character U+{ord(character):04X}")
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        raise _Untrusted("the text has a line break that is a lone CR")
    anchor = _anchor_alias_or_merge(text)  # before the split: a file with one is refused quickly
    if anchor is not None:
        line = text.count("\n", 0, anchor) + 1
        raise _Untrusted(f"line {line} may have an anchor, alias or merge key")
    tops = [match.start() + 1 for match in _TOP_LINE.finditer(text)]
    if _TOP_LINE_AT_START.match(text):
        tops.insert(0, 0)
    if not tops:
        raise _Untrusted("the text has no top-level key")
    preamble = _SIGNIFICANT.search(text, 0, tops[0])
    if preamble is not None:
        before = text.count("\n", 0, preamble.start()) + 1
        raise _Untrusted(f"line {before} comes before the first top-level key")
    chunks: list[Chunk] = []
    line = 0
    counted = 0
    for number, start in enumerate(tops):
        end = tops[number + 1] if number + 1 < len(tops) else len(text)
        line += text.count("\n", counted, start)
        counted = start
        line_end = text.find("\n", start, end)
        line_end = end if line_end < 0 else line_end
        kind, parent = _top_line(text[start:line_end].removesuffix("\r"), number=line + 1)
        chunk_start, chunk_line = (0, 0) if number == 0 else (start, line)
        items = _items(text, parent, head_end=line_end, end=end, line=line) if kind == "head" else []
        if not items:
            chunks.append(Chunk("top", "", chunk_line, chunk_start, end))
            continue
        chunks.append(Chunk("head", parent, chunk_line, chunk_start, items[0].start))
        chunks.extend(items)
    return chunks


def _items(text: str, parent: str, *, head_end: int, end: int, line: int) -> list[Chunk]:
    """The items of the list under the key whose line ends at `head_end` (on `line`), up to `end`;
    none when the key's value is not a block list (it is one chunk then)."""
    first = _SIGNIFICANT.search(text, head_end, end)
    if first is None:
        return []
    first_item = _ITEM_LINE.match(text, first.start())
    if first_item is None:
        return []
    indent = len(first_item.group("indent"))
    _check_list_lines(text, first.start(), end, indent=indent)
    marks = [first_item, *_item_line(indent).finditer(text, first.start(), end)]
    rests = {mark.group("rest") for mark in marks}
    rests.discard("")
    if not rests.isdisjoint(_INDICATORS):
        raise _Untrusted(f"an item of {parent} starts with one of {sorted(rests & set(_INDICATORS))}")
    starts = [first.start(), *(mark.start() + 1 for mark in marks[1:])]
    line += text.count("\n", head_end - 1 if head_end else 0, first.start())
    lines = [line]
    for previous, start in itertools.pairwise(starts):
        line += text.count("\n", previous, start)
        lines.append(line)
    ends = [*starts[1:], end]
    return [
        Chunk("item", parent, item_line, start, item_end)
        for item_line, start, item_end in zip(lines, starts, ends, strict=True)
    ]


def _top_line(content: str, *, number: int) -> tuple[str, str]:
    """The kind ("top" or "head") and list key of a top-level line, or refuse it."""
    if content.startswith(("---", "...")):
        raise _Untrusted(f"line {number} is a document marker")
    if content[0] in _INDICATORS or content[0] == "-":
        raise _Untrusted(f"line {number} starts with the YAML indicator {content[0]!r}")
    after_key = _VALUE_AFTER_KEY.search(content)
    if after_key is not None:
        value = content[after_key.end() :]
        if value and value[0] in _INDICATORS:
            raise _Untrusted(f"the value on line {number} starts with {value[0]!r}")
    head = _HEAD_LINE.fullmatch(content)
    return ("head", head.group(1)) if head is not None else ("top", "")


@functools.cache
def _item_line(indent: int) -> re.Pattern[str]:
    """A list item's line at `indent`, after its line break; `rest` is the first character after `- `."""
    return re.compile(f"\n {{{indent}}}-(?:[ ]+(?P<rest>.?)|(?=\r?\n|\r?$))")


@functools.cache
def _misplaced_line(indent: int) -> re.Pattern[str]:
    """A line of a list whose items are at `indent` that is left of them, or at their indentation
    without being an item."""
    at_indent = f" {{{indent}}}(?:[^ \r\n#-]|-(?![ \r\n]|$))"
    left = f" {{0,{indent - 1}}}[^ \r\n#]|" if indent else ""
    # "\n", not "^": a literal first character lets the search skip from line break to line break.
    return re.compile(f"\n(?:{left}{at_indent})", re.MULTILINE)


def _check_list_lines(text: str, start: int, end: int, *, indent: int) -> None:
    misplaced = _misplaced_line(indent).search(text, start, end)
    if misplaced is not None:
        line = text.count("\n", 0, misplaced.start()) + 2
        raise _Untrusted(f"line {line} is left of its list's items, or at their indentation, but no item")


@dataclasses.dataclass(frozen=True)
class _Entry:
    """What one chunk contributes, with positions for the chunk starting on `line`.

    `problems` are the chunk's own (for an item: without the cross-item ones, and with its list
    index written as 0 when `indexed`); `key`/`key_span` name a top-level chunk's key;
    `missing_version` is what the full check reports if this chunk is the first and no chunk sets
    `version`; `name` and `name_at` (line offset from `line`, column; end line offset, column)
    are an item's text name for the cross-item checks.
    """

    line: int
    problems: tuple[problems.Problem, ...] = ()
    pinned: bool = False
    indexed: bool = False
    key: str | None = None
    key_span: problems.Span | None = None
    missing_version: problems.Problem | None = None
    name: str | None = None
    name_at: tuple[int, int, int, int] = (0, 0, 0, 0)

    def moved_to(self, line: int) -> _Entry:
        delta = line - self.line
        return dataclasses.replace(
            self,
            line=line,
            problems=tuple(_shifted(problem, delta) for problem in self.problems),
            key_span=_shifted_span(self.key_span, delta) if self.key_span is not None else None,
            missing_version=(
                _shifted(self.missing_version, delta) if self.missing_version is not None else None
            ),
        )


@dataclasses.dataclass(frozen=True)
class Run:
    """How one check was done: `mode` is "full" or "incremental"; `reason` says why it was full;
    `rechecked` counts the chunks checked again, `chunks` all of them."""

    mode: str
    reason: str | None = None
    rechecked: int = 0
    chunks: int = 0


class IncrementalChecker:
    """Checks successive versions of one document, re-checking only the chunks that changed.

    Keeps the entries of the chunks of the last text it split (and nothing older), so its memory
    follows the document's size. Not thread-safe: use one per document, from one thread at a time.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, str], _Entry] = {}
        self.last_run = Run(mode="full", reason="nothing checked yet")

    def check(self, text: str) -> checking.CheckResult:
        """The result of `checking.check(text)`; its model is built from the text when first asked."""
        with checking.collector_paused():
            try:
                found, rechecked, count = self._check(text)
            except _Untrusted as refusal:
                # The cache stays: its entries hold for their texts, and a refused version (a tab
                # typed, then removed) is usually followed by one that reuses them.
                self.last_run = Run(mode="full", reason=str(refusal))
                return checking.check(text)
        self.last_run = Run(mode="incremental", rechecked=rechecked, chunks=count)
        return checking.CheckResult(problems=checking.sorted_once(found), source=text)

    def _check(self, text: str) -> tuple[list[problems.Problem], int, int]:
        chunks = split(text)
        if chunks.refusal is not None:
            raise _Untrusted(chunks.refusal)
        entries: list[_Entry | None] = []
        keys = []
        for chunk in chunks.chunks:
            key = (chunk.kind, chunk.parent, text[chunk.start : chunk.end])
            keys.append(key)
            entry = self._cache.get(key)
            if entry is not None and entry.line != chunk.line:
                entry = None if entry.pinned else entry.moved_to(chunk.line)
            entries.append(entry)
        groups = list(_dirty_groups(chunks.chunks, entries))
        for group in groups[:MAX_DIRTY_GROUPS]:
            first = group[0]
            checked = (
                _check_items(text, chunks.chunks[first : group[-1] + 1])
                if chunks.chunks[first].kind == "item"
                else [_check_top(text, chunks.chunks[first])]
            )
            for position, entry in zip(group, checked, strict=True):
                entries[position] = entry
        self._cache = {key: entry for key, entry in zip(keys, entries, strict=True) if entry is not None}
        if len(groups) > MAX_DIRTY_GROUPS:
            # The full check answers; the chunks checked meanwhile are kept, so a text that stays
            # (a paste of many top-level keys) is checked incrementally after a few versions.
            raise _Untrusted(f"{len(groups)} places changed")
        complete = [entry for entry in entries if entry is not None]
        return _assemble(chunks.chunks, complete), sum(len(group) for group in groups), len(complete)


def _dirty_groups(chunks: tuple[Chunk, ...], entries: list[_Entry | None]) -> Iterator[list[int]]:
    """The positions of chunks without an entry: a top-level chunk alone, consecutive items together."""
    group: list[int] = []
    for position, (chunk, entry) in enumerate(zip(chunks, entries, strict=True)):
        joins = (
            entry is None
            and chunk.kind == "item"
            and bool(group)
            and chunks[group[-1]].kind == "item"
            and group[-1] == position - 1
        )
        if group and not joins:
            yield group
            group = []
        if entry is not None:
            continue
        group.append(position)
    if group:
        yield group


def _check_document(text: str) -> checking.CheckResult:
    result = checking.check(text)
    for problem in result.problems:
        if problem.code in _UNTRUSTED_CODES:
            raise _Untrusted(f"a chunk has a {problem.code} problem")
    parsed = result.parsed
    if parsed is None or not isinstance(parsed.root, yaml.MappingNode) or parsed.value is None:
        raise _Untrusted("a chunk is not a mapping on its own")
    try:
        # As `schema.schema_errors` calls it: a value it cannot take raises only while iterating.
        list(schema.fast_validator().iter_errors(parsed.value))
    except ValueError as error:  # the whole file would be validated by the slower validator
        raise _Untrusted(f"a value the fast validator cannot take ({error})") from None
    if "|" in text or ">" in text:  # aliases and merge keys are refused by their text before
        _check_nodes(parsed.root)
    return result


def _check_nodes(root: yaml.Node) -> None:
    """Refuse block scalars anywhere in a chunk, and aliases (a node met twice) and merge keys."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise _Untrusted("a chunk has an alias")
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if node.style in ("|", ">"):
                raise _Untrusted("a chunk has a block scalar")
            if node.tag == _MERGE_TAG:
                raise _Untrusted("a chunk has a merge key")
        elif isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                stack.append(key_node)
                stack.append(value_node)
        else:
            stack.extend(node.value)


def _anchor_alias_or_merge(text: str) -> int | None:
    """Where the first `&anchor`, `*alias` or `<<` of the text may be, else None.

    An anchor or alias starts a token: after a space, a line break, `[`, `{` or `,`. Looked for
    with `str.find`: a file usually has none of these characters, or a few (globs like `token-*`).
    """
    found = [text.find("<<")] if "<<" in text else []
    for indicator in "&*":
        at = text.find(indicator)
        while at >= 0:
            before = text[at - 1] if at else "\n"
            after = text[at + 1 : at + 2]
            if before in " \n[{," and after not in ("", " ", "\r", "\n"):
                found.append(at)
                break
            at = text.find(indicator, at + 1)
    return min(found) if found else None


def _check_top(text: str, chunk: Chunk) -> _Entry:
    """Check a top-level chunk (or the line of a list key) as a document of its own."""
    chunk_text = text[chunk.start : chunk.end]
    result = _check_document("\n" * chunk.line + chunk_text)
    assert result.parsed is not None and isinstance(result.parsed.root, yaml.MappingNode)
    root = result.parsed.root
    if root.flow_style or len(root.value) != 1:
        raise _Untrusted("a top-level chunk is not one key of a block mapping")
    key_node, value_node = root.value[0]
    index = result.parsed.index
    if not isinstance(key_node, yaml.ScalarNode) or index.position(key_node.start_mark.index).column != 0:
        raise _Untrusted("a top-level chunk does not start with a key")
    if isinstance(value_node, _COLLECTION_NODES) and value_node.flow_style:
        raise _Untrusted("a top-level value is a flow collection")
    key = key_node.value
    key_span = parsing.node_span(index, key_node)
    missing_version = None
    own: list[problems.Problem] = []
    for problem in result.problems:
        if problem.code == "missing-version":
            missing_version = problem
        elif problem.code == "unknown-key" and problem.span == key_span:
            continue  # its suggestion depends on the other top-level keys: added when assembled
        elif chunk.kind == "top":
            own.append(problem)
        # A list key's line alone reads as an empty value: its problems are not the file's.
    return _Entry(
        line=chunk.line,
        problems=tuple(own),
        pinned=any(problem.code in _LINE_IN_MESSAGE for problem in own),
        key=key,
        key_span=key_span,
        missing_version=missing_version,
    )


def _check_items(text: str, chunks: tuple[Chunk, ...]) -> list[_Entry]:
    """Check consecutive items of one list as one document: `parent:` on the line before them."""
    parent = chunks[0].parent
    items_text = text[chunks[0].start : chunks[-1].end]
    prefix = "\n" * (chunks[0].line - 1) + f"{parent}:\n"
    result = _check_document(prefix + items_text)
    assert result.parsed is not None and isinstance(result.parsed.root, yaml.MappingNode)
    root = result.parsed.root
    items_node = root.value[0][1] if len(root.value) == 1 else None
    if not isinstance(items_node, yaml.SequenceNode) or items_node.flow_style:
        raise _Untrusted("list items do not read as a block list")
    if len(items_node.value) != len(chunks):
        raise _Untrusted("list items do not read as one item per chunk")
    shift = len(prefix) - chunks[0].start
    by_item: list[list[problems.Problem]] = [[] for _ in chunks]
    item_lines = [chunk.line for chunk in chunks]
    first_line = chunks[0].line
    for problem in result.problems:
        line = problem.span.start.line
        if line < first_line:
            if problem.code == "missing-version":
                continue
            raise _Untrusted(f"a {problem.code} problem before the items")
        if problem.code in _CROSS_ITEM_CODES:
            continue  # computed from all items when assembled
        by_item[bisect.bisect_right(item_lines, line) - 1].append(problem)
    first_field, _ = _ITEM_FIELDS[parent]
    entries = []
    for number, (chunk, item) in enumerate(zip(chunks, items_node.value, strict=True)):
        if not chunk.start <= item.start_mark.index - shift <= chunk.end:
            raise _Untrusted("a list item does not start in its chunk")
        if isinstance(item, _COLLECTION_NODES) and item.flow_style:
            raise _Untrusted("a list item is a flow collection")
        own, indexed = _index_free(parent, number, by_item[number], text, chunk)
        name_node, _ = model.item_fields(item, first=first_field, second="")
        name = None
        name_at = (0, 0, 0, 0)
        if name_node is not None and name_node.tag == _STR_TAG:
            name = name_node.value
            # The marks' lines and columns are the positions here (no byte-order mark, no line
            # breaks but LF and CRLF), and a scalar that is not a block scalar ends at its end mark.
            start, end = name_node.start_mark, name_node.end_mark
            name_at = (start.line - chunk.line, start.column, end.line - chunk.line, end.column)
        entries.append(
            _Entry(
                line=chunk.line,
                problems=own,
                pinned=bool(own) and any(problem.code in _LINE_IN_MESSAGE for problem in own),
                indexed=indexed,
                name=name,
                name_at=name_at,
            )
        )
    return entries


def _index_free(
    parent: str, number: int, found: list[problems.Problem], text: str, chunk: Chunk
) -> tuple[tuple[problems.Problem, ...], bool]:
    """The item's problems with its list index (`env[7]`) written as 0, and whether any named it.

    Exact only if nothing else in the messages can read `[digit`: an item whose text could put
    one there (a bracket before a digit, an escape, a tag) is refused.
    """
    if not found:
        return (), False
    written = f"{parent}[{number}]"
    if not any(written in problem.message for problem in found):
        return tuple(found), False
    if _INDEX_LOOKALIKE.search(text, chunk.start, chunk.end) is not None:
        raise _Untrusted("an item with problems has text that could read like a list index")
    normal = f"{parent}[0]"
    return tuple(
        dataclasses.replace(problem, message=problem.message.replace(written, normal)) for problem in found
    ), True


def _assemble(chunks: tuple[Chunk, ...], entries: list[_Entry]) -> list[problems.Problem]:
    found: list[problems.Problem] = []
    first_keys: dict[str, problems.Span] = {}
    # The entry of the first item with each name, per list: positions are made only for duplicates.
    first_names: dict[str, dict[str, _Entry]] = {parent: {} for parent in SPLIT_KEYS}
    active = False  # whether the current list's key is the first of its name
    item_number = 0
    for chunk, entry in zip(chunks, entries, strict=True):
        if chunk.kind != "item":
            assert entry.key is not None and entry.key_span is not None
            active = entry.key not in first_keys
            if not active:
                found.append(
                    parsing.duplicate_key_problem(
                        key=entry.key, span=entry.key_span, first=first_keys[entry.key].start
                    )
                )
                continue
            first_keys[entry.key] = entry.key_span
            found.extend(entry.problems)
            item_number = 0
            continue
        if not active:
            continue  # the items of a repeated key: the full check ignores its value
        if entry.indexed and item_number != 0:
            written = f"{chunk.parent}[{item_number}]"
            found.extend(
                dataclasses.replace(problem, message=problem.message.replace(f"{chunk.parent}[0]", written))
                for problem in entry.problems
            )
        elif entry.problems:
            found.extend(entry.problems)
        item_number += 1
        if entry.name is not None:
            first = first_names[chunk.parent].setdefault(entry.name, entry)
            if first is not entry:
                found.append(_duplicate_name(chunk.parent, entry=entry, first=first))
    if "version" not in first_keys:
        if entries[0].missing_version is None:
            raise _Untrusted("no version, but the first chunk does not say so")
        found.append(entries[0].missing_version)
    allowed = schema.top_level_keys()
    for key, span in first_keys.items():
        if key not in allowed:
            found.append(
                schema.unknown_key_problem(key=key, span=span, path=(), allowed=allowed, present=first_keys)
            )
    return found


def _duplicate_name(parent: str, *, entry: _Entry, first: _Entry) -> problems.Problem:
    assert entry.name is not None
    start_line, start_column, end_line, end_column = entry.name_at
    span = problems.Span(
        problems.Position(entry.line + start_line, start_column),
        problems.Position(entry.line + end_line, end_column),
    )
    first_at = problems.Position(first.line + first.name_at[0], first.name_at[1])
    duplicate = checks.duplicate_env_name if parent == "env" else checks.duplicate_volume_mount
    return duplicate(name=entry.name, span=span, first=first_at)


def _shifted_span(span: problems.Span, delta: int) -> problems.Span:
    return problems.Span(
        problems.Position(span.start.line + delta, span.start.column),
        problems.Position(span.end.line + delta, span.end.column),
    )


def _shifted(problem: problems.Problem, delta: int) -> problems.Problem:
    return dataclasses.replace(
        problem,
        span=_shifted_span(problem.span, delta),
        fixes=tuple(
            problems.Fix(
                title=fix.title,
                edits=tuple(
                    problems.TextEdit(span=_shifted_span(edit.span, delta), new_text=edit.new_text)
                    for edit in fix.edits
                ),
            )
            for fix in problem.fixes
        ),
    )
