"""Where the cursor is in a KubernetesLocalProcessConfig.yaml being typed: pure, line-based.

Completion happens while the file is half-typed and usually not valid YAML (`  - na`, `value: $(serv`),
so this module never parses YAML: it reads the cursor's line and scans upwards by indentation to the
top-level key whose section the cursor is in. It knows the file's shape only through `sections`
(derived from the schema): whether a top-level key holds a scalar, a sequence of mappings (`env`,
`volumeMounts`) or a sequence of scalars (`enableFeatures`).

Lines are LSP lines without their breaks; columns are code points. Scanning stops at a `---` document
marker, so each YAML document in a file is read on its own. Anything not recognised is `Place.NOWHERE`:
callers offer nothing rather than guess.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from kubelocal.config import problems


class SectionShape(enum.Enum):
    SCALAR = "scalar"
    MAPPINGS = "mappings"  # a sequence of mappings, such as env
    SCALARS = "scalars"  # a sequence of scalars, such as enableFeatures


class Place(enum.Enum):
    NOWHERE = "nowhere"
    KEY = "key"  # a key of the mapping at `path`
    SEQUENCE_ITEM = "sequence-item"  # a scalar item of the sequence at `path[:-1]`
    VALUE = "value"  # the scalar value at `path`, outside any token
    TOKEN_TYPE = "token-type"  # after `$(`: services, volumeMounts, externalendpoints
    SERVICE_NAME = "service-name"  # after `$(services:`
    SERVICE_NAMESPACE = "service-namespace"  # after `$(services:NAME.`
    SERVICE_PORT = "service-port"  # after `$(services:NAME[.NAMESPACE]:` or a `,`
    VOLUME_NAME = "volume-name"  # after `$(volumeMounts:`
    EXTERNAL_ENDPOINT = "external-endpoint"  # after `$(externalendpoints:` (free text)


ITEM = "*"  # the path segment for "any item of this sequence"


@dataclass(frozen=True)
class CursorContext:
    """What is being typed at the cursor and what the completion replaces.

    `path` leads to the node being completed: `()` for the top-level mapping's keys,
    `("env", "*")` for an env item's keys, `("env", "*", "value")` inside an env value,
    `("enableFeatures", "*")` for a feature. `prefix` is the part of the word already typed;
    `replace_start`/`replace_end` (code points on the cursor's line) cover it and the rest of the word
    after the cursor. `present` holds the keys (or sequence items) already there, so they are not
    offered twice. `needs_dash` says an item must be started with `- ` (the cursor is in a sequence
    section but not yet on an item). `key_column` is where the mapping's keys start, for
    multi-line snippets. `service` and `namespace` are filled in token places that depend on them.
    """

    place: Place
    path: tuple[str, ...] = ()
    prefix: str = ""
    line: int = 0
    replace_start: int = 0
    replace_end: int = 0
    present: frozenset[str] = field(default_factory=frozenset)
    needs_dash: bool = False
    key_column: int = 0
    service: str | None = None
    namespace: str | None = None
    in_quotes: bool = False
    colon_follows: bool = False  # a key is being renamed (`ver|sion: 0.1`): complete the name only


NOWHERE = CursorContext(place=Place.NOWHERE)

_KEY = r"""(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<plain>[A-Za-z_][\w.\-]*))"""
_KEY_LINE = re.compile(rf"^(?P<indent>[ \t]*)(?P<dashes>(?:-[ \t]+)*){_KEY}[ \t]*:(?:[ \t]+|$)")
_DASH_LINE = re.compile(r"^(?P<indent>[ \t]*)-(?:[ \t]+|$)")
_TYPING_KEY = re.compile(r"^(?P<indent>[ \t]*)(?P<dashes>(?:-[ \t]+)*)(?P<prefix>[\w.\-\"']*)$")
_WORD_AFTER = re.compile(r"[\w.\-]*")
_NAME_AFTER = re.compile(r"[\w\-]*")  # inside a token, `.` and `:` separate its parts
_DOCUMENT_MARKER = re.compile(r"^(?:---|\.\.\.)(?:[ \t]|$)")


def _content(line: str) -> str | None:
    """The line's text without its comment, or None for a blank or comment-only line."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    return line


def _key_of(match: re.Match[str]) -> str:
    return match.group("dq") or match.group("sq") or match.group("plain") or ""


def _lines_upwards(lines: Sequence[str], start: int) -> Iterator[tuple[int, str]]:
    """Non-blank, non-comment lines from `start` upwards, stopping at a document marker."""
    for number in range(min(start, len(lines) - 1), -1, -1):
        line = lines[number]
        if _DOCUMENT_MARKER.match(line):
            return
        if _content(line) is not None:
            yield number, line


