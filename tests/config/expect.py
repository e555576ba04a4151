"""Helpers for asserting problems at exact places (0-based lines and columns)."""

from kubelocal.config import checking, problems


def spans(result: checking.CheckResult, code: str) -> list[tuple[int, int, int, int]]:
    """(start line, start column, end line, end column) of each problem with `code`."""
    return [span_tuple(p.span) for p in result.problems if p.code == code]


def span_tuple(span: problems.Span) -> tuple[int, int, int, int]:
    return (span.start.line, span.start.column, span.end.line, span.end.column)


def only(result: checking.CheckResult, code: str) -> problems.Problem:
    """The one problem with `code`; fails when there is none or several."""
    found = [p for p in result.problems if p.code == code]
    assert len(found) == 1, [(p.code, p.message) for p in result.problems]
    return found[0]


def codes(result: checking.CheckResult) -> list[str]:
    return [p.code for p in result.problems]


def text_at(text: str, span: problems.Span) -> str:
    """The text a single-line span covers."""
    assert span.start.line == span.end.line
    return text.splitlines()[span.start.line][span.start.column : span.end.column]
