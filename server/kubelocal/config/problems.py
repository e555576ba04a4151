"""What the config checker reports: problems at exact places, each with an optional fix.

Positions are 0-based lines and columns counted in code points, as YAML marks count them. Editors
that count otherwise (LSP counts UTF-16 units) convert at their edge; the CLI prints them 1-based.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"
    HINT = "hint"


@dataclass(frozen=True, order=True)
class Position:
    line: int
    column: int


@dataclass(frozen=True)
class Span:
    start: Position
    end: Position


@dataclass(frozen=True)
class TextEdit:
    """Replace the text at `span` with `new_text` (an empty span inserts)."""

    span: Span
    new_text: str


@dataclass(frozen=True)
class Fix:
    """A quick fix: a title for the editor's menu and the edits that make it."""

    title: str
    edits: tuple[TextEdit, ...]


@dataclass(frozen=True)
class Problem:
    """One problem in the file.

    `code` is stable (editors and tests key on it); `message` says what is wrong and what to do;
    `span` covers the offending key, value or token, never the whole document.
    """

    code: str
    severity: Severity
    message: str
    span: Span
    fixes: tuple[Fix, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
