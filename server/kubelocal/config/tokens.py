"""The token grammar inside `env[].value`: literal text mixed with `$(TYPE:ARGUMENT)` tokens.

    $(services:NAME[.NAMESPACE][:PORT[,PORT]])
    $(volumeMounts:NAME)
    $(externalendpoints:HOST:PORT[,PORT])

The type is case-insensitive (`$(Services:x)`, `$(externalEndpoints:...)`). A token ends at the
first `)`. Anything outside tokens is literal text; there is no escape for `$(`.

`parse` is pure and works in offsets into the value string; the model maps them to document
positions. A token that has an issue is kept as literal text in `parts`, so `parts` always spells
out the whole value.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Any

from kubelocal.config import problems, suggestions

SERVICES = "services"
VOLUME_MOUNTS = "volumeMounts"
EXTERNAL_ENDPOINTS = "externalendpoints"
TOKEN_TYPES = (SERVICES, VOLUME_MOUNTS, EXTERNAL_ENDPOINTS)
_TYPE_BY_LOWER = {token_type.lower(): token_type for token_type in TOKEN_TYPES}

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_LABEL_MAX = 63
_DNS_SUBDOMAIN_MAX = 253
_PORT = re.compile(r"[0-9]+")


@dataclasses.dataclass(frozen=True)
class Literal:
    text: str
    start: int
    end: int
    span: problems.Span | None = None


@dataclasses.dataclass(frozen=True)
class ServiceToken:
    """`$(services:NAME[.NAMESPACE][:PORT[,PORT]])`; `namespace` None means the workload's own."""

    text: str
    start: int
    end: int
    name: str
    namespace: str | None
    ports: tuple[int, ...]
    span: problems.Span | None = None


@dataclasses.dataclass(frozen=True)
class VolumeMountToken:
    text: str
    start: int
    end: int
    name: str
    span: problems.Span | None = None


@dataclasses.dataclass(frozen=True)
class ExternalEndpointToken:
    text: str
    start: int
    end: int
    host: str
    ports: tuple[int, ...]
    span: problems.Span | None = None


Part = Literal | ServiceToken | VolumeMountToken | ExternalEndpointToken


@dataclasses.dataclass(frozen=True)
class Issue:
    """A problem inside a value, at offsets `start`..`end` of the value string."""

    code: str
    message: str
    start: int
    end: int
    data: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Parse:
    parts: tuple[Part, ...]
    issues: tuple[Issue, ...]


@functools.lru_cache(maxsize=8192)
def parse(value: str) -> Parse:
    """Split `value` into literal text and tokens, with the issues of each token.

    Cached: the checks and the model both parse every value.
    """
    parts: list[Part] = []
    issues: list[Issue] = []
    position = 0
    while True:
        opening = value.find("$(", position)
        if opening < 0:
            break
        closing = value.find(")", opening + 2)
        if closing < 0:
            issues.append(
                Issue(
                    code="unterminated-token",
                    message=(
                        f"The token starting with '{_shorten(value[opening:])}' has no closing ')'. "
                        "Add ')' where the token ends."
                    ),
                    start=opening,
                    end=len(value),
                )
            )
            break
        if opening > position:
            parts.append(Literal(value[position:opening], position, opening))
        token_issues, token = _parse_token(value, start=opening, end=closing + 1)
        issues.extend(token_issues)
        parts.append(
            token if token is not None else Literal(value[opening : closing + 1], opening, closing + 1)
        )
        position = closing + 1
    if position < len(value):
        parts.append(Literal(value[position:], position, len(value)))
    return Parse(parts=tuple(parts), issues=tuple(issues))


def _parse_token(value: str, *, start: int, end: int) -> tuple[list[Issue], Part | None]:
    text = value[start:end]
    content_start = start + 2
    content = value[content_start : end - 1]
    colon = content.find(":")
    if colon < 0:
        return [
            Issue(
                code="unknown-token-type",
                message=(
                    f"'{_shorten(text)}' has no token type. Write $(services:NAME), "
                    "$(volumeMounts:NAME) or $(externalendpoints:HOST:PORT)."
                ),
                start=start,
                end=end,
                data={"type": content, "suggestion": None, "valid": list(TOKEN_TYPES)},
            )
        ], None
    written_type = content[:colon]
    token_type = _TYPE_BY_LOWER.get(written_type.lower())
    argument_start = content_start + colon + 1
    argument = content[colon + 1 :]
    if token_type is None:
        suggestion = suggestions.closest(written_type, TOKEN_TYPES)
        hint = f" Did you mean '{suggestion}'?" if suggestion else ""
        return [
            Issue(
                code="unknown-token-type",
                message=(
                    f"Unknown token type '{written_type}'.{hint} Valid types: {', '.join(TOKEN_TYPES)}."
                ),
                start=content_start,
                end=content_start + colon,
                data={"type": written_type, "suggestion": suggestion, "valid": list(TOKEN_TYPES)},
            )
        ], None
    if token_type == SERVICES:
        return _service(text, start=start, end=end, argument=argument, argument_start=argument_start)
    if token_type == VOLUME_MOUNTS:
        return _volume_mount(text, start=start, end=end, argument=argument, argument_start=argument_start)
    return _external_endpoint(text, start=start, end=end, argument=argument, argument_start=argument_start)


