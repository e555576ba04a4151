"""Completion items for a cursor context: pure.

From the schema: the keys not yet present (as snippets that also write the value's skeleton),
enum values (features, the version), whole-item snippets for `env` and `volumeMounts`, and the
`$(…)` token snippets of an env value. From the cluster snapshot (whatever the catalog knows at the
moment; possibly nothing): service names, namespaces, ports and volume names inside tokens and for
`volumeMounts[].name`.

`replace` is the LSP range of the text the item replaces (the context's prefix and the rest of the
word), already in the client's units. Multi-line snippets are written with absolute indentation
when the client supports `InsertTextMode.AsIs`, else relative to the cursor line's indentation (the
client adjusts them).
"""

from __future__ import annotations

from lsprotocol import types

from kubelocal.config import tokens
from kubelocal.kube import cataloging
from kubelocal.lsp import cursor_contexts, schemas

# The token types are the checker's (one definition); these only describe them in the list.
TOKEN_TYPE_DETAILS = {
    tokens.SERVICES: "A cluster service: $(services:NAME[.NAMESPACE][:PORT[,PORT]])",
    tokens.VOLUME_MOUNTS: "A volume of the container: $(volumeMounts:NAME)",
    tokens.EXTERNAL_ENDPOINTS: "A host outside the cluster: $(externalendpoints:HOST:PORT[,PORT])",
}
MAX_CLUSTER_ITEMS = 200  # a completion list longer than this helps nobody and costs the client time
TRIGGER_SUGGEST = types.Command(title="Suggest", command="editor.action.triggerSuggest")
Place = cursor_contexts.Place


def items(
    context: cursor_contexts.CursorContext,
    *,
    schema: schemas.Schema,
    snapshot: cataloging.Snapshot,
    replace: types.Range,
    line_indent: int = 0,
    absolute_indent: bool = True,
) -> list[types.CompletionItem]:
    """The completion items for `context`; empty where nothing fits."""
    place = context.place
    if place is Place.KEY:
        return _keys(
            context, schema=schema, replace=replace, line_indent=line_indent, absolute=absolute_indent
        )
    if place is Place.SEQUENCE_ITEM:
        return _enum_items(context, schemas.at(schema, context.path), replace=replace)
    if place is Place.VALUE:
        return _values(context, schema=schema, snapshot=snapshot, replace=replace)
    if place is Place.TOKEN_TYPE:
        return [
            types.CompletionItem(
                label=name,
                kind=types.CompletionItemKind.Keyword,
                detail=TOKEN_TYPE_DETAILS.get(name),
                text_edit=types.TextEdit(range=replace, new_text=f"{name}:"),
                command=TRIGGER_SUGGEST,
                sort_text=f"{index}",
            )
            for index, name in enumerate(tokens.TOKEN_TYPES)
        ]
    if place is Place.SERVICE_NAME:
        return _service_names(snapshot, replace=replace)
    if place is Place.SERVICE_NAMESPACE:
        return _namespaces(context, snapshot, replace=replace)
    if place is Place.SERVICE_PORT:
        return _ports(context, snapshot, replace=replace)
    if place is Place.VOLUME_NAME:
        return _volumes(snapshot, replace=replace)
    return []


def _snippet_item(
    *,
    label: str,
    text: str,
    replace: types.Range,
    kind: types.CompletionItemKind,
    detail: str | None,
    documentation: str | None,
    sort_text: str,
    filter_text: str | None = None,
    absolute: bool,
) -> types.CompletionItem:
    return types.CompletionItem(
        label=label,
        kind=kind,
        detail=detail,
        documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=documentation)
        if documentation
        else None,
        text_edit=types.TextEdit(range=replace, new_text=text),
        insert_text_format=types.InsertTextFormat.Snippet,
        insert_text_mode=types.InsertTextMode.AsIs if absolute and "\n" in text else None,
        filter_text=filter_text,
        sort_text=sort_text,
    )


