"""Convert between code-point offsets into the text and 0-based line/column positions.

Lines end at `\\r\\n`, `\\r` or `\\n`, as editors and the Language Server Protocol count them. YAML 1.1
(and libyaml's marks) also break lines at NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR; that is why
marks are converted through their code-point `index`, never through their `line` and `column`.
"""

from __future__ import annotations

import bisect
import re

from kubelocal.config import problems

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class LineIndex:
    """The line starts of one text; converts offsets to positions in O(log lines).

    Offsets beyond the text are clamped to its end, so a position is always inside the document.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.length = len(text)
        self.line_starts = [0, *(match.end() for match in _LINE_BREAK.finditer(text))]

    def position(self, offset: int) -> problems.Position:
        offset = min(max(offset, 0), self.length)
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return problems.Position(line=line, column=offset - self.line_starts[line])

    def span(self, start: int, end: int) -> problems.Span:
        return problems.Span(start=self.position(start), end=self.position(max(start, end)))

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
