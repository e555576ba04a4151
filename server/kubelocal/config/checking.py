"""The checker's entry point: text (or bytes) in, problems sorted by position and a model out.

    result = checking.check(text)
    result.problems   # tuple of problems.Problem, sorted by position
    result.model      # model.ConfigModel, or None when the text is not a mapping

Never raises for any input. Stages: parse (syntax, duplicate keys, aliases, documents), then the
schema, then the semantic checks, then the model.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import functools
import gc
from collections.abc import Iterator

from kubelocal.config import checks, locations, model, parsing, problems, schema, template


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The problems, sorted by position, and the model of the file.

    `model` is built on first access and then kept: reporting problems (an editor does it on
    every pause in typing) does not pay for it. It is None when the text is not a mapping.
    """

    problems: tuple[problems.Problem, ...]
    parsed: parsing.Parsed | None = dataclasses.field(default=None, repr=False, compare=False)
    # The checked text, parsed on first access to `model` when `parsed` is not given (an
    # incremental check finds the problems without parsing the whole text).
    source: str | None = dataclasses.field(default=None, repr=False, compare=False)

    @functools.cached_property
    def model(self) -> model.ConfigModel | None:
        # cached_property writes the instance's __dict__ directly, which a frozen dataclass allows.
        with collector_paused():
            parsed = self.parsed
            if parsed is None and self.source is not None:
                parsed = parsing.parse(self.source)
            if parsed is None:
                return None
            return model.build(parsed)


def check(text: str) -> CheckResult:
    """Check the text of a KubernetesLocalProcessConfig.yaml."""
    with collector_paused():
        parsed = parsing.parse(text)
        found = list(parsed.problems)
        if parsed.root is None and not found:
            found.append(_empty_file(parsed.index))
        found.extend(schema.validate(parsed))
        found.extend(checks.run(parsed))
        return CheckResult(problems=sorted_once(found), parsed=parsed)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a large file's objects are built.

    Building tens of thousands of objects that survive (nodes, values, spans) sets off full
    collections that walk all of them again: a third of the time on a 2,000-entry file. Pausing
    only delays collection: the rare cycle (the nodes of a recursive alias) is freed once the
    collector runs again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def sorted_once(found: list[problems.Problem]) -> tuple[problems.Problem, ...]:
    """Sorted by position; an aliased node is checked once per alias, but reported once."""
    unique: dict[tuple[str, problems.Span, str], problems.Problem] = {}
    for problem in found:
        unique.setdefault((problem.code, problem.span, problem.message), problem)
    return tuple(
        sorted(unique.values(), key=lambda problem: (problem.span.start, problem.span.end, problem.code))
    )


def check_bytes(data: bytes) -> CheckResult:
    """Check a file's bytes: UTF-8 (a byte-order mark is allowed); anything else is an `encoding`
    problem at the first byte that cannot be decoded."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _encoding_problem(
            problems.Position(0, 0), "The file is UTF-16 text. Save it as UTF-8 and check again."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        prefix = data[: error.start].decode("utf-8-sig")
        index = locations.LineIndex(prefix)
        where = index.end_position()
        return _encoding_problem(
            where,
            (
                f"The file is not UTF-8 text: byte 0x{data[error.start]:02X} at line {where.line + 1}, "
                f"column {where.column + 1} cannot be decoded. Save the file as UTF-8 and check again."
            ),
        )
    return check(text)


def _encoding_problem(start: problems.Position, message: str) -> CheckResult:
    span = problems.Span(start=start, end=problems.Position(line=start.line, column=start.column + 1))
    problem = problems.Problem(code="encoding", severity=problems.Severity.ERROR, message=message, span=span)
    return CheckResult(problems=(problem,))


def _empty_file(index: locations.LineIndex) -> problems.Problem:
    span = index.span(0, 0)
    return problems.Problem(
        code="empty-file",
        severity=problems.Severity.ERROR,
        message=(
            f"The file is empty. Write at least 'version: {schema.supported_version()}', "
            "or run 'kubelocal config init' for a commented starter file."
        ),
        span=span,
        fixes=(
            problems.Fix(
                title="Insert a starter KubernetesLocalProcessConfig.yaml",
                edits=(problems.TextEdit(span=span, new_text=template.STARTER_CONFIG),),
            ),
        ),
    )