def _lines_downwards(lines: Sequence[str], start: int) -> Iterator[tuple[int, str]]:
    for number in range(start, len(lines)):
        line = lines[number]
        if _DOCUMENT_MARKER.match(line):
            return
        if _content(line) is not None:
            yield number, line


def _section_of(lines: Sequence[str], line_number: int) -> tuple[str | None, int | None]:
    """The top-level key whose section holds `line_number`, and that key's line (None, None at the top)."""
    # A tight loop: in a 4,000-line file this runs on every completion request.
    for number in range(min(line_number, len(lines)) - 1, -1, -1):
        line = lines[number]
        if not line or line[0] in " \t#" or (line[0] == "-" and not line.startswith("---")):
            continue
        if _DOCUMENT_MARKER.match(line):
            return None, None
        match = _KEY_LINE.match(line)
        if match and not match.group("dashes"):
            return _key_of(match), number
        if line.strip():
            return None, None
    return None, None


def _document_bounds(lines: Sequence[str], line_number: int) -> tuple[int, int]:
    """The lines [start, end) of the YAML document that holds `line_number`."""
    start, end = 0, len(lines)
    for number in range(min(line_number, len(lines)) - 1, -1, -1):
        if lines[number][:3] in ("---", "...") and _DOCUMENT_MARKER.match(lines[number]):
            start = number + 1
            break
    for number in range(line_number + 1, len(lines)):
        if lines[number][:3] in ("---", "...") and _DOCUMENT_MARKER.match(lines[number]):
            end = number
            break
    return start, end


def top_level_keys(lines: Sequence[str], line_number: int) -> frozenset[str]:
    """The top-level keys of the YAML document that holds `line_number` (not counting that line)."""
    start, end = _document_bounds(lines, line_number)
    keys: set[str] = set()
    for number in range(start, end):
        line = lines[number]
        if not line or line[0] in " \t-#" or number == line_number:
            continue
        match = _KEY_LINE.match(line)
        if match:
            keys.add(_key_of(match))
    return frozenset(keys)


def _item_keys(lines: Sequence[str], dash_line: int, key_column: int, skip: int) -> frozenset[str]:
    """Keys of the sequence item that starts at `dash_line`, whose keys start at `key_column`."""
    keys: set[str] = set()
    for number, line in _lines_downwards(lines, dash_line):
        if number == skip:
            continue
        indent = len(line) - len(line.lstrip(" \t"))
        if number != dash_line and indent < key_column:
            break
        match = _KEY_LINE.match(line)
        if match is None:
            continue
        column = len(match.group("indent")) + len(match.group("dashes"))
        if column == key_column:
            keys.add(_key_of(match))
    return frozenset(keys)


def _enclosing_item(
    lines: Sequence[str], line_number: int, column: int, header: int
) -> tuple[int, int] | None:
    """The dash line (and its keys' column) of the sequence item a key at `column` belongs to."""
    for number, line in _lines_upwards(lines, line_number - 1):
        if number <= header:
            return None
        dash = _DASH_LINE.match(line)
        indent = len(line) - len(line.lstrip(" \t"))
        if dash and indent < column:
            after_dash = line[indent + 1 :]
            content = after_dash.lstrip(" \t")
            key_column = indent + 1 + len(after_dash) - len(content) if content else indent + 2
            return number, key_column
        if indent < column:
            return None
    return None


def _sequence_items(lines: Sequence[str], header: int, skip: int) -> frozenset[str]:
    """Scalar items of the sequence under the top-level key at `header`, except on line `skip`."""
    return frozenset(text for text, line, _, _ in sequence_scalars(lines, header) if line != skip)


def _word_end(line: str, column: int, pattern: re.Pattern[str] = _WORD_AFTER) -> int:
    match = pattern.match(line, column)
    return match.end() if match else column


def analyse(
    lines: Sequence[str], position: problems.Position, *, sections: Mapping[str, SectionShape]
) -> CursorContext:
    """The cursor context at `position` (line, code-point column) in `lines`."""
    if not 0 <= position.line < len(lines):
        return NOWHERE
    line = lines[position.line]
    column = min(position.column, len(line))
    before = line[:column]
    if "#" in before and not _hash_inside_quotes(before):
        return NOWHERE
    end = _word_end(line, column)

    typing_key = _TYPING_KEY.match(before)
    if typing_key:
        return _key_context(lines, position.line, column, end, typing_key, sections=sections)
    key_line = _KEY_LINE.match(before)
    if key_line:
        return _value_context(lines, position.line, column, end, key_line, sections=sections)
    return NOWHERE