def _relative(text: str, *, line_indent: int, absolute: bool) -> str:
    """Snippet lines after the first lose the cursor line's indentation when the client adds it."""
    if absolute or "\n" not in text:
        return text
    first, *rest = text.split("\n")
    return "\n".join(
        [first, *(line[line_indent:] if line[:line_indent].isspace() else line for line in rest)]
    )


def _keys(
    context: cursor_contexts.CursorContext,
    *,
    schema: schemas.Schema,
    replace: types.Range,
    line_indent: int,
    absolute: bool,
) -> list[types.CompletionItem]:
    node = schemas.at(schema, context.path)
    if node is None:
        return []
    dash = "- " if context.needs_dash else ""
    key_column = context.key_column + len(dash)
    result: list[types.CompletionItem] = []
    properties = node.get("properties") or {}
    for index, (name, child) in enumerate(properties.items()):
        if name in context.present:
            continue
        value = schemas.value_snippet(child, indent=key_column)
        if context.colon_follows:
            value = ""
        elif value is None:
            value = "\n" + " " * (key_column + 2) + "- $1" if "array" in str(child.get("type")) else " $1"
        written = f"{dash}{name}" if context.colon_follows else f"{dash}{name}:{value}"
        text = _relative(written, line_indent=line_indent, absolute=absolute)
        result.append(
            _snippet_item(
                label=name,
                text=text,
                replace=replace,
                kind=types.CompletionItemKind.Property,
                detail=child.get("description") if isinstance(child.get("description"), str) else None,
                documentation=schemas.documentation(child),
                sort_text=f"0{index:03}",
                filter_text=f"{dash}{name}" if dash else None,
                absolute=absolute,
            )
        )
    # A whole new item (env entry, volume mount) or a whole starter file, when nothing is there yet.
    if not context.present and not context.colon_follows:
        for index, snippet in enumerate(schemas.default_snippets(node)):
            body = snippet.get("body")
            if not isinstance(body, dict) or not snippet.get("label"):
                continue
            lines = schemas.render_yaml(body, indent=key_column)
            text = _relative(dash + "\n".join(lines), line_indent=line_indent, absolute=absolute)
            result.append(
                _snippet_item(
                    label=str(snippet["label"]),
                    text=text,
                    replace=replace,
                    kind=types.CompletionItemKind.Snippet,
                    detail=snippet.get("description")
                    if isinstance(snippet.get("description"), str)
                    else None,
                    documentation=None,
                    sort_text=f"1{index:03}",
                    filter_text=dash + lines[0] if lines else None,
                    absolute=absolute,
                )
            )
    return result


def _enum_items(
    context: cursor_contexts.CursorContext, node: schemas.Schema | None, *, replace: types.Range
) -> list[types.CompletionItem]:
    if node is None:
        return []
    dash = "- " if context.needs_dash else ""
    return [
        types.CompletionItem(
            label=value,
            kind=types.CompletionItemKind.EnumMember,
            documentation=_markdown(schemas.enum_documentation(node, value) or schemas.documentation(node)),
            text_edit=types.TextEdit(range=replace, new_text=dash + value),
            filter_text=dash + value if dash else None,
            sort_text=f"{index:03}",
        )
        for index, value in enumerate(schemas.enum_values(node))
        if value not in context.present
    ]


def _markdown(text: str | None) -> types.MarkupContent | None:
    return types.MarkupContent(kind=types.MarkupKind.Markdown, value=text) if text else None