def _service(
    text: str, *, start: int, end: int, argument: str, argument_start: int
) -> tuple[list[Issue], Part | None]:
    target, _, ports_text = argument.partition(":")
    issues: list[Issue] = []
    target_end = argument_start + len(target)
    name, dot, namespace = target.partition(".")
    if not target:
        issues.append(
            Issue(
                code="invalid-service-name",
                message="The service name is missing. Write $(services:NAME) or $(services:NAME.NAMESPACE).",
                start=start,
                end=end,
            )
        )
    elif "." in namespace:
        issues.append(
            Issue(
                code="invalid-service-name",
                message=(
                    f"'{target}' is not a service: write service-name or service-name.namespace-name "
                    "(no cluster domain)."
                ),
                start=argument_start,
                end=target_end,
            )
        )
    else:
        name_issue = _dns_label_issue(
            name, what="service name", code="invalid-service-name", start=argument_start
        )
        if name_issue is not None:
            issues.append(name_issue)
        if dot:
            namespace_issue = _dns_label_issue(
                namespace, what="namespace", code="invalid-namespace", start=argument_start + len(name) + 1
            )
            if namespace_issue is not None:
                issues.append(namespace_issue)
    ports: tuple[int, ...] = ()
    if ports_text or len(argument) > len(target):
        port_issues, ports = _ports(ports_text, target_end + 1)
        issues.extend(port_issues)
    if issues:
        return issues, None
    return [], ServiceToken(text, start, end, name, namespace if dot else None, ports)


def _volume_mount(
    text: str, *, start: int, end: int, argument: str, argument_start: int
) -> tuple[list[Issue], Part | None]:
    if not argument:
        return [
            Issue(
                code="invalid-volume-name",
                message="The volume name is missing. Write $(volumeMounts:NAME) naming a container volume.",
                start=start,
                end=end,
            )
        ], None
    issue = _dns_label_issue(argument, what="volume name", code="invalid-volume-name", start=argument_start)
    if issue is not None:
        return [issue], None
    return [], VolumeMountToken(text, start, end, argument)


def _external_endpoint(
    text: str, *, start: int, end: int, argument: str, argument_start: int
) -> tuple[list[Issue], Part | None]:
    host, colon, ports_text = argument.partition(":")
    issues: list[Issue] = []
    if not colon:
        issues.append(
            Issue(
                code="invalid-external-endpoint",
                message=(
                    f"The external endpoint '{_shorten(argument)}' has no port. "
                    f"Write $(externalendpoints:{host or 'HOST'}:PORT)."
                ),
                start=start,
                end=end,
            )
        )
        return issues, None
    if not _is_dns_subdomain(host):
        issues.append(
            Issue(
                code="invalid-external-endpoint",
                message=(
                    f"'{_shorten(host)}' is not a DNS name. Write $(externalendpoints:HOST:PORT) with a host "
                    "name such as server.database.windows.net."
                ),
                start=argument_start if host else start,
                end=argument_start + len(host) if host else end,
            )
        )
    port_issues, ports = _ports(ports_text, argument_start + len(host) + 1)
    issues.extend(port_issues)
    if issues:
        return issues, None
    return [], ExternalEndpointToken(text, start, end, host, ports)


def _ports(ports_text: str, ports_start: int) -> tuple[list[Issue], tuple[int, ...]]:
    """Parse `PORT[,PORT...]` starting at `ports_start`; an empty item is an invalid port too."""
    issues = []
    ports = []
    offset = ports_start
    for item in ports_text.split(","):
        if _PORT.fullmatch(item) and 1 <= int(item) <= 65535:
            ports.append(int(item))
        else:
            # An empty item has no width: point at the separator before it instead.
            item_start, item_end = (offset, offset + len(item)) if item else (offset - 1, offset)
            shown = f"'{_shorten(item)}'" if item else "missing"
            issues.append(
                Issue(
                    code="invalid-port",
                    message=f"The port is {shown}; a port is a whole number from 1 to 65535.",
                    start=item_start,
                    end=item_end,
                    data={"port": item},
                )
            )
        offset += len(item) + 1
    return issues, tuple(ports)


def _dns_label_issue(text: str, *, what: str, code: str, start: int) -> Issue | None:
    if len(text) <= _DNS_LABEL_MAX and _DNS_LABEL.fullmatch(text):
        return None
    shown = f"'{_shorten(text)}'" if text else "empty"
    return Issue(
        code=code,
        message=(
            f"The {what} is {shown}, which is not a valid DNS-1123 label: use at most 63 lowercase "
            "letters, digits and '-', starting and ending with a letter or digit."
        ),
        start=start if text else start - 1,
        end=start + len(text) if text else start,
        data={what.replace(" ", "_"): text},
    )


def _is_dns_subdomain(host: str) -> bool:
    """A DNS name (letters of any case) or an IPv4 address: labels of letters, digits and '-'."""
    if not host or len(host) > _DNS_SUBDOMAIN_MAX:
        return False
    return all(
        len(label) <= _DNS_LABEL_MAX and _DNS_LABEL.fullmatch(label) for label in host.lower().split(".")
    )


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