def _hash_inside_quotes(before: str) -> bool:
    # A `#` starts a comment only outside quotes; counting quotes is enough for one line.
    index = before.index("#")
    return before[:index].count('"') % 2 == 1 or before[:index].count("'") % 2 == 1


def _key_context(
    lines: Sequence[str],
    line_number: int,
    column: int,
    end: int,
    match: re.Match[str],
    *,
    sections: Mapping[str, SectionShape],
) -> CursorContext:
    indent = len(match.group("indent"))
    dashes = match.group("dashes")
    prefix = match.group("prefix")
    start = column - len(prefix)
    key_column = indent + len(dashes)
    colon_follows = lines[line_number][end:].lstrip(" \t").startswith(":")
    common = {
        "prefix": prefix.strip("\"'"),
        "line": line_number,
        "replace_start": start,
        "replace_end": end,
        "colon_follows": colon_follows,
    }
    if indent == 0 and not dashes:
        present = top_level_keys(lines, line_number)
        return CursorContext(place=Place.KEY, path=(), present=present, key_column=0, **common)
    section, header = _section_of(lines, line_number)
    if section is None or header is None:
        return NOWHERE
    shape = sections.get(section, SectionShape.SCALAR)
    if shape is SectionShape.SCALARS:
        present = _sequence_items(lines, header, skip=line_number)
        return CursorContext(
            place=Place.SEQUENCE_ITEM,
            path=(section, ITEM),
            present=present,
            needs_dash=not dashes,
            key_column=key_column,
            **common,
        )
    if shape is not SectionShape.MAPPINGS:
        return NOWHERE
    if dashes:
        present = _item_keys(lines, line_number, key_column, skip=line_number)
        return CursorContext(
            place=Place.KEY, path=(section, ITEM), present=present, key_column=key_column, **common
        )
    item = _enclosing_item(lines, line_number, key_column, header)
    if item is None:
        return CursorContext(
            place=Place.KEY, path=(section, ITEM), needs_dash=True, key_column=key_column, **common
        )
    dash_line, item_key_column = item
    present = _item_keys(lines, dash_line, item_key_column, skip=line_number)
    return CursorContext(
        place=Place.KEY, path=(section, ITEM), present=present, key_column=item_key_column, **common
    )


def _value_context(
    lines: Sequence[str],
    line_number: int,
    column: int,
    end: int,
    match: re.Match[str],
    *,
    sections: Mapping[str, SectionShape],
) -> CursorContext:
    indent = len(match.group("indent"))
    dashes = match.group("dashes")
    key = _key_of(match)
    value_start = match.end()
    value = lines[line_number][value_start:column]
    if indent == 0 and not dashes:
        path: tuple[str, ...] = (key,)
    else:
        section, _ = _section_of(lines, line_number)
        if section is None or sections.get(section) is not SectionShape.MAPPINGS:
            return NOWHERE
        path = (section, ITEM, key)
    in_quotes = value[:1] in ("'", '"')
    if in_quotes:
        value_start += 1
        value = value[1:]
    if len(path) == 1 and sections.get(key) is SectionShape.SCALARS:
        return _flow_item_context(lines, line_number, column, end, key=key, value=value)
    if path[0] == "env" and path[-1] == "value":
        return _token_context(
            line_number,
            column,
            _word_end(lines[line_number], column, _NAME_AFTER),
            path=path,
            value=value,
            value_start=value_start,
            in_quotes=in_quotes,
        )
    return CursorContext(
        place=Place.VALUE,
        path=path,
        prefix=value,
        line=line_number,
        replace_start=value_start,
        replace_end=max(end, column),
        in_quotes=in_quotes,
    )


def _flow_item_context(
    lines: Sequence[str], line_number: int, column: int, end: int, *, key: str, value: str
) -> CursorContext:
    """Inside `enableFeatures: [Probes, Li|`: the flow sequence's next item."""
    if not value.startswith("["):
        return NOWHERE
    written = value[1:].split(",")
    prefix = written[-1].lstrip()
    present = frozenset(part.strip().strip("'\"") for part in written[:-1] if part.strip())
    return CursorContext(
        place=Place.SEQUENCE_ITEM,
        path=(key, ITEM),
        prefix=prefix,
        line=line_number,
        replace_start=column - len(prefix),
        replace_end=end,
        present=present,
    )


