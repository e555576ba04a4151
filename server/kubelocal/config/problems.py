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


# Every code the checker reports, with what it means: editors and tests key on these, so they
# never change meaning. The samples in samples/configs/ show each one at its place.
CODES: dict[str, str] = {
    # The file as a whole
    "encoding": "the bytes are not UTF-8 text",
    "invalid-character": "a character YAML does not allow (a control character, a lone surrogate)",
    "yaml-syntax": "the text is not valid YAML",
    "empty-file": "no YAML document (empty, or only comments)",
    "multiple-documents": "a second YAML document, which is ignored",
    "alias-limit": "aliases that expand without bound (an alias bomb) or refer to themselves",
    "nesting-limit": "values nested deeper than any config needs",
    # The schema
    "duplicate-key": "a key set twice in one mapping; the first is used",
    "unknown-key": "a key the format does not have",
    "missing-version": "the required top-level version is missing",
    "missing-key": "a required key of an entry is missing",
    "unsupported-version": "a version other than the supported one",
    "wrong-type": "a value of the wrong kind (a list where text belongs, ...)",
    "ambiguous-scalar": "unquoted text YAML reads as a boolean, number, date or null",
    "unknown-tag": "a YAML tag the format does not use",
    "unknown-feature": "an enableFeatures entry that is not a feature (warning)",
    "invalid-value": "a value the schema rejects for another reason",
    # Env entries and their tokens
    "unknown-token-type": "a $(...) token whose type is not services, volumeMounts or externalendpoints",
    "unterminated-token": "a $( without its closing )",
    "invalid-port": "a port that is not a whole number from 1 to 65535",
    "invalid-service-name": "a service that is not NAME or NAME.NAMESPACE with DNS-1123 labels",
    "invalid-namespace": "a namespace that is not a DNS-1123 label",
    "invalid-volume-name": "a volume name that is not a DNS-1123 label",
    "invalid-external-endpoint": "an external endpoint without a port or with a host that is not a DNS name",
    "duplicate-env-name": "an environment variable set twice",
    "invalid-env-name": "an empty environment variable name, or one with = or NUL",
    "env-name-too-long": "an environment variable name of 255 characters or more",
    "env-name-not-exportable": "a name the process gets but a shell cannot export (warning)",
    # Volume mounts and features
    "invalid-local-path": "a localPath no directory can have (empty, or with NUL)",
    "duplicate-volume-mount": "a volume mapped twice; the first match wins (warning)",
    "duplicate-feature": "a feature enabled twice (warning)",
}
