"""Document symbols: the env names, volume mounts and features, grouped by section, in file order: pure.

Env entries and volume mounts come from the model (exact spans); `version` and the features, which
the model holds without spans, are found on their lines. Every child's range lies inside its
section's range, as LSP requires.
"""

from __future__ import annotations

from lsprotocol import types

from kubelocal.config import model, problems
from kubelocal.lsp import cursor_contexts, positions


def _span(start: problems.Position, end: problems.Position) -> problems.Span:
    return problems.Span(start=start, end=max(start, end))


def symbols(config: model.ConfigModel | None, *, index: positions.TextIndex) -> list[types.DocumentSymbol]:
    """The document's symbols (empty when there is no model)."""
    if config is None:
        return []
    keys = cursor_contexts.top_level_key_lines(index.lines)
    result: list[types.DocumentSymbol] = []

    def section(
        name: str, kind: types.SymbolKind, children: list[types.DocumentSymbol], detail: str | None = None
    ) -> None:
        if name not in keys:
            return
        line, key_end = keys[name]
        lsp_line = index.lines[line] if line < len(index.lines) else ""
        selection = types.Range(
            start=types.Position(line=line, character=0),
            end=index.code_points_to_lsp(problems.Position(line, key_end)),
        )
        end = index.code_points_to_lsp(problems.Position(line, len(lsp_line)))
        for child in children:
            if (child.range.end.line, child.range.end.character) > (end.line, end.character):
                end = child.range.end
        result.append(
            types.DocumentSymbol(
                name=name,
                kind=kind,
                range=types.Range(start=types.Position(line=line, character=0), end=end),
                selection_range=selection,
                detail=detail,
                children=children,
            )
        )

    if config.version is not None:
        section("version", types.SymbolKind.Constant, [], detail=config.version)
    env = [
        types.DocumentSymbol(
            name=entry.name,
            kind=types.SymbolKind.Variable,
            range=index.to_lsp_range(_span(entry.name_span.start, entry.value_span.end)),
            selection_range=index.to_lsp_range(entry.name_span),
            detail=entry.value,
        )
        for entry in config.env
    ]
    section("env", types.SymbolKind.Namespace, env)
    mounts = [
        types.DocumentSymbol(
            name=mount.name,
            kind=types.SymbolKind.File,
            range=index.to_lsp_range(_span(mount.name_span.start, mount.local_path_span.end)),
            selection_range=index.to_lsp_range(mount.name_span),
            detail=mount.local_path,
        )
        for mount in config.volume_mounts
    ]
    section("volumeMounts", types.SymbolKind.Namespace, mounts)
    features: list[types.DocumentSymbol] = []
    if "enableFeatures" in keys:
        for text, line, start, end in cursor_contexts.sequence_scalars(
            index.lines, keys["enableFeatures"][0]
        ):
            if text in config.features:
                where = types.Range(
                    start=index.code_points_to_lsp(problems.Position(line, start)),
                    end=index.code_points_to_lsp(problems.Position(line, end)),
                )
                features.append(
                    types.DocumentSymbol(
                        name=text, kind=types.SymbolKind.EnumMember, range=where, selection_range=where
                    )
                )
    section("enableFeatures", types.SymbolKind.Namespace, features)
    # In the order the file has them, as an outline reads.
    return sorted(result, key=lambda symbol: (symbol.range.start.line, symbol.range.start.character))


def flattened(symbols_tree: list[types.DocumentSymbol], *, uri: str) -> list[types.SymbolInformation]:
    """The symbols as a flat list, for clients without hierarchical document symbols.

    Each child names its section as `container_name`; sections come before their children.
    """
    flat: list[types.SymbolInformation] = []

    def add(symbol: types.DocumentSymbol, container: str | None) -> None:
        flat.append(
            types.SymbolInformation(
                name=symbol.name,
                kind=symbol.kind,
                location=types.Location(uri=uri, range=symbol.range),
                container_name=container,
            )
        )
        for child in symbol.children or []:
            add(child, symbol.name)

    for symbol in symbols_tree:
        add(symbol, None)
    return flat
