"""A container's environment, built from its pod spec exactly as a kubelet builds it.

Order (as pkg/kubelet's makeEnvironmentVariables): `envFrom` sources in order (with their prefix),
then `env` in order, each value `$(VAR)`-expanded against what is defined so far plus the service
variables; last, the service-link variables of the namespace (all of them when
`enableServiceLinks`, else only the `kubernetes` service's) for every name not already defined.

Also `expand` for `$(VAR)` in command and args, and the downward-API field values shared with
downwardAPI volumes. Pure: the resolver is only read.
"""

from __future__ import annotations

import base64
import decimal
import math
import os
import re

from kubelocal.sandbox.kubelet import errors, resolving

_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_LABEL_FIELD = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


def expand(value: str, mapping: dict[str, str]) -> str:
    """Kubernetes `$(VAR)` expansion: defined names are replaced, `$$` escapes a `$`, anything else
    (undefined names, an unclosed `$(`) is kept verbatim."""
    result: list[str] = []
    index = 0
    while index < len(value):
        char = value[index]
        if char != "$" or index + 1 >= len(value):
            result.append(char)
            index += 1
            continue
        following = value[index + 1]
        if following == "$":
            result.append("$")
            index += 2
        elif following == "(":
            close = value.find(")", index + 2)
            if close == -1:
                result.append(value[index:])
                break
            name = value[index + 2 : close]
            result.append(mapping[name] if name in mapping else f"$({name})")
            index = close + 1
        else:
            result.append(char + following)
            index += 2
    return "".join(result)


def service_link_variables(services: list[dict]) -> dict[str, str]:
    """The Docker-link style variables of `services` (headless and ExternalName ones have none)."""
    variables: dict[str, str] = {}
    for service in services:
        spec = service.get("spec") or {}
        cluster_ip = spec.get("clusterIP")
        if not cluster_ip or cluster_ip == "None" or spec.get("type") == "ExternalName":
            continue
        ports = spec.get("ports") or []
        if not ports:
            continue
        prefix = service["metadata"]["name"].upper().replace("-", "_")
        variables[f"{prefix}_SERVICE_HOST"] = cluster_ip
        variables[f"{prefix}_SERVICE_PORT"] = str(ports[0]["port"])
        for port in ports:
            if port.get("name"):
                variables[f"{prefix}_SERVICE_PORT_{port['name'].upper().replace('-', '_')}"] = str(
                    port["port"]
                )
        first_protocol = ports[0].get("protocol", "TCP")
        variables[f"{prefix}_PORT"] = f"{first_protocol.lower()}://{cluster_ip}:{ports[0]['port']}"
        for port in ports:
            protocol = port.get("protocol", "TCP")
            link = f"{prefix}_PORT_{port['port']}_{protocol.upper()}"
            variables[link] = f"{protocol.lower()}://{cluster_ip}:{port['port']}"
            variables[f"{link}_PROTO"] = protocol.lower()
            variables[f"{link}_PORT"] = str(port["port"])
            variables[f"{link}_ADDR"] = cluster_ip
    return variables


def services_for_links(
    *, pod: dict, namespace_services: list[dict], default_services: list[dict]
) -> list[dict]:
    """The services whose link variables the pod gets: the `kubernetes` service always, the
    namespace's others only when `enableServiceLinks` is not false."""
    namespace = pod["metadata"].get("namespace", "default")
    master = [s for s in default_services if s["metadata"]["name"] == "kubernetes"]
    if (pod.get("spec") or {}).get("enableServiceLinks", True) is False:
        return master
    others = [
        s
        for s in namespace_services
        if not (namespace == "default" and s["metadata"]["name"] == "kubernetes")
    ]
    return others + master


def field_value(pod: dict, field_path: str, *, pod_ip: str, host_ip: str) -> str:
    """The downward-API value of `field_path`; ContainerConfigError for an unsupported path."""
    metadata = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    simple = {
        "metadata.name": metadata.get("name", ""),
        "metadata.namespace": metadata.get("namespace", "default"),
        "metadata.uid": metadata.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", "default"),
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
    }
    if field_path in simple:
        return simple[field_path]
    if field_path in ("metadata.labels", "metadata.annotations"):
        values = metadata.get(field_path.split(".")[1]) or {}
        return "\n".join(f'{key}="{_escape(value)}"' for key, value in sorted(values.items()))
    match = _LABEL_FIELD.match(field_path)
    if match:
        return str((metadata.get(match.group(1)) or {}).get(match.group(2), ""))
    raise errors.ContainerConfigError(
        f"fieldRef {field_path!r} is not supported; use a downward-API field path"
    )


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


