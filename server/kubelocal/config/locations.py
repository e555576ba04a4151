"""Convert between code-point offsets into the text and 0-based line/column positions.

Lines end at `\\r\\n`, `\\r` or `\\n`, as editors and the Language Server Protocol count them. YAML 1.1
(and libyaml's marks) also break lines at NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR; that is why
marks are converted through their code-point `index`, never through their `line` and `column`.

Byte-order marks at the very start are not part of the YAML stream (libyaml skips one and its marks
start after it; a second one would shift every mark by one): `LineIndex.text` is the text without
them, offsets count from there, and positions on the first line are shifted by their number, so
they still point into the original document.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re

from kubelocal.config import problems

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
BYTE_ORDER_MARK = "\ufeff"


class LineIndex:
    """The line starts of one text; converts offsets to positions in O(log lines).

    Offsets beyond the text are clamped to its end, so a position is always inside the document.
    The line starts are found on the first conversion: a file without problems needs none.
    """

    def __init__(self, text: str) -> None:
        self.first_line_shift = len(text) - len(text.lstrip(BYTE_ORDER_MARK))
        text = text[self.first_line_shift :]
        self.text = text
        self.length = len(text)
        # The parser, the schema, the checks and the model ask for the same nodes' spans.
        self._spans: dict[tuple[int, int], problems.Span] = {}

    @functools.cached_property
    def line_starts(self) -> list[int]:
        text = self.text
        if "\r" not in text or text.count("\r") == text.count("\r\n"):
            # Every break ends in LF: the starts follow from the line lengths, all in C (a tenth of
            # the time of the regular expression, which matters for incremental checks).
            lengths = map(len, text.split("\n"))
            return list(itertools.accumulate(map((1).__add__, lengths), initial=0))[:-1]
        return [0, *(match.end() for match in _LINE_BREAK.finditer(text))]

    def position(self, offset: int) -> problems.Position:
        # Plain comparisons: this runs for every node of a large file, and min()/max() cost more.
        if offset < 0:
            offset = 0
        elif offset > self.length:
            offset = self.length
        line = bisect.bisect_right(self.line_starts, offset) - 1
        column = offset - self.line_starts[line]
        if line == 0:
            column += self.first_line_shift
        return problems.Position(line, column)  # positional arguments: measurably faster

    def span(self, start: int, end: int) -> problems.Span:
        if end < start:
            end = start
        key = (start, end)
        span = self._spans.get(key)
        if span is None:
            span = self._spans[key] = problems.Span(self.position(start), self.position(end))
        return span

    def offset(self, position: problems.Position) -> int:
        """The offset of a position (the inverse of `position`), clamped into the text."""
        line = min(max(position.line, 0), len(self.line_starts) - 1)
        column = position.column - (self.first_line_shift if line == 0 else 0)
        return min(max(self.line_starts[line] + column, self.line_starts[line]), self.line_end(line))

    def line_end(self, line: int) -> int:
        """Offset of the end of `line`'s content (before its line break)."""
        if line + 1 < len(self.line_starts):
            next_start = self.line_starts[line + 1]
            text = self.text
            if text.startswith("\r\n", next_start - 2):
                return next_start - 2
            return next_start - 1
        return self.length

    def end_position(self) -> problems.Position:
        return self.position(self.length)
