"""The environment of the workstation process, and its renderers.

Pure, except `write_private_file`. Three layers, later ones winning:

1. The container's env as the pod sees it, from the agent's report (env, envFrom, downward API,
   Kubernetes' service link variables). Dropped from it: the agent's own `KUBELOCAL_AGENT_*`
   variables (its token), the variables the
   agent's image defines for itself (`PATH`, `HOME`, `PYTHON_VERSION`... they describe the stock
   Python image, not the application's, and would break the workstation's shell) unless the
   container spec sets them explicitly, and the service link variables of the pod's namespace
   (they hold ClusterIPs the workstation cannot reach) unless set explicitly in the spec.
2. Service link variables for every reachable service, rewritten to the workstation endpoints:
   `<SVC>_SERVICE_HOST`, `<SVC>_SERVICE_PORT`, `<SVC>_SERVICE_PORT_<NAME>`, `<SVC>_PORT`,
   `<SVC>_PORT_<p>_TCP` and its `_PROTO`, `_PORT`, `_ADDR` (`<p>` is the cluster port, so code
   written against the cluster names keeps working; the values carry the workstation port).
   Names upper-cased, `-` -> `_`; services of other namespaces are `<SVC>_<NS>_...`. Headless and
   ExternalName services get them too (Kubernetes gives them none, but in no-admin mode they are
   the only way to find those services). Explicit container env still wins, as in Kubernetes.
   `KUBERNETES_SERVICE_*`/`KUBERNETES_PORT*` (the API server, for in-cluster clients): when the
   `kubernetes` service of `default` is reachable they point at it (in hosts mode by the name
   `kubernetes.default.svc`, which the API server's certificate names, so TLS verifies); when it
   is not, they are removed, with a note.
3. The config file's `env`, tokens expanded:
   `$(services:NAME[.NS][:PORT,...])` -> the service's workstation address for its first (or the
   first given) port; `$(externalendpoints:HOST:PORT,...)` -> the external host's; both as `host`
   when the workstation port is the cluster port (hosts mode: the address works exactly like the
   cluster name), else `host:port` (no-admin mode, or a moved port). The host is the allocated
   loopback IP for services and, in hosts mode, the DNS name itself for external endpoints (the
   hosts file maps it, and TLS certificates name it). `$(volumeMounts:NAME)` -> the workstation
   directory holding that volume's files.

`EnvironmentPlan`'s repr lists names only: values can be secrets and must never reach logs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kubelocal.config import model
from kubelocal.engine import endpoints, errors, names

# Defined by the stock python image the agent runs on; they say nothing about the application.
AGENT_IMAGE_VARIABLES = frozenset(
    {
        "PATH", "HOME", "LANG", "GPG_KEY", "PWD", "SHLVL", "TERM", "PYTHON_VERSION", "PYTHON_SHA256",
        "PYTHON_PIP_VERSION", "PYTHON_SETUPTOOLS_VERSION", "PYTHON_GET_PIP_URL", "PYTHON_GET_PIP_SHA256",
    }
)  # fmt: skip
KUBERNETES_SERVICE = ("kubernetes", "default")
FORMATS = ("dotenv", "json", "sh", "powershell")

SOURCE_POD = "pod"
SOURCE_SERVICE = "service-link"
SOURCE_CONFIG = "config"


@dataclasses.dataclass(frozen=True)
class EnvironmentPlan:
    """The variables for the workstation process; `sources` says where each came from."""

    variables: Mapping[str, str]
    sources: Mapping[str, str]
    notes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"EnvironmentPlan(names={sorted(self.variables)}, notes={list(self.notes)})"

    __str__ = __repr__


def link_prefix(service: str, namespace: str, own_namespace: str) -> str:
    """`my-svc` -> `MY_SVC`; in another namespace `MY_SVC_OTHER_NS`."""
    base = service if namespace == own_namespace else f"{service}_{namespace}"
    return base.upper().replace("-", "_").replace(".", "_")


def link_variables(endpoint: endpoints.Endpoint, *, prefix: str) -> dict[str, str]:
    """The Kubernetes service link variables of one endpoint, pointing at the workstation."""
    if not endpoint.ports:
        return {}
    ip = endpoint.workstation_ip
    first = endpoint.ports[0]
    variables = {
        f"{prefix}_SERVICE_HOST": ip,
        f"{prefix}_SERVICE_PORT": str(first.workstation_port),
        f"{prefix}_PORT": f"tcp://{ip}:{first.workstation_port}",
    }
    for port in endpoint.ports:
        if port.name:
            variables[f"{prefix}_SERVICE_PORT_{port.name.upper().replace('-', '_')}"] = str(
                port.workstation_port
            )
        base = f"{prefix}_PORT_{port.cluster_port}_TCP"
        variables[base] = f"tcp://{ip}:{port.workstation_port}"
        variables[f"{base}_PROTO"] = "tcp"
        variables[f"{base}_PORT"] = str(port.workstation_port)
        variables[f"{base}_ADDR"] = ip
    return variables


def plan(
    *,
    pod_env: Mapping[str, str],
    endpoint_plan: endpoints.EndpointPlan,
    config: model.ConfigModel | None = None,
    explicit_names: Iterable[str] = (),
    volume_directories: Mapping[str, str] | None = None,
    cluster_services: Iterable[str] = (),
) -> EnvironmentPlan:
    """Build the environment; see the module docstring.

    `explicit_names` are the names the container spec sets in `env` (they beat link variables and
    image variables, as in Kubernetes). `cluster_services` are the names of all services in the
    pod's namespace, whose link variables are stripped from the pod env (the reachable ones are
    added back rewritten); the plan's own services are always included.
    """
    explicit = set(explicit_names)
    own = endpoint_plan.namespace
    notes: list[str] = []
    variables: dict[str, str] = {}
    sources: dict[str, str] = {}

    services = set(cluster_services) | {
        e.service for e in endpoint_plan.endpoints if e.kind is endpoints.Kind.SERVICE and e.namespace == own
    }
    # KUBERNETES_* always: they are rewritten below when the API server is reachable, else removed.
    link_prefixes = {link_prefix(name, own, own) for name in services} | {"KUBERNETES"}
    for name, value in pod_env.items():
        if name.startswith(names.AGENT_ENV_PREFIX):
            continue
        if name not in explicit and (name in AGENT_IMAGE_VARIABLES or _is_link_variable(name, link_prefixes)):
            continue
        variables[name], sources[name] = value, SOURCE_POD

    kubernetes_reachable = False
    for endpoint in endpoint_plan.endpoints:
        if endpoint.kind is not endpoints.Kind.SERVICE:
            continue
        if (endpoint.service, endpoint.namespace) == KUBERNETES_SERVICE:
            kubernetes_reachable = True
            links = link_variables(endpoint, prefix="KUBERNETES")
            if endpoint_plan.mode is endpoints.Mode.HOSTS:
                links["KUBERNETES_SERVICE_HOST"] = "kubernetes.default.svc"
        else:
            links = link_variables(endpoint, prefix=link_prefix(endpoint.service, endpoint.namespace, own))
        for name, value in links.items():
            if name not in explicit:
                variables[name], sources[name] = value, SOURCE_SERVICE
    if not kubernetes_reachable:
        notes.append(
            "The Kubernetes API server (service kubernetes.default) is not made reachable, so the "
            "KUBERNETES_SERVICE_* variables are left out; in-cluster clients need a kubeconfig instead."
        )

    for entry in config.env if config is not None else ():
        variables[entry.name] = expand(
            entry.parts,
            endpoint_plan=endpoint_plan,
            volume_directories=volume_directories or {},
            variable=entry.name,
        )
        sources[entry.name] = SOURCE_CONFIG
    return EnvironmentPlan(
        variables=dict(sorted(variables.items())), sources=dict(sorted(sources.items())), notes=tuple(notes)
    )


_LINK_SUFFIX = re.compile(
    r"^_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?)?)$"
)
_LINK_SPLIT = re.compile(r"_(?=SERVICE_|PORT)")


def _is_link_variable(name: str, prefixes: set[str]) -> bool:
    """Whether `name` is a service link variable of one of `prefixes` (`API` -> `API_SERVICE_HOST`...).

    Tries each place a link suffix could start, so it costs the name's length, not the number of
    services."""
    return any(
        name[: split.start()] in prefixes and _LINK_SUFFIX.match(name[split.start() :])
        for split in _LINK_SPLIT.finditer(name)
    )


# --- tokens ------------------------------------------------------------------------------------------


def expand(
    parts: Sequence[model.Part],
    *,
    endpoint_plan: endpoints.EndpointPlan,
    volume_directories: Mapping[str, str],
    variable: str = "",
) -> str:
    """The value of a config env entry with its tokens replaced; see the module docstring."""
    pieces = []
    for part in parts:
        if isinstance(part, model.ServiceToken):
            pieces.append(_service_address(part, endpoint_plan, variable))
        elif isinstance(part, model.ExternalEndpointToken):
            pieces.append(_external_address(part, endpoint_plan, variable))
        elif isinstance(part, model.VolumeMountToken):
            pieces.append(_volume_directory(part, volume_directories, variable))
        else:
            pieces.append(part.text)
    return "".join(pieces)


def _address(host: str, allocation: endpoints.PortAllocation, mode: endpoints.Mode) -> str:
    if mode is endpoints.Mode.HOSTS and allocation.workstation_port == allocation.cluster_port:
        return host
    return f"{host}:{allocation.workstation_port}"


def _pick_port(
    endpoint: endpoints.Endpoint, ports: Sequence[int], what: str, variable: str
) -> endpoints.PortAllocation:
    if not ports:
        return endpoint.ports[0]
    allocation = endpoint.port_for(ports[0])
    if allocation is None:
        available = ", ".join(str(p.cluster_port) for p in endpoint.ports)
        raise errors.EnvironmentPlanError(
            f"{variable}: {what} has no port {ports[0]} to reach (it has {available}, minus ignored ports). "
            "Fix the port in KubernetesLocalProcessConfig.yaml."
        )
    return allocation


def _service_address(token: model.ServiceToken, plan: endpoints.EndpointPlan, variable: str) -> str:
    namespace = token.namespace or plan.namespace
    endpoint = plan.service(token.name, namespace)
    if endpoint is None or not endpoint.ports:
        raise errors.EnvironmentPlanError(
            f"{variable}: service {token.name}.{namespace} is not reachable from this workstation "
            "(it does not exist or has no TCP port). "
            "Check the name and namespace in KubernetesLocalProcessConfig.yaml."
        )
    allocation = _pick_port(endpoint, token.ports, f"service {token.name}.{namespace}", variable)
    return _address(endpoint.workstation_ip, allocation, plan.mode)


def _external_address(token: model.ExternalEndpointToken, plan: endpoints.EndpointPlan, variable: str) -> str:
    endpoint = plan.external(token.host)
    if endpoint is None or not endpoint.ports:
        raise errors.EnvironmentPlanError(
            f"{variable}: external endpoint {token.host} has no workstation address. Pass the config's "
            "external endpoints to the endpoint plan (this is a kubelocal bug if you see it)."
        )
    allocation = _pick_port(endpoint, token.ports, f"external endpoint {token.host}", variable)
    host = endpoint.service if plan.mode is endpoints.Mode.HOSTS else endpoint.workstation_ip
    return _address(host, allocation, plan.mode)


def _volume_directory(token: model.VolumeMountToken, directories: Mapping[str, str], variable: str) -> str:
    if token.name in directories:
        return directories[token.name]
    raise errors.EnvironmentPlanError(
        f"{variable}: volume {token.name!r} is not mounted in the container (it mounts "
        f"{', '.join(sorted(directories)) or 'no volume'}). "
        "Fix the volume name in KubernetesLocalProcessConfig.yaml."
    )


def explicit_names(container: Mapping[str, Any]) -> list[str]:
    """The names a container spec sets in `env` (for `plan(explicit_names=...)`)."""
    return [str(entry["name"]) for entry in container.get("env") or [] if "name" in entry]


# --- what the config asks of the other planners ------------------------------------------------------


def wanted_services(config: model.ConfigModel | None, *, namespace: str) -> list[tuple[str, str]]:
    """(name, namespace) of every service the config's tokens name, in order, without repeats."""
    found = [
        (part.name, part.namespace or namespace)
        for entry in (config.env if config else ())
        for part in entry.parts
        if isinstance(part, model.ServiceToken)
    ]
    return list(dict.fromkeys(found))