_SUFFIXES = {
    "": 1, "m": decimal.Decimal("0.001"), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
    "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}  # fmt: skip


def parse_quantity(quantity: str | int | float) -> decimal.Decimal:
    """A Kubernetes resource quantity ("500m", "1Gi", "2", "1e3") as a number."""
    text = str(quantity).strip()
    match = re.match(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$", text)
    if not match or match.group(2) not in _SUFFIXES:
        raise errors.ContainerConfigError(
            f"resource quantity {text!r} is not valid; write it like 500m or 1Gi"
        )
    return decimal.Decimal(match.group(1)) * decimal.Decimal(_SUFFIXES[match.group(2)])


def resource_value(pod: dict, container_name: str, reference: dict) -> str:
    """resourceFieldRef: the container's limit/request divided by `divisor`, rounded up; limits
    default to the workstation's capacity (as a node's allocatable), requests to 0 (best effort)."""
    resource = reference.get("resource", "")
    wanted = reference.get("containerName") or container_name
    containers = (pod.get("spec") or {}).get("containers") or []
    container = next((c for c in containers if c.get("name") == wanted), {})
    section, _, name = resource.partition(".")
    given = ((container.get("resources") or {}).get(section) or {}).get(name)
    if given is None and section == "requests":
        given = ((container.get("resources") or {}).get("limits") or {}).get(name)
    if given is None:
        given = _capacity(name) if section == "limits" else "0"
    divisor = parse_quantity(reference.get("divisor") or "1")
    if divisor == 0:
        raise errors.ContainerConfigError(
            f"resourceFieldRef {resource!r} has divisor 0; use 1 or leave it out"
        )
    return str(math.ceil(parse_quantity(given) / divisor))


def _capacity(name: str) -> str:
    if name == "cpu":
        return str(os.cpu_count() or 1)
    if name == "memory":
        try:
            return str(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
        except (ValueError, OSError):
            return str(2**32)
    return "0"


def _config_map_value(resolver: resolving.Resolver, namespace: str, reference: dict) -> str | None:
    name = reference.get("name", "")
    config_map = resolver.get_config_map(namespace, name)
    optional = bool(reference.get("optional"))
    if config_map is None:
        if optional:
            return None
        raise errors.ContainerConfigError(f'configmap "{name}" not found; create it in namespace {namespace}')
    data = config_map.get("data") or {}
    binary = config_map.get("binaryData") or {}
    key = reference.get("key", "")
    if key in data:
        return str(data[key])
    if key in binary:
        return base64.b64decode(binary[key]).decode(errors="replace")
    if optional:
        return None
    raise errors.ContainerConfigError(f"couldn't find key {key} in ConfigMap {namespace}/{name}; add the key")


def _secret_value(resolver: resolving.Resolver, namespace: str, reference: dict) -> str | None:
    name = reference.get("name", "")
    secret = resolver.get_secret(namespace, name)
    optional = bool(reference.get("optional"))
    if secret is None:
        if optional:
            return None
        raise errors.ContainerConfigError(f'secret "{name}" not found; create it in namespace {namespace}')
    key = reference.get("key", "")
    if key in (secret.get("data") or {}):
        return base64.b64decode(secret["data"][key]).decode(errors="replace")
    if key in (secret.get("stringData") or {}):
        return str(secret["stringData"][key])
    if optional:
        return None
    raise errors.ContainerConfigError(f"couldn't find key {key} in Secret {namespace}/{name}; add the key")


def _source_items(resolver: resolving.Resolver, namespace: str, source: dict) -> dict[str, str]:
    if "configMapRef" in source:
        reference = source["configMapRef"]
        config_map = resolver.get_config_map(namespace, reference.get("name", ""))
        if config_map is None:
            if reference.get("optional"):
                return {}
            raise errors.ContainerConfigError(
                f'configmap "{reference.get("name")}" not found; create it in namespace {namespace}'
            )
        items = {k: str(v) for k, v in (config_map.get("data") or {}).items()}
        for key, value in (config_map.get("binaryData") or {}).items():
            items.setdefault(key, base64.b64decode(value).decode(errors="replace"))
        return items
    if "secretRef" in source:
        reference = source["secretRef"]
        secret = resolver.get_secret(namespace, reference.get("name", ""))
        if secret is None:
            if reference.get("optional"):
                return {}
            raise errors.ContainerConfigError(
                f'secret "{reference.get("name")}" not found; create it in namespace {namespace}'
            )
        return {
            k: base64.b64decode(v).decode(errors="replace") for k, v in (secret.get("data") or {}).items()
        }
    return {}


def container_env(
    *,
    pod: dict,
    container: dict,
    resolver: resolving.Resolver,
    link_services: list[dict],
    pod_ip: str,
    host_ip: str,
) -> dict[str, str]:
    """The container's env (without the image's defaults) in Kubernetes precedence order.

    Raises ContainerConfigError for a missing non-optional ConfigMap, Secret or key; invalid
    envFrom names are skipped as a real kubelet skips them.
    """
    namespace = pod["metadata"].get("namespace", "default")
    service_env = service_link_variables(link_services)
    defined: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for key, value in _source_items(resolver, namespace, source).items():
            if _ENV_NAME.match(prefix + key):
                defined[prefix + key] = value
    for variable in container.get("env") or []:
        name = variable["name"]
        if "valueFrom" not in variable:
            defined[name] = expand(str(variable.get("value", "")), {**service_env, **defined})
            continue
        value_from = variable["valueFrom"]
        value: str | None
        if "configMapKeyRef" in value_from:
            value = _config_map_value(resolver, namespace, value_from["configMapKeyRef"])
        elif "secretKeyRef" in value_from:
            value = _secret_value(resolver, namespace, value_from["secretKeyRef"])
        elif "fieldRef" in value_from:
            value = field_value(pod, value_from["fieldRef"]["fieldPath"], pod_ip=pod_ip, host_ip=host_ip)
        elif "resourceFieldRef" in value_from:
            value = resource_value(pod, container.get("name", ""), value_from["resourceFieldRef"])
        else:
            value = ""
        if value is not None:
            defined[name] = value
    for name, value in service_env.items():
        defined.setdefault(name, value)
    return defined


def expand_command(container: dict, env: dict[str, str]) -> tuple[list[str] | None, list[str] | None]:
    """The container's command and args with `$(VAR)` expanded against its env (None when unset)."""
    command = container.get("command")
    args = container.get("args")
    return (
        [expand(str(part), env) for part in command] if command is not None else None,
        [expand(str(part), env) for part in args] if args is not None else None,
    )