def _token_context(
    line_number: int,
    column: int,
    end: int,
    *,
    path: tuple[str, ...],
    value: str,
    value_start: int,
    in_quotes: bool,
) -> CursorContext:
    """Inside an env value: which part of a `$(type:…)` token the cursor is in, if any."""
    opening = value.rfind("$(")
    common = {"path": path, "line": line_number, "replace_end": end, "in_quotes": in_quotes}
    if opening < 0 or ")" in value[opening:]:
        # Outside a token: replace a `$` just typed, so `$(…)` snippets filter on it.
        prefix = "$" if value.endswith("$") else ""
        return CursorContext(place=Place.VALUE, prefix=prefix, replace_start=column - len(prefix), **common)
    inner = value[opening + 2 :]
    if ":" not in inner:
        return CursorContext(
            place=Place.TOKEN_TYPE, prefix=inner, replace_start=column - len(inner), **common
        )
    token_type, _, rest = inner.partition(":")
    kind = token_type.lower()
    if kind == "services":
        target, has_ports, ports = rest.partition(":")
        service, has_namespace, namespace = target.partition(".")
        if has_ports:
            prefix = ports.split(",")[-1]
            return CursorContext(
                place=Place.SERVICE_PORT,
                prefix=prefix,
                replace_start=column - len(prefix),
                service=service,
                namespace=namespace if has_namespace else None,
                **common,
            )
        if has_namespace:
            return CursorContext(
                place=Place.SERVICE_NAMESPACE,
                prefix=namespace,
                replace_start=column - len(namespace),
                service=service,
                **common,
            )
        return CursorContext(
            place=Place.SERVICE_NAME, prefix=rest, replace_start=column - len(rest), **common
        )
    if kind == "volumemounts":
        return CursorContext(place=Place.VOLUME_NAME, prefix=rest, replace_start=column - len(rest), **common)
    if kind == "externalendpoints":
        return CursorContext(
            place=Place.EXTERNAL_ENDPOINT, prefix=rest, replace_start=column - len(rest), **common
        )
    return NOWHERE


@dataclass(frozen=True)
class KeyAt:
    """A key under the cursor: the schema path it names and its columns on the line (code points)."""

    path: tuple[str, ...]
    line: int
    start: int
    end: int


def key_at(
    lines: Sequence[str], position: problems.Position, *, sections: Mapping[str, SectionShape]
) -> KeyAt | None:
    """The key written under the cursor (`env`, or `value` of an env item), None elsewhere."""
    if not 0 <= position.line < len(lines):
        return None
    line = lines[position.line]
    match = _KEY_LINE.match(line)
    if match is None:
        return None
    group = next(name for name in ("dq", "sq", "plain") if match.group(name) is not None)
    start, end = match.start(group), match.end(group)
    if group != "plain":
        start, end = start - 1, end + 1
    if not start <= position.column <= end:
        return None
    key = _key_of(match)
    if not match.group("indent") and not match.group("dashes"):
        return KeyAt(path=(key,), line=position.line, start=start, end=end)
    section, _ = _section_of(lines, position.line)
    if section is None or sections.get(section) is not SectionShape.MAPPINGS:
        return None
    return KeyAt(path=(section, ITEM, key), line=position.line, start=start, end=end)


def top_level_key_lines(lines: Sequence[str]) -> dict[str, tuple[int, int]]:
    """The line of each top-level key of the first YAML document, and the column where the key ends."""
    found: dict[str, tuple[int, int]] = {}
    seen_content = False
    for number, line in enumerate(lines):
        if _DOCUMENT_MARKER.match(line):
            if seen_content:
                break
            continue
        if _content(line) is None:
            continue
        seen_content = True
        if line[0] in " \t-":
            continue
        match = _KEY_LINE.match(line)
        if match:
            group = next(name for name in ("dq", "sq", "plain") if match.group(name) is not None)
            key_end = match.end(group) + (0 if group == "plain" else 1)
            found.setdefault(_key_of(match), (number, key_end))
    return found


def sequence_scalars(lines: Sequence[str], header: int) -> list[tuple[str, int, int, int]]:
    """The scalar items of the sequence under the key at line `header`: (text, line, start, end).

    Reads block items (`- Probes`) and a flow sequence on the key's line (`[Probes, LifecycleHooks]`).
    """
    found: list[tuple[str, int, int, int]] = []
    key_line = lines[header]
    colon = key_line.find(":")
    flow_start = key_line.find("[", colon)
    if colon >= 0 and flow_start >= 0:
        for item in re.finditer(
            r"[^,\[\]\s'\"][^,\[\]]*?(?=\s*[,\]])|(?<=['\"])[^'\",\[\]]+(?=['\"])", key_line[flow_start:]
        ):
            found.append((item.group(0), header, flow_start + item.start(), flow_start + item.end()))
    for number, line in _lines_downwards(lines, header + 1):
        if line[0] not in " \t-":
            break
        item = re.match(r"^[ \t]*-[ \t]+['\"]?(?P<text>[^'\"#]+?)['\"]?[ \t]*(?:#.*)?$", line)
        if item:
            found.append((item.group("text"), number, item.start("text"), item.end("text")))
    return found
