"""A pod's volumes as plans: which files each holds (with modes) and where containers mount them.

Pure: resolves configMap, secret, downwardAPI and projected (serviceAccountToken, configMap,
secret, downwardAPI) volumes into files; emptyDir and hostPath into directories. `projecting`
writes them, `launcher` mounts them. Missing non-optional ConfigMaps, Secrets or keys raise
ContainerConfigError, as a kubelet reports them. Volume kinds the sandbox has no storage for
(persistentVolumeClaim, nfs, ...) become per-pod empty directories, which the plan says.
"""

from __future__ import annotations

import base64
import dataclasses
import posixpath

from kubelocal.sandbox.kubelet import environment, errors, resolving

DEFAULT_MODE = 0o644
TOKEN_EXPIRATION_SECONDS = 3600


@dataclasses.dataclass(frozen=True)
class File:
    path: str  # relative to the volume's root, no "..", no leading "/"
    content: bytes
    mode: int


@dataclasses.dataclass(frozen=True)
class Plan:
    """kind: "files" (always read-only), "emptyDir", "hostPath", or "substitute" (an empty dir
    standing in for storage the sandbox does not have; `note` says which)."""

    name: str
    kind: str
    files: tuple[File, ...] = ()
    host_path: str = ""
    note: str = ""

    @property
    def read_only(self) -> bool:
        return self.kind == "files"


@dataclasses.dataclass(frozen=True)
class Mount:
    """A container's view of one volume: mount `volume` (or its `sub_path`) at `mount_path`."""

    volume: str
    mount_path: str
    sub_path: str
    read_only: bool


def _safe_path(path: str, volume: str) -> str:
    normal = posixpath.normpath(path)
    if normal.startswith(("/", "..")) or normal == ".":
        raise errors.ContainerConfigError(
            f"volume {volume!r}: item path {path!r} must be relative and inside it"
        )
    return normal


def _key_files(
    *,
    volume: str,
    data: dict[str, bytes],
    items: list[dict] | None,
    default_mode: int,
    optional: bool,
    what: str,
) -> list[File]:
    if items is None:
        return [
            File(path=_safe_path(key, volume), content=value, mode=default_mode)
            for key, value in sorted(data.items())
        ]
    files = []
    for item in items:
        key = item["key"]
        if key not in data:
            if optional:
                continue
            raise errors.ContainerConfigError(
                f"couldn't find key {key} in {what}; add it or mark the volume optional"
            )
        files.append(
            File(
                path=_safe_path(item.get("path") or key, volume),
                content=data[key],
                mode=item.get("mode", default_mode),
            )
        )
    return files


def _config_map_files(
    *, resolver: resolving.Resolver, namespace: str, source: dict, volume: str, default_mode: int
) -> list[File]:
    name = source.get("name", "")
    config_map = resolver.get_config_map(namespace, name)
    if config_map is None:
        if source.get("optional"):
            return []
        raise errors.ContainerConfigError(f'configmap "{name}" not found; create it in namespace {namespace}')
    data = {k: str(v).encode() for k, v in (config_map.get("data") or {}).items()}
    data.update({k: base64.b64decode(v) for k, v in (config_map.get("binaryData") or {}).items()})
    return _key_files(
        volume=volume,
        data=data,
        items=source.get("items"),
        default_mode=default_mode,
        optional=bool(source.get("optional")),
        what=f"ConfigMap {namespace}/{name}",
    )


def _secret_files(
    *, resolver: resolving.Resolver, namespace: str, name: str, source: dict, volume: str, default_mode: int
) -> list[File]:
    secret = resolver.get_secret(namespace, name)
    if secret is None:
        if source.get("optional"):
            return []
        raise errors.ContainerConfigError(f'secret "{name}" not found; create it in namespace {namespace}')
    data = {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}
    return _key_files(
        volume=volume,
        data=data,
        items=source.get("items"),
        default_mode=default_mode,
        optional=bool(source.get("optional")),
        what=f"Secret {namespace}/{name}",
    )


def _downward_files(
    *, pod: dict, source: dict, volume: str, default_mode: int, pod_ip: str, host_ip: str
) -> list[File]:
    files = []
    for item in source.get("items") or []:
        if "fieldRef" in item:
            value = environment.field_value(
                pod, item["fieldRef"]["fieldPath"], pod_ip=pod_ip, host_ip=host_ip
            )
        elif "resourceFieldRef" in item:
            reference = item["resourceFieldRef"]
            value = environment.resource_value(pod, reference.get("containerName", ""), reference)
        else:
            continue
        files.append(
            File(
                path=_safe_path(item["path"], volume),
                content=value.encode(),
                mode=item.get("mode", default_mode),
            )
        )
    return files