def external_endpoints(config: model.ConfigModel | None) -> list[endpoints.ExternalEndpoint]:
    """The external endpoints the config's tokens name."""
    return [
        endpoints.ExternalEndpoint(part.host, tuple(part.ports))
        for entry in (config.env if config else ())
        for part in entry.parts
        if isinstance(part, model.ExternalEndpointToken)
    ]


def volume_directories(
    config: model.ConfigModel | None, *, mounted_volumes: Sequence[str], temporary_root: str
) -> dict[str, str]:
    """Workstation directory of each volume the container mounts.

    A config `volumeMounts` entry whose name (a glob: `default-token-*`) matches a volume gives its
    `localPath`, first match wins; other volumes go to `temporary_root/<volume>`. A config entry
    that matches no mounted volume is an error naming the volumes there are.
    """
    directories = {volume: str(Path(temporary_root) / volume) for volume in mounted_volumes}
    claimed: set[str] = set()
    for mount in config.volume_mounts if config else ():
        matches = [v for v in mounted_volumes if fnmatch.fnmatchcase(v, mount.name) and v not in claimed]
        if not matches and not any(fnmatch.fnmatchcase(v, mount.name) for v in mounted_volumes):
            raise errors.EnvironmentPlanError(
                f"volumeMounts: no volume named {mount.name!r} is mounted in the container (it mounts "
                f"{', '.join(mounted_volumes) or 'none'}). Fix the name in KubernetesLocalProcessConfig.yaml."
            )
        if matches:
            directories[matches[0]] = mount.local_path
            claimed.add(matches[0])
    return directories