def _values(
    context: cursor_contexts.CursorContext,
    *,
    schema: schemas.Schema,
    snapshot: cataloging.Snapshot,
    replace: types.Range,
) -> list[types.CompletionItem]:
    node = schemas.at(schema, context.path)
    if context.path[-1:] == ("name",) and context.path[0] == "volumeMounts":
        return _volumes(snapshot, replace=replace)
    if node is None:
        return []
    if node.get("enum"):
        return _enum_items(context, node, replace=replace)
    if context.path[0] != "env":
        return []
    result: list[types.CompletionItem] = []
    for index, snippet in enumerate(schemas.default_snippets(node)):
        body = snippet.get("body")
        if not isinstance(body, str):
            continue
        result.append(
            _snippet_item(
                label=str(snippet.get("label") or body),
                text=body,
                replace=replace,
                kind=types.CompletionItemKind.Snippet,
                detail=snippet.get("description") if isinstance(snippet.get("description"), str) else None,
                documentation=None,
                sort_text=f"0{index:03}",
                filter_text=str(snippet.get("label") or body).rstrip(".)"),
                absolute=True,
            )
        )
    # Ready-made tokens for what the cluster has, so a value can be finished in one pick.
    for service in snapshot.services_in(None)[:MAX_CLUSTER_ITEMS]:
        token = f"$(services:{service.name})"
        result.append(
            _plain(
                token,
                replace=replace,
                kind=types.CompletionItemKind.Reference,
                detail=_ports_text(service),
                sort_text=f"1{service.name}",
            )
        )
    for volume in snapshot.volumes[:MAX_CLUSTER_ITEMS]:
        token = f"$(volumeMounts:{volume})"
        result.append(
            _plain(
                token,
                replace=replace,
                kind=types.CompletionItemKind.Folder,
                detail="volume of the pods in the namespace",
                sort_text=f"2{volume}",
            )
        )
    return result


def _plain(
    label: str,
    *,
    replace: types.Range,
    kind: types.CompletionItemKind,
    detail: str | None,
    sort_text: str,
    new_text: str | None = None,
) -> types.CompletionItem:
    return types.CompletionItem(
        label=label,
        kind=kind,
        detail=detail,
        text_edit=types.TextEdit(range=replace, new_text=label if new_text is None else new_text),
        insert_text_format=types.InsertTextFormat.PlainText,
        sort_text=sort_text,
    )


def _ports_text(service: cataloging.Service) -> str:
    ports = ", ".join(
        f"{port.port}/{port.protocol}" + (f" ({port.name})" if port.name else "") for port in service.ports
    )
    return f"service in {service.namespace}" + (f", ports {ports}" if ports else "")


def _service_names(snapshot: cataloging.Snapshot, *, replace: types.Range) -> list[types.CompletionItem]:
    result: list[types.CompletionItem] = []
    for service in snapshot.services[:MAX_CLUSTER_ITEMS]:
        # A service in the context's namespace needs no namespace; others are written NAME.NAMESPACE.
        same = service.namespace == snapshot.namespace
        label = service.name if same else f"{service.name}.{service.namespace}"
        result.append(
            _plain(
                label,
                replace=replace,
                kind=types.CompletionItemKind.Reference,
                detail=_ports_text(service),
                sort_text=f"{0 if same else 1}{label}",
            )
        )
    return result


def _namespaces(
    context: cursor_contexts.CursorContext, snapshot: cataloging.Snapshot, *, replace: types.Range
) -> list[types.CompletionItem]:
    holding = {service.namespace for service in snapshot.services if service.name == context.service}
    return [
        _plain(
            namespace,
            replace=replace,
            kind=types.CompletionItemKind.Module,
            detail=f"has a service {context.service}" if namespace in holding else "namespace",
            sort_text=f"{0 if namespace in holding else 1}{namespace}",
        )
        for namespace in snapshot.namespaces[:MAX_CLUSTER_ITEMS]
    ]


def _ports(
    context: cursor_contexts.CursorContext, snapshot: cataloging.Snapshot, *, replace: types.Range
) -> list[types.CompletionItem]:
    service = snapshot.service(context.service or "", context.namespace)
    if service is None:
        return []
    return [
        _plain(
            str(port.port),
            replace=replace,
            kind=types.CompletionItemKind.Value,
            detail=f"{port.protocol} port" + (f" {port.name}" if port.name else "") + f" of {service.name}",
            sort_text=f"{index:03}",
        )
        for index, port in enumerate(service.ports)
    ]


def _volumes(snapshot: cataloging.Snapshot, *, replace: types.Range) -> list[types.CompletionItem]:
    return [
        _plain(
            volume,
            replace=replace,
            kind=types.CompletionItemKind.Folder,
            detail="volume of the pods in namespace " + (snapshot.namespace or "default"),
            sort_text=volume,
        )
        for volume in snapshot.volumes[:MAX_CLUSTER_ITEMS]
    ]