def plan(volume: dict, *, pod: dict, resolver: resolving.Resolver, pod_ip: str, host_ip: str) -> Plan:
    """The plan of one entry of `spec.volumes`."""
    name = volume["name"]
    namespace = pod["metadata"].get("namespace", "default")
    if "configMap" in volume:
        source = volume["configMap"]
        mode = source.get("defaultMode", DEFAULT_MODE)
        files = _config_map_files(
            resolver=resolver, namespace=namespace, source=source, volume=name, default_mode=mode
        )
        return Plan(name=name, kind="files", files=tuple(files))
    if "secret" in volume:
        source = volume["secret"]
        mode = source.get("defaultMode", DEFAULT_MODE)
        files = _secret_files(
            resolver=resolver,
            namespace=namespace,
            name=source.get("secretName", ""),
            source=source,
            volume=name,
            default_mode=mode,
        )
        return Plan(name=name, kind="files", files=tuple(files))
    if "downwardAPI" in volume:
        source = volume["downwardAPI"]
        files = _downward_files(
            pod=pod,
            source=source,
            volume=name,
            default_mode=source.get("defaultMode", DEFAULT_MODE),
            pod_ip=pod_ip,
            host_ip=host_ip,
        )
        return Plan(name=name, kind="files", files=tuple(files))
    if "projected" in volume:
        return Plan(
            name=name,
            kind="files",
            files=tuple(_projected_files(volume, pod=pod, resolver=resolver, pod_ip=pod_ip, host_ip=host_ip)),
        )
    if "emptyDir" in volume:
        return Plan(name=name, kind="emptyDir")
    if "hostPath" in volume:
        return Plan(name=name, kind="hostPath", host_path=volume["hostPath"].get("path", ""))
    kinds = sorted(set(volume) - {"name"})
    return Plan(
        name=name,
        kind="substitute",
        note=f"volume {name!r} ({', '.join(kinds) or 'no source'}) is an empty per-pod directory "
        "in the sandbox",
    )


def _projected_files(
    volume: dict, *, pod: dict, resolver: resolving.Resolver, pod_ip: str, host_ip: str
) -> list[File]:
    name = volume["name"]
    namespace = pod["metadata"].get("namespace", "default")
    projected = volume["projected"]
    mode = projected.get("defaultMode", DEFAULT_MODE)
    files: list[File] = []
    for source in projected.get("sources") or []:
        if "serviceAccountToken" in source:
            token_source = source["serviceAccountToken"]
            token = resolver.service_account_token(
                namespace,
                (pod.get("spec") or {}).get("serviceAccountName") or "default",
                audience=token_source.get("audience"),
                expiration_seconds=int(token_source.get("expirationSeconds") or TOKEN_EXPIRATION_SECONDS),
            )
            files.append(
                File(
                    path=_safe_path(token_source.get("path") or "token", name),
                    content=token.encode(),
                    mode=mode,
                )
            )
        elif "configMap" in source:
            files += _config_map_files(
                resolver=resolver,
                namespace=namespace,
                source=source["configMap"],
                volume=name,
                default_mode=mode,
            )
        elif "secret" in source:
            secret_source = source["secret"]
            files += _secret_files(
                resolver=resolver,
                namespace=namespace,
                name=secret_source.get("name", ""),
                source=secret_source,
                volume=name,
                default_mode=mode,
            )
        elif "downwardAPI" in source:
            files += _downward_files(
                pod=pod,
                source=source["downwardAPI"],
                volume=name,
                default_mode=mode,
                pod_ip=pod_ip,
                host_ip=host_ip,
            )
    return files


def container_mounts(container: dict, plans: dict[str, Plan]) -> list[Mount]:
    """The container's mounts, parents before children; ContainerConfigError for an unknown volume."""
    mounts = []
    for volume_mount in container.get("volumeMounts") or []:
        volume = volume_mount["name"]
        if volume not in plans:
            raise errors.ContainerConfigError(
                f"container {container.get('name')!r} mounts volume {volume!r}, "
                "which the pod does not declare"
            )
        sub_path = volume_mount.get("subPath") or ""
        if sub_path:
            sub_path = _safe_path(sub_path, volume)
        mounts.append(
            Mount(
                volume=volume,
                mount_path=posixpath.normpath(volume_mount["mountPath"]),
                sub_path=sub_path,
                read_only=bool(volume_mount.get("readOnly")) or plans[volume].read_only,
            )
        )
    return sorted(mounts, key=lambda m: m.mount_path.count("/"))