# --- renderers -----------------------------------------------------------------------------------------


def render(variables: Mapping[str, str], output_format: str) -> str:
    """The variables in `output_format` (one of FORMATS), sorted by name."""
    renderers = {
        "dotenv": render_dotenv,
        "json": render_json,
        "sh": render_sh,
        "powershell": render_powershell,
    }
    if output_format not in renderers:
        raise errors.EnvironmentPlanError(
            f"Unknown format {output_format!r}: use one of {', '.join(FORMATS)}."
        )
    return renderers[output_format](variables)


_DOTENV_PLAIN = re.compile(r"^[A-Za-z0-9_./:@,+=%-]+$")
_SH_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def render_dotenv(variables: Mapping[str, str]) -> str:
    """`NAME=value`; values with anything but plain characters in double quotes, with `\\`, `"`,
    newline, carriage return and tab escaped (the python-dotenv / VS Code `envFile` reading).
    `${...}` inside a value may still be interpolated by readers that interpolate; use `json` to be exact."""
    lines = []
    for name, value in sorted(variables.items()):
        if _DOTENV_PLAIN.fullmatch(value):
            lines.append(f"{name}={value}")
        else:
            escaped = (
                value.replace("\\", "\\\\")
                .replace('"', '\\"')
                .replace("\n", "\\n")
                .replace("\r", "\\r")
                .replace("\t", "\\t")
            )
            lines.append(f'{name}="{escaped}"')
    return "".join(line + "\n" for line in lines)


