"""Hover text: the schema's documentation for keys, and what a token refers to: pure.

For a token the hover says what it names (service, namespace, ports; volume and where its files
appear; external host and ports) and, when the cluster catalog has read the cluster, what the
cluster has under that name. `expand` is the hook for "what it expands to when connected": given
the token, it returns the text the token becomes in the running session, or None while not
connected (the connection feature provides it).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence

from kubelocal.config import model, problems
from kubelocal.kube import cataloging
from kubelocal.lsp import cursor_contexts, schemas

Expand = Callable[[model.Part], str | None]


def key_markdown(
    lines: Sequence[str],
    position: problems.Position,
    *,
    schema: schemas.Schema,
    sections: dict[str, cursor_contexts.SectionShape],
) -> tuple[str, cursor_contexts.KeyAt] | None:
    """The documentation of the key under the cursor and where the key is, or None."""
    key = cursor_contexts.key_at(lines, position, sections=sections)
    if key is None:
        return None
    node = schemas.at(schema, key.path)
    text = schemas.documentation(node) if node is not None else None
    if text is None:
        return None
    return f"**{key.path[-1]}**\n\n{text}", key


def sequence_item_markdown(
    lines: Sequence[str], position: problems.Position, *, schema: schemas.Schema
) -> tuple[str, int, int] | None:
    """The documentation of the enum value under the cursor in a sequence of scalars (a feature),
    with its columns on the line; None elsewhere or for a value the schema does not document."""
    keys = cursor_contexts.top_level_key_lines(lines)
    for name, shape in schemas.section_shapes(schema).items():
        if shape is not cursor_contexts.SectionShape.SCALARS or name not in keys:
            continue
        for text, line, start, end in cursor_contexts.sequence_scalars(lines, keys[name][0]):
            if line == position.line and start <= position.column <= end:
                node = schemas.at(schema, (name, cursor_contexts.ITEM))
                documented = schemas.enum_documentation(node, text) if node is not None else None
                return (f"**{text}**\n\n{documented}", start, end) if documented else None
    return None


def token_at(config: model.ConfigModel, position: problems.Position) -> model.Part | None:
    """The token (service, volume, external endpoint) under the checker position, if any."""
    for entry in config.env:
        if not entry.value_span.start <= position <= entry.value_span.end:
            continue
        for part in entry.parts:
            if isinstance(part, model.Literal) or part.span is None:
                continue
            if part.span.start <= position <= part.span.end:
                return part
    return None


def _ports(ports: tuple[int, ...]) -> str:
    return ", ".join(str(port) for port in ports)


def token_markdown(
    token: model.Part,
    *,
    config: model.ConfigModel,
    snapshot: cataloging.Snapshot,
    expand: Expand | None = None,
) -> str:
    """What `token` refers to, in Markdown."""
    lines: list[str] = []
    if isinstance(token, model.ServiceToken):
        where = f"namespace `{token.namespace}`" if token.namespace else "the workload's own namespace"
        lines.append(f"**Service `{token.name}`** in {where}")
        lines.append(
            f"Ports: {_ports(token.ports)}" if token.ports else "Ports: every port the service exposes"
        )
        lines.append("Expands to the workstation address (host) where kubelocal makes the service reachable.")
        lines.extend(_service_in_cluster(token, snapshot))
    elif isinstance(token, model.VolumeMountToken):
        lines.append(f"**Volume `{token.name}`** of the container")
        mount = next(
            (mount for mount in config.volume_mounts if fnmatch.fnmatchcase(token.name, mount.name)), None
        )
        if mount is not None:
            lines.append(
                f"Its files appear in `{mount.local_path}` on the workstation "
                f"(volumeMounts entry `{mount.name}`)."
            )
        else:
            lines.append(
                "Its files appear in a temporary directory on the workstation "
                "(no volumeMounts entry matches it)."
            )
        if snapshot.read_at is not None and not snapshot.error:
            found = token.name in snapshot.volumes
            namespace = snapshot.namespace or "default"
            lines.append(
                f"A pod in namespace `{namespace}` has this volume."
                if found
                else f"No pod in namespace `{namespace}` of context `{snapshot.context}` has this volume."
            )
    elif isinstance(token, model.ExternalEndpointToken):
        lines.append(f"**External endpoint `{token.host}`**, ports {_ports(token.ports)}")
        lines.append(
            "A host outside the cluster, reached from the workstation through the agent in the cluster."
        )
    expanded = expand(token) if expand is not None else None
    if expanded is not None:
        lines.append(f"When connected: `{expanded}`")
    return "\n\n".join(lines)


def _service_in_cluster(token: model.ServiceToken, snapshot: cataloging.Snapshot) -> list[str]:
    if snapshot.read_at is None or (snapshot.error and not snapshot.services):
        return []
    namespace = token.namespace or snapshot.namespace
    service = snapshot.service(token.name, namespace)
    if service is None:
        return [f"Not found in namespace `{namespace}` of context `{snapshot.context}`."]
    ports = ", ".join(
        f"{port.port}/{port.protocol}" + (f" ({port.name})" if port.name else "") for port in service.ports
    )
    address = f" at {service.cluster_ip}" if service.cluster_ip else ""
    return [
        f"In context `{snapshot.context}`: namespace `{service.namespace}`{address}, ports {ports or 'none'}."
    ]
