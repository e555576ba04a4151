"""The node loop: what connects the store to the kubelet, as a real kubelet's sync loop does.

- Every pod the store holds is synced to the kubelet (`sync_pod`, idempotent) when it appears or
  its spec/metadata generation changes; each pod is handled by one task at a time, in order.
- A pod marked for deletion is stopped within its grace period (`kill_pod`), then removed from the
  store (delete with grace 0, guarded by uid) — the kubelet's confirmation a real API server waits for.
  A pod removed without that (force delete, finished pod) is still stopped.
- Every status change the kubelet reports is written back through the status subresource, coalesced
  per pod; a status equal to the stored one is not written.
- Services and Endpoints are pushed to the kubelet (`set_services`) after any change to either,
  coalesced, so DNS names and ClusterIPs follow the cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from kubelocal.sandbox import errors, kinds
from kubelocal.sandbox import store as store_module
from kubelocal.sandbox.controllers import objects

log = logging.getLogger(__name__)

SERVICES_SETTLE_SECONDS = 0.005


class PodRuntime(Protocol):
    """The part of `kubelet.Kubelet` this loop drives."""

    async def sync_pod(self, pod: dict) -> None: ...

    async def kill_pod(self, pod: dict, *, grace_period_seconds: int) -> None: ...

    def pod_status(self, pod: dict) -> dict: ...

    def on_status_change(self, callback: object) -> None: ...

    async def set_services(self, services: list[dict], endpoints: list[dict]) -> None: ...


class NodeLoop:
    """Drives one kubelet from the store; start() returns at once, stop() ends every task."""

    def __init__(self, *, store: store_module.Store, kubelet: PodRuntime) -> None:
        self._store = store
        self._kubelet = kubelet
        self._latest: dict[str, store_module.WatchEvent] = {}
        self._workers: dict[str, asyncio.Task] = {}
        self._synced: dict[str, int] = {}
        self._dirty_status: set[tuple[str, str]] = set()
        self._status_wakeup = asyncio.Event()
        self._services_wakeup = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._kubelet.on_status_change(self.status_changed)
        pods = self._store.watch(kinds.PODS)
        services = self._store.watch(kinds.SERVICES)
        endpoints = self._store.watch(kinds.ENDPOINTS)
        self._tasks = [
            loop.create_task(self._follow_pods(pods), name="node pods"),
            loop.create_task(self._follow_services(services), name="node services"),
            loop.create_task(self._follow_services(endpoints), name="node endpoints"),
            loop.create_task(self._write_statuses(), name="node statuses"),
            loop.create_task(self._push_services(), name="node service proxy"),
        ]
        self._services_wakeup.set()

    async def stop(self) -> None:
        tasks = [*self._tasks, *self._workers.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._workers.clear()

    # ------------------------------------------------------------------ pods

    async def _follow_pods(self, stream: store_module.WatchStream) -> None:
        try:
            async for event in stream:
                uid = objects.uid_of(event.object)
                self._latest[uid] = event
                if uid not in self._workers:
                    self._workers[uid] = asyncio.get_running_loop().create_task(self._pod_worker(uid))
        finally:
            stream.close()

    async def _pod_worker(self, uid: str) -> None:
        try:
            while uid in self._latest:
                event = self._latest.pop(uid)
                try:
                    await self._handle(event)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception(
                        "pod %s/%s", objects.namespace_of(event.object), objects.name_of(event.object)
                    )
        finally:
            self._workers.pop(uid, None)

    async def _handle(self, event: store_module.WatchEvent) -> None:
        pod = event.object
        uid = objects.uid_of(pod)
        if event.type == "DELETED":
            self._synced.pop(uid, None)
            await self._kubelet.kill_pod(pod, grace_period_seconds=0)
            return
        metadata = objects.meta(pod)
        if objects.is_deleting(pod):
            if metadata.get("finalizers"):
                # Stop it, but the store keeps it until its finalizers are gone.
                await self._kubelet.kill_pod(
                    pod, grace_period_seconds=int(metadata.get("deletionGracePeriodSeconds") or 0)
                )
                self.status_changed(objects.namespace_of(pod) or "", objects.name_of(pod))
                return
            await self._kubelet.kill_pod(
                pod, grace_period_seconds=int(metadata.get("deletionGracePeriodSeconds") or 0)
            )
            self._synced.pop(uid, None)
            with contextlib.suppress(errors.NotFound, errors.Conflict):
                self._store.delete(
                    kinds.PODS,
                    objects.namespace_of(pod),
                    objects.name_of(pod),
                    grace_period_seconds=0,
                    preconditions={"uid": uid},
                )
            return
        generation = int(metadata.get("generation") or 0)
        if self._synced.get(uid) == generation:
            return
        await self._kubelet.sync_pod(pod)
        self._synced[uid] = generation
        self.status_changed(objects.namespace_of(pod) or "", objects.name_of(pod))

    # ------------------------------------------------------------------ statuses

    def status_changed(self, namespace: str, name: str) -> None:
        """The kubelet's callback: a pod's status changed; written back soon, coalesced."""
        self._dirty_status.add((namespace, name))
        self._status_wakeup.set()

    async def _write_statuses(self) -> None:
        while True:
            await self._status_wakeup.wait()
            self._status_wakeup.clear()
            dirty, self._dirty_status = self._dirty_status, set()
            for namespace, name in sorted(dirty):
                self._write_status(namespace, name)
            await asyncio.sleep(0)

    def _write_status(self, namespace: str, name: str) -> None:
        for _ in range(5):
            try:
                pod = self._store.get(kinds.PODS, namespace, name)
            except errors.NotFound:
                return
            try:
                status = self._kubelet.pod_status(pod)
            except Exception:
                log.debug("no status for pod %s/%s yet", namespace, name, exc_info=True)
                return
            if not status or status == pod.get("status"):
                return
            pod["status"] = status
            try:
                self._store.update(kinds.PODS, pod, subresource="status")
                return
            except errors.Conflict:
                continue
            except errors.NotFound:
                return
            except errors.ApiError as error:
                log.warning("pod %s/%s: the kubelet's status was refused: %s", namespace, name, error)
                return

    # ------------------------------------------------------------------ services

    async def _follow_services(self, stream: store_module.WatchStream) -> None:
        try:
            async for _ in stream:
                self._services_wakeup.set()
        finally:
            stream.close()

    async def _push_services(self) -> None:
        while True:
            await self._services_wakeup.wait()
            # Let a burst of changes (an apply of many objects) land before programming the proxy.
            await asyncio.sleep(SERVICES_SETTLE_SECONDS)
            self._services_wakeup.clear()
            services, _ = self._store.list(kinds.SERVICES)
            endpoints, _ = self._store.list(kinds.ENDPOINTS)
            try:
                await self._kubelet.set_services(services, endpoints)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("programming services into the kubelet failed")
