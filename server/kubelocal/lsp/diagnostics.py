"""Problems as LSP diagnostics, and diagnostics back into quick fixes: pure.

Each diagnostic carries in `data` the document version it was computed for and its fixes as LSP
edits (`{"version": 7, "fixes": [{"title": …, "edits": [{"range": …, "newText": …}]}]}`), so a code
action needs nothing but the diagnostic while the document is unchanged. When the client sends a
diagnostic of an older version (it does while typing), the fixes are found again among the problems
of the current text: same code, overlapping range.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from lsprotocol import types

from kubelocal.config import problems
from kubelocal.lsp import positions

SOURCE = "kubelocal"
SEVERITIES = {
    problems.Severity.ERROR: types.DiagnosticSeverity.Error,
    problems.Severity.WARNING: types.DiagnosticSeverity.Warning,
    problems.Severity.INFORMATION: types.DiagnosticSeverity.Information,
    problems.Severity.HINT: types.DiagnosticSeverity.Hint,
}


def _range_json(lsp_range: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": lsp_range.start.line, "character": lsp_range.start.character},
        "end": {"line": lsp_range.end.line, "character": lsp_range.end.character},
    }


def _range_from_json(value: Any) -> types.Range | None:
    try:
        start, end = value["start"], value["end"]
        return types.Range(
            start=types.Position(line=int(start["line"]), character=int(start["character"])),
            end=types.Position(line=int(end["line"]), character=int(end["character"])),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _json_safe(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return None
    return value


def _fixes_json(problem: problems.Problem, index: positions.TextIndex) -> list[dict[str, Any]]:
    return [
        {
            "title": fix.title,
            "edits": [
                {"range": _range_json(index.to_lsp_range(edit.span)), "newText": edit.new_text}
                for edit in fix.edits
            ],
        }
        for fix in problem.fixes
    ]


def _related(
    problem: problems.Problem, *, index: positions.TextIndex, uri: str
) -> list[types.DiagnosticRelatedInformation] | None:
    """Where a duplicate was first written (the checker's `data["first"]`), as related information."""
    first = problem.data.get("first") if isinstance(problem.data, dict) else None
    if (
        not isinstance(first, dict)
        or not isinstance(first.get("line"), int)
        or not isinstance(first.get("column"), int)
    ):
        return None
    start = problems.Position(line=first["line"], column=first["column"])
    written = next(
        (problem.data[key] for key in ("name", "key") if isinstance(problem.data.get(key), str)), ""
    )
    end = problems.Position(line=start.line, column=start.column + len(written))
    return [
        types.DiagnosticRelatedInformation(
            location=types.Location(uri=uri, range=index.to_lsp_range(problems.Span(start=start, end=end))),
            message=f"first written here{f': {written}' if written else ''}",
        )
    ]


def to_diagnostic(
    problem: problems.Problem, *, index: positions.TextIndex, version: int | None, uri: str | None = None
) -> types.Diagnostic:
    """The diagnostic of one problem, its range converted to the client's units.

    With `uri` (for clients that show related information), a duplicate points at its first occurrence.
    """
    data: dict[str, Any] = {"version": version, "fixes": _fixes_json(problem, index)}
    if problem.data and (safe := _json_safe(problem.data)) is not None:
        data["problem"] = safe
    return types.Diagnostic(
        related_information=_related(problem, index=index, uri=uri) if uri is not None else None,
        range=index.to_lsp_range(problem.span),
        message=problem.message,
        severity=SEVERITIES.get(problem.severity, types.DiagnosticSeverity.Error),
        code=problem.code,
        source=SOURCE,
        data=data,
    )


def to_diagnostics(
    found: Iterable[problems.Problem],
    *,
    index: positions.TextIndex,
    version: int | None,
    uri: str | None = None,
) -> list[types.Diagnostic]:
    return [to_diagnostic(problem, index=index, version=version, uri=uri) for problem in found]


def _overlaps(first: types.Range, second: types.Range) -> bool:
    def key(position: types.Position) -> tuple[int, int]:
        return (position.line, position.character)

    return key(first.start) <= key(second.end) and key(second.start) <= key(first.end)


def _actions_from_json(
    fixes: Any, *, diagnostic: types.Diagnostic, uri: str, version: int | None, versioned_edits: bool
) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    for fix in fixes if isinstance(fixes, list) else ():
        if not isinstance(fix, dict) or not isinstance(fix.get("title"), str):
            continue
        edits: list[types.TextEdit] = []
        for edit in fix.get("edits") or ():
            edit_range = _range_from_json(edit.get("range")) if isinstance(edit, dict) else None
            if edit_range is None or not isinstance(edit.get("newText"), str):
                break
            edits.append(types.TextEdit(range=edit_range, new_text=edit["newText"]))
        else:
            actions.append(
                types.CodeAction(
                    title=fix["title"],
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    is_preferred=len(actions) == 0 or None,
                    edit=_workspace_edit(uri=uri, version=version, edits=edits, versioned=versioned_edits),
                )
            )
    return actions


def _workspace_edit(
    *, uri: str, version: int | None, edits: list[types.TextEdit], versioned: bool
) -> types.WorkspaceEdit:
    if versioned:
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                    edits=list(edits),
                )
            ]
        )
    return types.WorkspaceEdit(changes={uri: list(edits)})


def quick_fixes(
    requested: Sequence[types.Diagnostic],
    *,
    uri: str,
    version: int | None,
    current: Sequence[types.Diagnostic],
    versioned_edits: bool = True,
) -> list[types.CodeAction]:
    """Quick fixes for the diagnostics the client asks about.

    `current` are the diagnostics of the document's current text (version `version`); a requested
    diagnostic of another version is matched to a current one by code and overlapping range, and
    gets that one's fixes, so an edit never lands on text that has moved.
    """
    actions: list[types.CodeAction] = []
    for diagnostic in requested:
        if diagnostic.source != SOURCE:
            continue
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        if data.get("version") == version and "fixes" in data:
            fixes = data["fixes"]
        else:
            match = next(
                (
                    candidate
                    for candidate in current
                    if candidate.code == diagnostic.code and _overlaps(candidate.range, diagnostic.range)
                ),
                None,
            )
            if match is None:
                continue
            fixes = (match.data or {}).get("fixes") if isinstance(match.data, dict) else None
        actions.extend(
            _actions_from_json(
                fixes, diagnostic=diagnostic, uri=uri, version=version, versioned_edits=versioned_edits
            )
        )
    return actions
