"""The sandbox's object store: every object of the cluster, with the Kubernetes API server's semantics.

One revision counter (like etcd's) numbers every change; an object's `metadata.resourceVersion` is
the revision of its last change and a list's resourceVersion is the current revision. A bounded
history of changes lets watches resume from a resourceVersion; older ones get errors.Gone (410).

Everything runs on one asyncio loop: the methods are synchronous and never await, so each call is
atomic with respect to the others; `watch` hands out async iterators fed by the changes.

Deletion follows the real server: objects with finalizers stay (with `deletionTimestamp`) until an
update empties them; `propagationPolicy=Foreground` adds the `foregroundDeletion` finalizer (the
store drops it itself once no dependent is left, the garbage collector deletes the dependents);
`Orphan` removes the owner's ownerReferences from dependents; `Background` deletes the owner now and
leaves the dependents to the garbage collector (controllers). Pods on a node are deleted gracefully:
they get `deletionTimestamp` + `deletionGracePeriodSeconds` and disappear when the kubelet deletes
them again with grace period 0. Deleting a namespace marks it Terminating, deletes its contents and
removes it once empty.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import ipaddress
import secrets
import uuid
from typing import Any, NamedTuple

from kubelocal.sandbox import errors, kinds, patches, selectors, store_defaults, validation

NODE_NAME = "sandbox-node"
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/16")
KUBERNETES_SERVICE_IP = "10.96.0.1"
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_ROOT_CA_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such "
    "as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions "
    "of Kubernetes clusters."
)
_STATUS_KEEPING_KINDS = frozenset(k for k in kinds.ALL if "status" in k.subresources)


class WatchEvent(NamedTuple):
    type: str  # "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK"
    object: dict


class _Change(NamedTuple):
    revision: int
    type: str
    kind: kinds.Kind
    object: dict
    previous: dict | None


def now_timestamp() -> str:
    """The current time as the API server writes timestamps (RFC 3339, seconds, UTC)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def copy_object(value: Any) -> Any:
    """A deep copy of a JSON-like value, several times faster than copy.deepcopy."""
    if isinstance(value, dict):
        return {key: copy_object(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_object(item) for item in value]
    return value


def _key(kind: kinds.Kind, namespace: str | None, name: str) -> tuple[str, str]:
    return ((namespace or "") if kind.namespaced else "", name)


class _Filter(NamedTuple):
    kind: kinds.Kind
    namespace: str | None
    labels: tuple[selectors.Requirement, ...]
    fields: tuple[selectors.FieldRequirement, ...]

    def matches(self, obj: dict) -> bool:
        metadata = obj.get("metadata", {})
        if self.namespace and metadata.get("namespace") != self.namespace:
            return False
        return selectors.matches_labels(self.labels, metadata.get("labels")) and selectors.matches_fields(
            self.fields, obj
        )

    def translate(self, change: _Change) -> WatchEvent | None:
        """The event a watcher with this filter sees for a change, as the real server's watch cache.

        An object that starts matching a selector is ADDED for the watcher; one that stops matching is
        DELETED (with its new state).
        """
        if change.kind != self.kind:
            return None
        now = self.matches(change.object)
        if change.type == "MODIFIED" and change.previous is not None:
            before = self.matches(change.previous)
            if now and not before:
                return WatchEvent("ADDED", copy_object(change.object))
            if before and not now:
                return WatchEvent("DELETED", copy_object(change.object))
        return WatchEvent(change.type, copy_object(change.object)) if now else None


class WatchStream:
    """An async iterator of WatchEvents; registered with the store as soon as it is made.

    `aclose()` (or leaving an `async for` early and dropping it) unregisters it.
    """

    def __init__(self, store: Store, event_filter: _Filter, initial: list[WatchEvent]) -> None:
        self._store = store
        self._filter = event_filter
        self._queue: asyncio.Queue[WatchEvent] = asyncio.Queue()
        for event in initial:
            self._queue.put_nowait(event)
        self.closed = False

    def _offer(self, change: _Change) -> None:
        event = self._filter.translate(change)
        if event is not None:
            self._queue.put_nowait(event)

    def __aiter__(self) -> WatchStream:
        return self

    async def __anext__(self) -> WatchEvent:
        if self.closed:
            raise StopAsyncIteration
        return await self._queue.get()

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        self.closed = True
        self._store._watchers.discard(self)

    def __del__(self) -> None:
        self._store._watchers.discard(self)


class Store:
    """All objects of the sandbox, with the API server's semantics.

    create/update/patch decode (unknown fields dropped, wrong types rejected), default (as the real
    API server defaults, e.g. pod restartPolicy, service ClusterIP allocation), validate (the real
    schemas from kubernetes-validate plus the server's semantic checks) and store, exactly as the REST
    layer would; the REST layer is a thin HTTP front over this class, and controllers and the kubelet
    use it directly. Returned dicts are deep copies: callers may mutate them.

    The initial state is what a fresh cluster has: namespaces default, kube-system, kube-public and
    kube-node-lease, each with its `default` ServiceAccount, the node `sandbox-node` and the
    `kubernetes` Service (10.96.0.1) in `default`.
    """

    def __init__(
        self, *, history_size: int = 10_000, graceful_pod_deletion: bool = True, root_ca: str = ""
    ) -> None:
        """history_size: changes kept for watches to resume from (older ones get 410 Gone).

        graceful_pod_deletion: pods with a grace period stay Terminating until deleted again with grace
        period 0 (the kubelet's job). Without a kubelet (tests of the API alone), set it False.
        root_ca: the API server's CA (PEM), published in every namespace as the `kube-root-ca.crt`
        ConfigMap, as the real root-ca-cert-publisher does ("" publishes nothing).
        """
        self._root_ca = root_ca
        self._objects: dict[kinds.Kind, dict[tuple[str, str], dict]] = {kind: {} for kind in kinds.ALL}
        self._revision = 0
        self._history: collections.deque[_Change] = collections.deque()
        self._history_size = history_size
        self._compacted_revision = 0
        self._watchers: set[WatchStream] = set()
        self._allocated_ips: set[str] = set()
        self._next_ip = int(SERVICE_CIDR.network_address) + 2
        self._allocated_node_ports: set[int] = set()
        self.graceful_pod_deletion = graceful_pod_deletion
        self._bootstrap()

    # ----------------------------------------------------------------- reading

    @property
    def resource_version(self) -> str:
        """The current revision (what a list returns as its resourceVersion)."""
        return str(self._revision)

    def get(self, kind: kinds.Kind, namespace: str | None, name: str) -> dict:
        """The object; errors.NotFound (`pods "x" not found`) when absent."""
        obj = self._objects[kind].get(_key(kind, namespace, name))
        if obj is None:
            raise errors.not_found(plural=kind.plural, group=kind.group, name=name)
        return copy_object(obj)

    def list(
        self,
        kind: kinds.Kind,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[list[dict], str]:
        """(items sorted by namespace and name, the list's resourceVersion). namespace None = all."""
        event_filter = self._filter(kind, namespace, label_selector, field_selector)
        items = [
            copy_object(obj)
            for key, obj in sorted(self._objects[kind].items())
            if (not namespace or not kind.namespaced or key[0] == namespace) and event_filter.matches(obj)
        ]
        return items, self.resource_version

    def dependents(self, owner_uid: str) -> list[tuple[kinds.Kind, dict]]:
        """Every object with an ownerReference to owner_uid (for the garbage collector)."""
        found = []
        for kind, objects in self._objects.items():
            for obj in objects.values():
                if any(ref.get("uid") == owner_uid for ref in obj["metadata"].get("ownerReferences") or ()):
                    found.append((kind, copy_object(obj)))
        return found

    # ----------------------------------------------------------------- writing

    def create(
        self,
        kind: kinds.Kind,
        obj: dict,
        *,
        namespace: str | None = None,
        dry_run: bool = False,
        field_validation: str = "Ignore",
    ) -> dict:
        """Create obj; sets uid, resourceVersion, creationTimestamp, generation; honours generateName.

        errors.AlreadyExists for a taken name, errors.NotFound when the namespace does not exist,
        errors.Forbidden when it is terminating, errors.Invalid / errors.BadRequest for a bad object.
        """
        obj = copy_object(obj)
        self._check_type(kind, obj)
        metadata = obj.setdefault("metadata", {})
        if metadata is None or not isinstance(metadata, dict):
            metadata = obj["metadata"] = {}
        if kind.namespaced:
            namespace = namespace or metadata.get("namespace") or "default"
            metadata["namespace"] = namespace
            self._check_namespace_open(namespace, creating=kind)
        else:
            metadata.pop("namespace", None)
            namespace = None
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = self._generate_name(kind, namespace, metadata["generateName"])
        validation.decode(kind, obj, field_validation=field_validation)
        for field in (
            "uid",
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "creationTimestamp",
        ):
            metadata.pop(field, None)
        metadata["creationTimestamp"] = now_timestamp()
        metadata["uid"] = str(uuid.uuid4())
        self._reset_status(kind, obj)
        store_defaults.default(kind, obj)
        if kind == kinds.PODS:
            self._admit_pod(obj)
        validation.validate(kind, obj)
        name = metadata["name"]
        if _key(kind, namespace, name) in self._objects[kind]:
            raise errors.already_exists(plural=kind.plural, group=kind.group, name=name)
        if kind == kinds.SERVICES:
            self._allocate_service_addresses(obj, dry_run=dry_run)
        if kind.generation:
            metadata["generation"] = 1
        if dry_run:
            return obj
        self._write(kind, obj, "ADDED", None)
        if kind == kinds.NAMESPACES:
            self._create_default_service_account(name)
            self._publish_root_ca(name)
        return copy_object(obj)

    def update(
        self,
        kind: kinds.Kind,
        obj: dict,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        field_validation: str = "Ignore",
    ) -> dict:
        """Replace the object named in obj.metadata (PUT).

        errors.Conflict when obj's resourceVersion is set and stale; with subresource "status" only
        .status changes, otherwise .status is kept (for kinds with a status subresource);
        metadata.generation bumps when the spec changes. An update that empties the finalizers of an
        object being deleted removes it.
        """
        obj = copy_object(obj)
        self._check_type(kind, obj)
        metadata = obj.get("metadata") or {}
        obj["metadata"] = metadata
        namespace = (metadata.get("namespace") or "default") if kind.namespaced else None
        name = metadata.get("name") or ""
        current = self._objects[kind].get(_key(kind, namespace, name))
        if current is None:
            raise errors.not_found(plural=kind.plural, group=kind.group, name=name)
        wanted_version = metadata.get("resourceVersion")
        if wanted_version and wanted_version != current["metadata"]["resourceVersion"]:
            raise errors.conflict(plural=kind.plural, group=kind.group, name=name)
        if subresource == "status":
            new = copy_object(current)
            if "status" in obj:
                new["status"] = obj["status"]
            validation.decode(kind, new)
        elif subresource is None:
            validation.decode(kind, obj, field_validation=field_validation)
            new = obj
            if kind in _STATUS_KEEPING_KINDS:
                if "status" in current:
                    new["status"] = copy_object(current["status"])
                else:
                    new.pop("status", None)
            self._keep_system_metadata(current, new)
        else:
            raise errors.NotFound(f"the server could not find the requested resource ({subresource})")
        new["metadata"]["namespace"] = current["metadata"].get("namespace")
        if not kind.namespaced:
            new["metadata"].pop("namespace", None)
        store_defaults.default(kind, new)
        if kind == kinds.SERVICES:
            self._keep_service_addresses(current, new)
        validation.validate(kind, new)
        validation.validate_update(kind, new, current)
        new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        if kind.generation and "generation" in current["metadata"]:
            changed_spec = new.get("spec") != current.get("spec")
            new["metadata"]["generation"] = current["metadata"]["generation"] + (1 if changed_spec else 0)
        if new == current:
            return copy_object(current)  # the real server does not write no-op updates
        if dry_run:
            return new
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            self._remove(kind, new)
            return copy_object(new)
        self._write(kind, new, "MODIFIED", current)
        self._release_foreground_owners(new)
        return copy_object(new)

    def patch(
        self,
        kind: kinds.Kind,
        namespace: str | None,
        name: str,
        patch: object,
        *,
        patch_type: str,
        subresource: str | None = None,
        field_manager: str | None = None,
        force: bool = False,
        dry_run: bool = False,
        field_validation: str = "Ignore",
    ) -> dict:
        """Apply a patch to the object (PATCH) and update it.

        patch_type: "application/json-patch+json" | "application/merge-patch+json" |
        "application/strategic-merge-patch+json" | "application/apply-patch+yaml" (server-side apply:
        creates the object when absent). errors.UnsupportedMediaType for any other type. A stale
        metadata.resourceVersion inside the patch gives errors.Conflict, as on the real server.
        """
        current = self._objects[kind].get(_key(kind, namespace, name))
        if patch_type == patches.APPLY:
            if not isinstance(patch, dict):
                raise errors.BadRequest("the applied configuration must be an object")
            self._check_apply_identity(kind, namespace, name, patch)
            if current is None:
                if subresource is not None:
                    raise errors.not_found(plural=kind.plural, group=kind.group, name=name)
                applied = patches.apply_configuration(
                    None, patch, kind=kind, field_manager=field_manager or "", now=now_timestamp()
                )
                return self.create(
                    kind, applied, namespace=namespace, dry_run=dry_run, field_validation=field_validation
                )
            patched = patches.apply_configuration(
                copy_object(current), patch, kind=kind, field_manager=field_manager or "", now=now_timestamp()
            )
        else:
            if current is None:
                raise errors.not_found(plural=kind.plural, group=kind.group, name=name)
            patched = patches.apply_patch(copy_object(current), patch, patch_type=patch_type, kind=kind)
        if not isinstance(patched, dict):
            raise errors.BadRequest("the patch did not produce an object")
        patched.setdefault("metadata", {})
        if not isinstance(patched["metadata"], dict):
            raise errors.BadRequest("metadata must be an object")
        if patched["metadata"].get("name") != name or (
            kind.namespaced and patched["metadata"].get("namespace") != namespace
        ):
            raise errors.BadRequest("the name or namespace of the object cannot be changed by a patch")
        if not patched["metadata"].get("resourceVersion"):
            patched["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        return self.update(
            kind, patched, subresource=subresource, dry_run=dry_run, field_validation=field_validation
        )

    def delete(
        self,
        kind: kinds.Kind,
        namespace: str | None,
        name: str,
        *,
        propagation: str = "Background",
        grace_period_seconds: int | None = None,
        preconditions: dict | None = None,
        dry_run: bool = False,
    ) -> dict:
        """Delete the object; returns it (with deletionTimestamp when it stays for now).

        Finalizers keep it with deletionTimestamp until they are empty; Foreground propagation adds
        the foregroundDeletion finalizer (only while dependents exist); Orphan strips the owner's
        ownerReferences from dependents. Pods with a grace period get deletionTimestamp +
        deletionGracePeriodSeconds and are removed when deleted again with grace_period_seconds=0.
        errors.Conflict when preconditions (uid, resourceVersion) do not hold.
        """
        if propagation not in ("Background", "Foreground", "Orphan"):
            raise errors.BadRequest(
                f'propagationPolicy: Unsupported value: "{propagation}": supported values: '
                '"Foreground", "Background", "Orphan"'
            )
        current = self._objects[kind].get(_key(kind, namespace, name))
        if current is None:
            raise errors.not_found(plural=kind.plural, group=kind.group, name=name)
        self._check_preconditions(kind, current, preconditions or {})
        if dry_run:
            return copy_object(current)
        metadata = current["metadata"]
        if kind == kinds.NAMESPACES:
            return self._delete_namespace(current)
        if propagation == "Orphan":
            self._orphan_dependents(metadata["uid"])
        finalizers = list(metadata.get("finalizers") or [])
        if (
            propagation == "Foreground"
            and "foregroundDeletion" not in finalizers
            and self._has_dependents(metadata["uid"])
        ):
            finalizers.append("foregroundDeletion")
        if kind == kinds.PODS and not finalizers:
            grace = self._pod_grace_period(current, grace_period_seconds)
            if grace > 0:
                if (
                    metadata.get("deletionTimestamp")
                    and metadata.get("deletionGracePeriodSeconds", 0) <= grace
                ):
                    return copy_object(current)
                new = copy_object(current)
                deadline = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=grace)
                new["metadata"]["deletionTimestamp"] = deadline.strftime("%Y-%m-%dT%H:%M:%SZ")
                new["metadata"]["deletionGracePeriodSeconds"] = grace
                new["metadata"]["generation"] = metadata.get("generation", 1) + 1
                self._write(kind, new, "MODIFIED", current)
                return copy_object(new)
        if finalizers:
            new = copy_object(current)
            new["metadata"]["finalizers"] = finalizers
            if not metadata.get("deletionTimestamp"):
                new["metadata"]["deletionTimestamp"] = now_timestamp()
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                if kind.generation:
                    new["metadata"]["generation"] = metadata.get("generation", 1) + 1
            if new == current:
                return copy_object(current)
            self._write(kind, new, "MODIFIED", current)
            return copy_object(new)
        removed = copy_object(current)
        self._remove(kind, removed)
        return removed

    def watch(
        self,
        kind: kinds.Kind,
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> WatchStream:
        """An async iterator of the changes after resource_version.

        None, "" or "0": a synthetic ADDED for every current object, then live events. A revision older
        than the retained history raises errors.Gone (410, reason Expired) right away. The stream is
        registered when this returns, so no change is missed between the call and the first await.
        """
        event_filter = self._filter(kind, namespace, label_selector, field_selector)
        initial: list[WatchEvent] = []
        if not resource_version or resource_version == "0":
            items, _ = self.list(
                kind, namespace, label_selector=label_selector, field_selector=field_selector
            )
            initial = [WatchEvent("ADDED", item) for item in items]
        else:
            try:
                since = int(resource_version)
            except ValueError:
                raise errors.BadRequest(f'invalid resource version "{resource_version}"') from None
            if since < self._compacted_revision:
                raise errors.Gone(f"too old resource version: {since} ({self._compacted_revision + 1})")
            for change in self._history:
                if change.revision > since:
                    event = event_filter.translate(change)
                    if event is not None:
                        initial.append(event)
        stream = WatchStream(self, event_filter, initial)
        self._watchers.add(stream)
        return stream

    # ----------------------------------------------------------------- internals

    def _filter(
        self, kind: kinds.Kind, namespace: str | None, label_selector: str | None, field_selector: str | None
    ) -> _Filter:
        return _Filter(
            kind,
            namespace if kind.namespaced else None,
            selectors.parse_labels(label_selector),
            selectors.parse_fields(field_selector, kind=kind.kind),
        )

    def _check_type(self, kind: kinds.Kind, obj: object) -> None:
        if not isinstance(obj, dict):
            raise errors.BadRequest(f"the body of a {kind.kind} must be a JSON object")
        api_version = obj.setdefault("apiVersion", kind.api_version)
        obj_kind = obj.setdefault("kind", kind.kind)
        if api_version != kind.api_version or obj_kind != kind.kind:
            raise errors.BadRequest(
                f"the API version in the data ({api_version}) does not match the expected API version "
                f"({kind.api_version})"
                if api_version != kind.api_version
                else f'the kind in the data ("{obj_kind}") does not match the expected kind ("{kind.kind}")'
            )

    def _check_namespace_open(self, namespace: str, *, creating: kinds.Kind) -> None:
        existing = self._objects[kinds.NAMESPACES].get(("", namespace))
        if existing is None:
            raise errors.not_found(plural="namespaces", group="", name=namespace)
        if existing["metadata"].get("deletionTimestamp"):
            raise errors.Forbidden(
                f"{creating.resource} is forbidden: unable to create new content in namespace {namespace} "
                "because it is being terminated",
                kind=creating.plural,
                group=creating.group or None,
            )

    def _generate_name(self, kind: kinds.Kind, namespace: str | None, prefix: str) -> str:
        prefix = prefix[:58]
        for _ in range(100):
            name = prefix + "".join(secrets.choice(_GENERATE_ALPHABET) for _ in range(5))
            if _key(kind, namespace, name) not in self._objects[kind]:
                return name
        raise errors.AlreadyExists(f"could not generate a free name from generateName {prefix!r}; retry")

    def _reset_status(self, kind: kinds.Kind, obj: dict) -> None:
        """On create, the real server ignores a client's status for kinds with a status subresource."""
        if kind not in _STATUS_KEEPING_KINDS:
            return
        if kind == kinds.PODS:
            obj["status"] = {"phase": "Pending"}
        elif kind == kinds.NAMESPACES:
            obj["status"] = {"phase": "Active"}
        elif kind == kinds.SERVICES:
            obj["status"] = {"loadBalancer": {}}
        elif kind == kinds.NODES:
            obj.setdefault("status", {})
        elif kind == kinds.INGRESSES:
            obj["status"] = {"loadBalancer": {}}
        else:
            obj["status"] = {}

    def _keep_system_metadata(self, current: dict, new: dict) -> None:
        """Fields a client cannot change with a PUT: the server keeps its own values."""
        for field in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ):
            if field in current["metadata"]:
                new["metadata"][field] = current["metadata"][field]
            else:
                new["metadata"].pop(field, None)
        if "managedFields" not in new["metadata"] and "managedFields" in current["metadata"]:
            new["metadata"]["managedFields"] = current["metadata"]["managedFields"]

    def _check_preconditions(self, kind: kinds.Kind, current: dict, preconditions: dict) -> None:
        metadata = current["metadata"]
        uid = preconditions.get("uid")
        if uid and uid != metadata["uid"]:
            raise errors.conflict(
                plural=kind.plural,
                group=kind.group,
                name=metadata["name"],
                why=f"Precondition failed: UID in precondition: {uid}, UID in object meta: {metadata['uid']}",
            )
        version = preconditions.get("resourceVersion")
        if version and version != metadata["resourceVersion"]:
            raise errors.conflict(
                plural=kind.plural,
                group=kind.group,
                name=metadata["name"],
                why=f"Precondition failed: ResourceVersion in precondition: {version}, "
                f"ResourceVersion in object meta: {metadata['resourceVersion']}",
            )

    def _check_apply_identity(self, kind: kinds.Kind, namespace: str | None, name: str, patch: dict) -> None:
        metadata = patch.get("metadata") or {}
        if metadata.get("name") and metadata["name"] != name:
            raise errors.BadRequest(
                f"the name of the object ({metadata['name']}) does not match the name on the URL ({name})"
            )
        patch.setdefault("metadata", {})["name"] = name
        if kind.namespaced:
            patch["metadata"]["namespace"] = namespace

    def _pod_grace_period(self, pod: dict, requested: int | None) -> int:
        if not self.graceful_pod_deletion:
            return 0
        if pod.get("status", {}).get("phase") in ("Succeeded", "Failed") or not pod["spec"].get("nodeName"):
            return 0  # as the real server: nothing runs, nothing to wait for
        if requested is not None:
            return max(requested, 0)
        return int(pod["spec"].get("terminationGracePeriodSeconds", 30) or 0)

    def _has_dependents(self, owner_uid: str) -> bool:
        return any(
            any(ref.get("uid") == owner_uid for ref in obj["metadata"].get("ownerReferences") or ())
            for objects in self._objects.values()
            for obj in objects.values()
        )

    def _orphan_dependents(self, owner_uid: str) -> None:
        for kind, dependent in self.dependents(owner_uid):
            refs = [ref for ref in dependent["metadata"]["ownerReferences"] if ref.get("uid") != owner_uid]
            previous = self._objects[kind][
                _key(kind, dependent["metadata"].get("namespace"), dependent["metadata"]["name"])
            ]
            if refs:
                dependent["metadata"]["ownerReferences"] = refs
            else:
                dependent["metadata"].pop("ownerReferences")
            self._write(kind, dependent, "MODIFIED", previous)

    def _release_foreground_owners(self, dependent: dict) -> None:
        """Drop foregroundDeletion from owners that no longer have dependents (the GC's last step)."""
        for ref in dependent["metadata"].get("ownerReferences") or ():
            for kind, objects in self._objects.items():
                for owner in list(objects.values()):
                    if owner["metadata"]["uid"] != ref.get("uid"):
                        continue
                    if "foregroundDeletion" not in (owner["metadata"].get("finalizers") or ()):
                        continue
                    if self._has_dependents(owner["metadata"]["uid"]):
                        continue
                    new = copy_object(owner)
                    new["metadata"]["finalizers"] = [
                        f for f in new["metadata"]["finalizers"] if f != "foregroundDeletion"
                    ]
                    if not new["metadata"]["finalizers"]:
                        del new["metadata"]["finalizers"]
                        self._remove(kind, new)
                    else:
                        self._write(kind, new, "MODIFIED", owner)

    def _delete_namespace(self, namespace: dict) -> dict:
        name = namespace["metadata"]["name"]
        if not namespace["metadata"].get("deletionTimestamp"):
            new = copy_object(namespace)
            new["metadata"]["deletionTimestamp"] = now_timestamp()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            new.setdefault("spec", {})["finalizers"] = ["kubernetes"]
            new["status"] = {"phase": "Terminating"}
            self._write(kinds.NAMESPACES, new, "MODIFIED", namespace)
            for kind in kinds.ALL:
                if not kind.namespaced:
                    continue
                for key in [key for key in self._objects[kind] if key[0] == name]:
                    if key in self._objects[kind]:
                        self.delete(kind, name, key[1], propagation="Background")
        return self._finish_namespace(name) or self.get(kinds.NAMESPACES, None, name)

    def _finish_namespace(self, name: str) -> dict | None:
        """Remove a terminating namespace once nothing is left in it; the removed object, or None."""
        namespace = self._objects[kinds.NAMESPACES].get(("", name))
        if namespace is None or not namespace["metadata"].get("deletionTimestamp"):
            return None
        if any(key[0] == name for kind in kinds.ALL if kind.namespaced for key in self._objects[kind]):
            return None
        removed = copy_object(namespace)
        removed["spec"]["finalizers"] = []
        self._remove(kinds.NAMESPACES, removed)
        return removed

    def _remove(self, kind: kinds.Kind, obj: dict) -> None:
        metadata = obj["metadata"]
        key = _key(kind, metadata.get("namespace"), metadata["name"])
        previous = self._objects[kind].pop(key)
        if kind == kinds.SERVICES:
            self._release_service_addresses(previous)
        self._revision += 1
        metadata["resourceVersion"] = str(self._revision)
        self._record(_Change(self._revision, "DELETED", kind, copy_object(obj), previous))
        if kind.namespaced:
            self._finish_namespace(metadata["namespace"])
        self._release_foreground_owners(obj)

    def _write(self, kind: kinds.Kind, obj: dict, event_type: str, previous: dict | None) -> None:
        self._revision += 1
        obj["metadata"]["resourceVersion"] = str(self._revision)
        stored = copy_object(obj)
        self._objects[kind][_key(kind, obj["metadata"].get("namespace"), obj["metadata"]["name"])] = stored
        self._record(_Change(self._revision, event_type, kind, stored, previous))

    def _record(self, change: _Change) -> None:
        self._history.append(change)
        while len(self._history) > self._history_size:
            self._compacted_revision = self._history.popleft().revision
        for watcher in list(self._watchers):
            watcher._offer(change)

    # ------------------------------------------------------------ services

    def _allocate_service_addresses(self, service: dict, *, dry_run: bool) -> None:
        spec = service.setdefault("spec", {})
        if spec.get("type") == "ExternalName":
            return
        wanted = spec.get("clusterIP") or ""
        if wanted == "None":
            spec["clusterIPs"] = ["None"]
        elif wanted:
            try:
                address = ipaddress.ip_address(wanted)
            except ValueError:
                address = None
            if address is None or address not in SERVICE_CIDR:
                raise errors.invalid(
                    kind="Service",
                    group="",
                    name=service["metadata"]["name"],
                    causes=[
                        errors.Cause(
                            "FieldValueInvalid",
                            f'Invalid value: "{wanted}": failed to allocate IP {wanted}: the provided IP '
                            f"({wanted}) is not in the valid range. The range of valid IPs is {SERVICE_CIDR}",
                            "spec.clusterIPs",
                        )
                    ],
                )
            if wanted in self._allocated_ips:
                raise errors.invalid(
                    kind="Service",
                    group="",
                    name=service["metadata"]["name"],
                    causes=[
                        errors.Cause(
                            "FieldValueInvalid",
                            f'Invalid value: ["{wanted}"]: failed to allocate IP {wanted}: provided IP is '
                            "already allocated",
                            "spec.clusterIPs",
                        )
                    ],
                )
            spec["clusterIPs"] = [wanted]
        else:
            spec["clusterIP"] = self._free_ip()
            spec["clusterIPs"] = [spec["clusterIP"]]
        if spec["clusterIP"] != "None" and not dry_run:
            self._allocated_ips.add(spec["clusterIP"])
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            for port in spec.get("ports") or []:
                if not port.get("nodePort"):
                    port["nodePort"] = self._free_node_port()
                if not dry_run:
                    self._allocated_node_ports.add(port["nodePort"])

    def _free_ip(self) -> str:
        size = SERVICE_CIDR.num_addresses
        for _ in range(size):
            candidate = str(ipaddress.ip_address(self._next_ip))
            self._next_ip += 1
            if self._next_ip >= int(SERVICE_CIDR.broadcast_address):
                self._next_ip = int(SERVICE_CIDR.network_address) + 2
            if candidate not in self._allocated_ips:
                return candidate
        raise errors.ApiError("no ClusterIP left in 10.96.0.0/16; delete some services")

    def _free_node_port(self) -> int:
        for port in range(30000, 32768):
            if port not in self._allocated_node_ports:
                return port
        raise errors.ApiError("no NodePort left in 30000-32767; delete some services")

    def _keep_service_addresses(self, current: dict, new: dict) -> None:
        """ClusterIP is immutable; an update that leaves it out keeps the allocated one (as on a cluster)."""
        spec = new.setdefault("spec", {})
        old = current.get("spec", {})
        if not spec.get("clusterIP") and old.get("clusterIP"):
            spec["clusterIP"] = old["clusterIP"]
        if not spec.get("clusterIPs") and old.get("clusterIPs"):
            spec["clusterIPs"] = old["clusterIPs"]
        old_node_ports = {
            (p.get("port"), p.get("protocol")): p.get("nodePort") for p in old.get("ports") or []
        }
        for port in spec.get("ports") or []:
            if spec.get("type") in ("NodePort", "LoadBalancer") and not port.get("nodePort"):
                port["nodePort"] = old_node_ports.get((port.get("port"), port.get("protocol"))) or (
                    self._free_node_port()
                )

    def _release_service_addresses(self, service: dict) -> None:
        spec = service.get("spec", {})
        self._allocated_ips.discard(spec.get("clusterIP", ""))
        for port in spec.get("ports") or []:
            self._allocated_node_ports.discard(port.get("nodePort"))

    # ------------------------------------------------------------ bootstrap

    def _create_default_service_account(self, namespace: str) -> None:
        """The ServiceAccount controller's job on a real cluster: every namespace gets `default`."""
        if (namespace, "default") in self._objects[kinds.SERVICE_ACCOUNTS]:
            return
        self.create(kinds.SERVICE_ACCOUNTS, {"metadata": {"name": "default", "namespace": namespace}})

    def _publish_root_ca(self, namespace: str) -> None:
        if self._root_ca and (namespace, "kube-root-ca.crt") not in self._objects[kinds.CONFIG_MAPS]:
            self.create(
                kinds.CONFIG_MAPS,
                {
                    "metadata": {
                        "name": "kube-root-ca.crt",
                        "namespace": namespace,
                        "annotations": {"kubernetes.io/description": _ROOT_CA_DESCRIPTION},
                    },
                    "data": {"ca.crt": self._root_ca},
                },
            )

    def _admit_pod(self, pod: dict) -> None:
        """The ServiceAccount admission plugin: the account must exist; its token volume is added."""
        spec = pod.get("spec") or {}
        namespace = pod["metadata"]["namespace"]
        account = spec.get("serviceAccountName") or "default"
        found = self._objects[kinds.SERVICE_ACCOUNTS].get((namespace, account))
        if found is None:
            raise errors.Forbidden(
                f'pods "{pod["metadata"].get("name", "")}" is forbidden: error looking up service account '
                f'{namespace}/{account}: serviceaccount "{account}" not found',
                kind="pods",
                name=pod["metadata"].get("name"),
            )
        if (
            found.get("automountServiceAccountToken") is False
            and spec.get("automountServiceAccountToken") is None
        ):
            return
        suffix = "".join(secrets.choice(_GENERATE_ALPHABET) for _ in range(5))
        store_defaults.admit_service_account(pod, suffix=suffix)

    def _bootstrap(self) -> None:
        for name in INITIAL_NAMESPACES:
            self.create(
                kinds.NAMESPACES,
                {"metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}}},
            )
        self.create(
            kinds.NODES,
            {
                "metadata": {
                    "name": NODE_NAME,
                    "labels": {
                        "kubernetes.io/hostname": NODE_NAME,
                        "kubernetes.io/os": "linux",
                        "node-role.kubernetes.io/control-plane": "",
                    },
                },
                "status": store_defaults.node_status(),
            },
        )
        self.create(
            kinds.SERVICES,
            {
                "metadata": {
                    "name": "kubernetes",
                    "namespace": "default",
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {
                    "clusterIP": KUBERNETES_SERVICE_IP,
                    "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                },
            },
        )
