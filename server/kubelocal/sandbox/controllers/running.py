"""The controllers' thin shell: watch the store, queue what changed, decide, apply the actions.

One worker drains a de-duplicating queue of keys; each key's decision reads the current objects from
the store (level-triggered), so a missed or merged event costs nothing. Writes that race with other
writers (409 Conflict) and creates that hit a taken name are retried shortly after. A key that keeps
changing (a decision that never settles) is slowed down rather than left spinning.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Callable

from kubelocal.sandbox import errors, kinds
from kubelocal.sandbox import store as store_module
from kubelocal.sandbox.controllers import (
    actions,
    deployment,
    endpoints,
    events,
    garbage,
    job,
    objects,
    replicaset,
    rootca,
    statefulset,
)

log = logging.getLogger(__name__)

BY_PLURAL = {kind.plural: kind for kind in kinds.ALL}
MERGE_PATCH = "application/merge-patch+json"
RETRY_SECONDS = 0.05
# A key decided more often than this within THROTTLE_WINDOW is delayed by THROTTLE_DELAY.
THROTTLE_COUNT = 100
THROTTLE_WINDOW = 2.0
THROTTLE_DELAY = 0.5

Key = tuple[str, ...]


class Controllers:
    """Deployment, ReplicaSet, StatefulSet, Job, Endpoints/EndpointSlice and garbage collection."""

    def __init__(
        self, *, store: store_module.Store, clock: Callable = objects.now_utc, root_ca: str | None = None
    ) -> None:
        """root_ca: the API server's CA (PEM), published as `kube-root-ca.crt` in every namespace."""
        self._store = store
        self._root_ca = root_ca
        self._clock = clock
        self._queue: asyncio.Queue[Key] = asyncio.Queue()
        self._queued: set[Key] = set()
        self._tasks: list[asyncio.Task] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._recent: dict[Key, collections.deque[float]] = {}

    async def start(self) -> None:
        """Watch every kind and start deciding; returns at once."""
        loop = asyncio.get_running_loop()
        for kind in kinds.ALL:
            stream = self._store.watch(kind)
            self._tasks.append(loop.create_task(self._follow(kind, stream), name=f"watch {kind.plural}"))
        self._tasks.append(loop.create_task(self._work(), name="controllers"))

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def settled(self, timeout: float = 5.0) -> None:
        """Wait until the queue is empty (for tests and benchmarks)."""
        end = time.monotonic() + timeout
        while self._queued and time.monotonic() < end:
            await asyncio.sleep(0.01)

    # ------------------------------------------------------------------ events -> keys

    def enqueue(self, key: Key) -> None:
        if key not in self._queued:
            self._queued.add(key)
            self._queue.put_nowait(key)

    def enqueue_later(self, key: Key, delay: float) -> None:
        loop = asyncio.get_running_loop()
        timer: asyncio.TimerHandle

        def fire() -> None:
            self._timers.discard(timer)
            self.enqueue(key)

        timer = loop.call_later(delay, fire)
        self._timers.add(timer)

    async def _follow(self, kind: kinds.Kind, stream: store_module.WatchStream) -> None:
        try:
            async for event in stream:
                try:
                    self._route(kind, event)
                except Exception:  # one odd object must not stop the controllers
                    log.exception("routing %s %s", event.type, kind.plural)
        finally:
            stream.close()

    def _route(self, kind: kinds.Kind, event: store_module.WatchEvent) -> None:
        obj = event.object
        namespace = objects.namespace_of(obj) or ""
        name = objects.name_of(obj)
        if kind in (kinds.DEPLOYMENTS, kinds.REPLICA_SETS, kinds.STATEFUL_SETS, kinds.JOBS):
            self.enqueue((kind.plural, namespace, name))
        owner = objects.controller_ref(obj)
        if owner is not None:
            owner_plural = {
                "Deployment": "deployments",
                "ReplicaSet": "replicasets",
                "StatefulSet": "statefulsets",
                "Job": "jobs",
            }.get(owner.get("kind", ""))
            if owner_plural:
                self.enqueue((owner_plural, namespace, owner.get("name", "")))
        if self._root_ca is not None and (
            kind == kinds.NAMESPACES or (kind == kinds.CONFIG_MAPS and name == rootca.NAME)
        ):
            self.enqueue(("rootca", namespace or name))
        if kind == kinds.PODS:
            services, _ = self._store.list(kinds.SERVICES, namespace)
            for service in services:
                self.enqueue(("endpoints", namespace, objects.name_of(service)))
        elif kind == kinds.SERVICES or (kind == kinds.ENDPOINTS and event.type == "DELETED"):
            self.enqueue(("endpoints", namespace, name))
        elif kind == kinds.ENDPOINT_SLICES and event.type == "DELETED":
            service_name = objects.labels_of(obj).get(endpoints.SERVICE_NAME_LABEL)
            if service_name:
                self.enqueue(("endpoints", namespace, service_name))
        # Garbage collection.
        if event.type == "DELETED":
            self.enqueue(("gc-dependents", objects.uid_of(obj)))
        else:
            if objects.meta(obj).get("ownerReferences"):
                self.enqueue(("gc-dependent", kind.plural, namespace, name))
            finalizers = objects.meta(obj).get("finalizers") or []
            if objects.is_deleting(obj) and (
                garbage.FOREGROUND in finalizers or garbage.ORPHAN in finalizers
            ):
                self.enqueue(("gc-owner", kind.plural, namespace, name))

    # ------------------------------------------------------------------ keys -> decisions

    async def _work(self) -> None:
        while True:
            key = await self._queue.get()
            self._queued.discard(key)
            delay = self._throttle(key)
            if delay:
                self.enqueue_later(key, delay)
                continue
            try:
                requeue = self._sync(key)
            except (errors.Conflict, errors.AlreadyExists):
                requeue = RETRY_SECONDS
            except errors.ApiError as error:
                log.warning("controller %s: %s", "/".join(key), error)
                requeue = None
            except Exception:
                log.exception("controller %s failed", "/".join(key))
                requeue = 1.0
            if requeue is not None:
                self.enqueue_later(key, requeue)
            # Let watch tasks deliver what these writes caused before the next key.
            await asyncio.sleep(0)

    def _throttle(self, key: Key) -> float:
        now = time.monotonic()
        recent = self._recent.setdefault(key, collections.deque())
        recent.append(now)
        while recent and recent[0] < now - THROTTLE_WINDOW:
            recent.popleft()
        if len(recent) > THROTTLE_COUNT:
            log.warning("controller %s keeps changing; slowing it down", "/".join(key))
            recent.clear()
            return THROTTLE_DELAY
        if len(self._recent) > 10_000:
            self._recent.clear()
        return 0.0

    def _get(self, kind: kinds.Kind, namespace: str | None, name: str) -> dict | None:
        try:
            return self._store.get(kind, namespace, name)
        except errors.NotFound:
            return None

    def _owned(self, kind: kinds.Kind, namespace: str, owner: dict) -> list[dict]:
        items, _ = self._store.list(kind, namespace)
        return [item for item in items if objects.is_controlled_by(item, owner)]

    def _sync(self, key: Key) -> float | None:
        now = self._clock()
        controller = key[0]
        if controller in ("replicasets", "deployments", "statefulsets", "jobs"):
            _, namespace, name = key
            kind = BY_PLURAL[controller]
            obj = self._get(kind, namespace, name)
            if obj is None:
                return None
            if controller == "replicasets":
                decision = replicaset.reconcile(obj, self._owned(kinds.PODS, namespace, obj), now=now)
            elif controller == "deployments":
                replica_sets = self._owned(kinds.REPLICA_SETS, namespace, obj)
                pods, _ = self._store.list(kinds.PODS, namespace)
                decision = deployment.reconcile(obj, replica_sets, pods, now=now)
            elif controller == "statefulsets":
                decision = statefulset.reconcile(obj, self._owned(kinds.PODS, namespace, obj), now=now)
            else:
                decision = job.reconcile(obj, self._owned(kinds.PODS, namespace, obj), now=now)
            self.apply(decision.actions, owner=(kind.kind, obj))
            return decision.requeue_after
        if controller == "endpoints":
            _, namespace, name = key
            service = self._get(kinds.SERVICES, namespace, name)
            pods, _ = self._store.list(kinds.PODS, namespace)
            current = self._get(kinds.ENDPOINTS, namespace, name)
            self.apply(
                endpoints.reconcile_endpoints(
                    service, current, pods, name=name, namespace=namespace, now=now
                ).actions
            )
            slices, _ = self._store.list(
                kinds.ENDPOINT_SLICES, namespace, label_selector=f"{endpoints.SERVICE_NAME_LABEL}={name}"
            )
            self.apply(endpoints.reconcile_slices(service, slices, pods, now=now).actions)
            return None
        if controller == "rootca":
            namespace_obj = self._get(kinds.NAMESPACES, None, key[1])
            if namespace_obj is None or self._root_ca is None:
                return None
            configmap = self._get(kinds.CONFIG_MAPS, key[1], rootca.NAME)
            self.apply(
                rootca.reconcile(namespace_obj, configmap, certificate_authority=self._root_ca).actions
            )
            return None
        if controller == "gc-dependents":
            for kind, dependent in self._store.dependents(key[1]):
                self.enqueue(
                    (
                        "gc-dependent",
                        kind.plural,
                        objects.namespace_of(dependent) or "",
                        objects.name_of(dependent),
                    )
                )
            return None
        if controller == "gc-dependent":
            _, plural, namespace, name = key
            dependent = self._get(BY_PLURAL[plural], namespace or None, name)
            if dependent is None:
                return None
            owners = {
                ref.get("uid", ""): self._owner(ref, namespace)
                for ref in objects.meta(dependent).get("ownerReferences") or []
            }
            self.apply(garbage.decide_dependent(plural, dependent, owners))
            return None
        if controller == "gc-owner":
            _, plural, namespace, name = key
            owner = self._get(BY_PLURAL[plural], namespace or None, name)
            if owner is None:
                return None
            dependents = [(kind.plural, obj) for kind, obj in self._store.dependents(objects.uid_of(owner))]
            self.apply(garbage.decide_owner(plural, owner, dependents))
            return None
        raise AssertionError(f"unknown controller key {key}")

    def _owner(self, ref: dict, namespace: str) -> dict | None:
        """The owner an ownerReference names, or None when no object with that uid exists."""
        try:
            kind = kinds.by_kind(ref.get("apiVersion", ""), ref.get("kind", ""))
        except errors.NotFound:
            return None  # a kind the sandbox does not serve cannot be checked: treat as gone, like kube
        owner = self._get(kind, namespace if kind.namespaced else None, ref.get("name", ""))
        if owner is None or objects.uid_of(owner) != ref.get("uid"):
            return None
        return owner

    # ------------------------------------------------------------------ actions -> store

    def apply(self, todo: list[actions.Action], *, owner: tuple[str, dict] | None = None) -> None:
        """Apply actions in order; a delete of something already gone is fine.

        owner: (kind, object) of the controller that decided, to record Events as kube does.
        """
        for action in todo:
            old_replicas = self._replicas_before(action) if owner is not None else None
            if self._apply_one(action) and owner is not None:
                self._record(owner, action, old_replicas)

    def _replicas_before(self, action: actions.Action) -> int | None:
        if not isinstance(action, actions.Patch) or action.resource != "replicasets":
            return None
        current = self._get(kinds.REPLICA_SETS, action.namespace, action.name)
        return None if current is None else int((current.get("spec") or {}).get("replicas", 0))

    def _record(self, owner: tuple[str, dict], action: actions.Action, old_replicas: int | None) -> None:
        event = events.event_for(
            owner_kind=owner[0], owner=owner[1], action=action, now=self._clock(), old_replicas=old_replicas
        )
        if event is None:
            return
        try:
            self._store.create(kinds.EVENTS, event)
        except errors.ApiError as error:  # an Event only informs: never fail the decision for it
            log.debug("event not recorded: %s", error)

    def _apply_one(self, action: actions.Action) -> bool:
        """Apply one action; False when there was nothing to do (deleting what is gone)."""
        if isinstance(action, actions.Create):
            self._store.create(BY_PLURAL[action.resource], action.body, namespace=action.namespace)
        elif isinstance(action, actions.Delete):
            try:
                self._store.delete(
                    BY_PLURAL[action.resource],
                    action.namespace,
                    action.name,
                    propagation=action.propagation,
                    preconditions={"uid": action.uid} if action.uid else None,
                )
            except errors.NotFound:
                return False
        elif isinstance(action, actions.Patch):
            self._store.patch(
                BY_PLURAL[action.resource],
                action.namespace,
                action.name,
                action.patch,
                patch_type=MERGE_PATCH,
                subresource=action.subresource,
            )
        elif isinstance(action, actions.SetStatus):
            kind = BY_PLURAL[action.resource]
            current = self._store.get(kind, action.namespace, action.name)
            current["status"] = action.status
            self._store.update(kind, current, subresource="status")
        elif isinstance(action, actions.Update):
            self._store.update(BY_PLURAL[action.resource], action.body)
        return True