_DOTENV_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n", "\\r": "\r", "\\t": "\t"}


def parse_dotenv(text: str) -> dict[str, str]:
    """Read back what `render_dotenv` wrote: plain values, or double-quoted ones with its escapes.

    Blank lines, `#` comments and lines without `=` are skipped.
    """
    variables = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            inner, out, index = value[1:-1], [], 0
            while index < len(inner):
                pair = inner[index : index + 2]
                if pair in _DOTENV_ESCAPES:
                    out.append(_DOTENV_ESCAPES[pair])
                    index += 2
                else:
                    out.append(inner[index])
                    index += 1
            value = "".join(out)
        variables[name.strip()] = value
    return variables


def render_json(variables: Mapping[str, str]) -> str:
    return json.dumps(dict(sorted(variables.items())), indent=2, ensure_ascii=False) + "\n"


def render_sh(variables: Mapping[str, str]) -> str:
    """`export NAME='value'` for POSIX shells; `'` is written `'\\''`. Names a shell cannot hold
    (Kubernetes allows `.` and `-`) are listed in a comment instead."""
    lines = []
    for name, value in sorted(variables.items()):
        if not _SH_NAME.fullmatch(name):
            lines.append(f"# skipped {name}: not a valid shell variable name")
            continue
        quoted = "'" + value.replace("'", "'\\''") + "'"
        lines.append(f"export {name}={quoted}")
    return "".join(line + "\n" for line in lines)


# PowerShell treats the typographic single quotes as quotes too; each is escaped by doubling it.
_POWERSHELL_QUOTES = ("'", "\u2018", "\u2019", "\u201a", "\u201b")


def render_powershell(variables: Mapping[str, str]) -> str:
    """`$env:NAME = 'value'` (`${env:NAME}` for names with `.` or `-`); single-quoted strings are
    verbatim in PowerShell (no `$` or backtick expansion), and every kind of single quote is doubled."""
    lines = []
    for name, value in sorted(variables.items()):
        escaped = value
        for quote in _POWERSHELL_QUOTES:
            escaped = escaped.replace(quote, quote * 2)
        target = f"$env:{name}" if _SH_NAME.fullmatch(name) else "${env:" + name + "}"
        lines.append(f"{target} = '{escaped}'")
    return "".join(line + "\n" for line in lines)


def write_private_file(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` to `path` readable by its owner only (0600 from creation, never wider), atomically."""
    target = Path(path)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        os.chmod(temporary, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
