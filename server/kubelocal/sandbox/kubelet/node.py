"""The process kubelet: runs pods as local processes in their own network namespaces.

`Kubelet` is what the sandbox wires to its store (see docs in sandbox-design): `sync_pod` starts a
pod in the background and returns at once; the pod's supervisor makes its network namespace,
DNS files and volumes, runs init containers in order, then every container with probes and
restarts per restartPolicy. Every change of what `pod_status` would report is announced through
the `on_status_change` callbacks. `stop` removes every process, namespace and file it made.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import pathlib
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable

from kubelocal.sandbox.kubelet import (
    addressing,
    environment,
    errors,
    hostfiles,
    images,
    kernelproxy,
    network,
    probes,
    probing,
    projecting,
    proxying,
    resolving,
    runtime,
    services,
    statuses,
    volumes,
)

LOGGER = logging.getLogger(__name__)
NODE_NAME = resolving.NODE_NAME
BACKOFF_INITIAL_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 4.0
BACKOFF_RESET_AFTER_SECONDS = 10.0
CONFIG_RETRY_SECONDS = 1.0
ENDED_PODS_KEPT = 256
VOLUME_REFRESH_SECONDS = 1.0
STOP_GRACE_CAP_SECONDS = 2.0
STAND_IN_ANNOTATION = "sandbox.kubelocal.dev/stand-in"
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _key(pod: dict) -> tuple[str, str]:
    return pod["metadata"].get("namespace", "default"), pod["metadata"]["name"]


class PodRuntime:
    """One pod on this kubelet: its network, directories, container records and supervisor task."""

    def __init__(self, kubelet: Kubelet, pod: dict) -> None:
        self.kubelet = kubelet
        self.pod = pod
        self.namespace, self.name = _key(pod)
        self.uid = pod["metadata"].get("uid") or f"{self.namespace}-{self.name}"
        self.directory = kubelet.state_dir / "pods" / f"{self.namespace}_{self.name}_{self.uid[:8]}"
        spec = pod.get("spec") or {}
        self.restart_policy = spec.get("restartPolicy", "Always")
        self.containers = {
            c["name"]: statuses.ContainerState(name=c["name"], image=c.get("image", ""))
            for c in spec.get("containers") or []
        }
        self.init_containers = {
            c["name"]: statuses.ContainerState(
                name=c["name"], image=c.get("image", ""), reason="PodInitializing"
            )
            for c in spec.get("initContainers") or []
        }
        if self.init_containers:
            for state in self.containers.values():
                state.reason = "PodInitializing"
        self.conditions = statuses.Conditions()
        self.start_time = time.time()
        self.slot: addressing.PodSlot | None = None
        self.last_ip = ""
        self.netns: str | None = None
        self.network_ready = False
        self.initialized = not self.init_containers
        self.containers_done = False
        self.init_failed = False
        self.message = ""
        self.stand_ins: list[str] = []
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.process_runs: dict[str, int] = {}  # which run each entry of `processes` is
        self.envs: dict[str, dict[str, str]] = {}
        self.log_runs: dict[str, int] = {}
        self.plans: dict[str, volumes.Plan] = {}
        self.mounts_by_volume: dict[str, pathlib.Path] = {}
        self.stopping = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.recorded: set[tuple[str, str]] = set()

    @property
    def pod_ip(self) -> str:
        """The pod's address; kept after the pod's network is gone, as its status keeps it."""
        if self.slot is not None:
            self.last_ip = str(self.slot.address)
        return self.last_ip

    @property
    def dns_dir(self) -> pathlib.Path:
        if self.netns is not None:
            return network.ETC_NETNS_DIR / self.netns
        return self.directory / "dns"

    def log_path(self, container: str, run: int) -> pathlib.Path:
        return self.directory / "logs" / container / f"{run}.log"


class Kubelet:
    """Runs the sandbox's pods; see the module docstring and sandbox-design.md for the contract."""

    def __init__(
        self,
        *,
        state_dir: pathlib.Path,
        cluster_id: str,
        resolver: resolving.Resolver,
        image_registry: images.Registry | None = None,
        service_proxy: str = "kernel",
    ) -> None:
        self.state_dir = pathlib.Path(state_dir)
        kernelproxy.why_not(mode=service_proxy, node_netns=None)  # a bad mode fails here, not at start
        self._service_proxy_mode = service_proxy
        self.cluster_id = addressing.check_cluster_id(cluster_id)
        self.resolver = resolver
        self.images = image_registry if image_registry is not None else images.Registry()
        self.network = network.Network(cluster_id)
        self._proxy: proxying.ServiceProxy | None = None
        self._kernel_proxy: kernelproxy.KernelProxy | None = None
        self._pods: dict[tuple[str, str], PodRuntime] = {}
        # Pods killed recently, for their final status (a deleted pod's last status write).
        self._ended: dict[tuple[str, str], PodRuntime] = {}
        self._callbacks: list[Callable[[str, str], None]] = []
        self._services: list[dict] = []
        self._endpoints: list[dict] = []
        self._started = False
        self._refresher: asyncio.Task | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Make the node namespace, bridge and service proxy (idempotent)."""
        if self._started:
            return
        (self.state_dir / "pods").mkdir(parents=True, exist_ok=True)
        self._write_python_wrappers()
        await self.network.start()
        self._proxy = proxying.ServiceProxy(node_netns=self.network.node_netns)
        self._kernel_proxy = kernelproxy.KernelProxy(
            node_netns=self.network.node_netns, mode=self._service_proxy_mode
        )
        # An empty table now: a kernel that refuses nftables is found at start, so the sandbox's
        # status names the service path it really has.
        await self._kernel_proxy.program({})
        self._refresher = asyncio.get_running_loop().create_task(self._refresh_volumes_forever())
        self._started = True

    async def stop(self) -> None:
        """Kill every pod process, remove every namespace, veth, /etc/netns dir and file made."""
        if self._refresher is not None:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)
            self._refresher = None
        pods = list(self._pods.values())
        results = await asyncio.gather(
            *(self._kill(p, grace_seconds=1.0) for p in pods), return_exceptions=True
        )
        for pod, result in zip(pods, results, strict=True):
            if isinstance(result, BaseException):  # the network teardown below still removes it
                LOGGER.warning("stopping pod %s/%s failed: %s", pod.namespace, pod.name, result)
        self._pods.clear()
        if self._proxy is not None:
            await self._proxy.close()
            self._proxy = None
        self._kernel_proxy = None  # its rules live in the node namespace, which goes below
        await self.network.stop()
        shutil.rmtree(self.state_dir / "pods", ignore_errors=True)
        shutil.rmtree(self.state_dir / "bin", ignore_errors=True)
        self._started = False

    def _write_python_wrappers(self) -> None:
        """`python`/`python3` on the containers' PATH: the workstation's interpreter (a script, not a
        symlink, so a virtualenv's interpreter keeps its environment)."""
        directory = self.state_dir / "bin"
        directory.mkdir(parents=True, exist_ok=True)
        for name in ("python", "python3"):
            path = directory / name
            path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
            path.chmod(0o755)

    # -- the pod API -------------------------------------------------------------------------------

    def on_status_change(self, callback: Callable[[str, str], None]) -> None:
        self._callbacks.append(callback)

    def _notify(self, pod: PodRuntime) -> None:
        for callback in list(self._callbacks):
            try:
                callback(pod.namespace, pod.name)
            except Exception:
                LOGGER.exception("status-change callback failed for pod %s/%s", pod.namespace, pod.name)

    async def sync_pod(self, pod: dict) -> None:
        """Start `pod` unless it already runs (same uid); a new uid under the same name replaces it.

        Returns at once: the pod starts in the background. Pods with a deletionTimestamp are not
        started (kill_pod stops them).
        """
        if not self._started:
            raise errors.KubeletError("the kubelet is not started; call start() before sync_pod()")
        key = _key(pod)
        existing = self._pods.get(key)
        uid = pod["metadata"].get("uid") or f"{key[0]}-{key[1]}"
        if existing is not None:
            if existing.uid == uid:
                existing.pod = pod
                return
            await self._kill(existing, grace_seconds=0)
            self._pods.pop(key, None)
        if pod["metadata"].get("deletionTimestamp"):
            return
        runtime_pod = PodRuntime(self, pod)
        self._ended.pop(key, None)
        self._pods[key] = runtime_pod
        runtime_pod.task = asyncio.get_running_loop().create_task(self._run_pod(runtime_pod))

    async def kill_pod(self, pod: dict, *, grace_period_seconds: int) -> None:
        """SIGTERM every container, SIGKILL after the grace period, then remove the pod's network
        namespace and files. Unknown pods are ignored."""
        runtime_pod = self._pods.get(_key(pod))
        if runtime_pod is None:
            return
        uid = pod["metadata"].get("uid")
        if uid and uid != runtime_pod.uid:
            return
        await self._kill(runtime_pod, grace_seconds=float(grace_period_seconds))
        if self._pods.get(_key(pod)) is runtime_pod:
            del self._pods[_key(pod)]
            self._ended[_key(pod)] = runtime_pod
            while len(self._ended) > ENDED_PODS_KEPT:
                self._ended.pop(next(iter(self._ended)))

    def pod_status(self, pod: dict) -> dict:
        """The pod's status; for a pod killed by kill_pod, its final one (containers terminated,
        phase Succeeded or Failed, as a kubelet reports a deleted pod); Pending for unknown pods."""
        key = _key(pod)
        uid = pod["metadata"].get("uid")
        for runtime_pod in (self._pods.get(key), self._ended.get(key)):
            if runtime_pod is not None and (not uid or uid == runtime_pod.uid):
                return self._status(runtime_pod)
        return {
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                            "lastTransitionTime": pod["metadata"].get("creationTimestamp")
                            or statuses.timestamp(time.time())}],
        }  # fmt: skip

    def _status(self, pod: PodRuntime) -> dict:
        status = statuses.pod_status(
            containers=list(pod.containers.values()),
            init_containers=list(pod.init_containers.values()),
            conditions=pod.conditions,
            initialized=pod.initialized,
            init_failed=pod.init_failed,
            network_ready=pod.network_ready,
            pod_ip=pod.pod_ip,
            host_ip=self._host_ip(),
            start_time=pod.start_time,
            now=time.time(),
            message=pod.message,
            qos=statuses.qos_class(pod.pod.get("spec") or {}),
        )
        if pod.stand_ins:
            status["message"] = (
                f"containers {pod.stand_ins} run kubelocal stand-ins "
                "(the sandbox has no program for their image); "
                f"annotation {STAND_IN_ANNOTATION} names them"
            )
        return status

    def stand_in_annotations(self, namespace: str, name: str) -> dict[str, str]:
        """Annotations the wiring may add to the pod: which containers are stand-ins."""
        runtime_pod = self._pods.get((namespace, name))
        if runtime_pod is None or not runtime_pod.stand_ins:
            return {}
        return {STAND_IN_ANNOTATION: ",".join(runtime_pod.stand_ins)}

    # -- services ------------------------------------------------------------------------------------

    @property
    def service_path(self) -> str:
        """How pods' connections to ClusterIPs reach backends, for the sandbox's status."""
        kernel = self._kernel_proxy
        if kernel is not None and kernel.active:
            return "in the kernel (nftables DNAT, as kube-proxy)"
        reason = kernel.why_not if kernel is not None else "the kubelet is not started"
        return f"through the user-space proxy ({reason})"

    async def set_services(self, services_list: list[dict], endpoints: list[dict]) -> None:
        """Program ClusterIPs -> ready endpoints (the proxy) and every pod's hosts file."""
        self._services = list(services_list)
        self._endpoints = list(endpoints)
        table = services.proxy_table(self._services, self._endpoints)
        await self.network.set_service_addresses({ip for ip, _ in table})
        sticky = services.sticky_frontends(self._services)
        if self._proxy is not None:
            await self._proxy.program(table, sticky=sticky)
        if self._kernel_proxy is not None:
            await self._kernel_proxy.program(table, sticky=sticky)
        for pod in list(self._pods.values()):
            if pod.network_ready:
                self._write_dns(pod)
                self._refresh_stand_in_ports(pod)

    def _services_of(self, namespace: str) -> list[dict]:
        known = [s for s in self._services if s["metadata"].get("namespace", "default") == namespace]
        try:
            from_api = self.resolver.list_services(namespace)
        except Exception:
            LOGGER.warning("could not list services of namespace %s", namespace, exc_info=True)
            from_api = []
        by_name = {s["metadata"]["name"]: s for s in known}
        by_name.update({s["metadata"]["name"]: s for s in from_api})
        return list(by_name.values())

    def _write_dns(self, pod: PodRuntime) -> None:
        identity = hostfiles.pod_identity(pod.pod, pod.pod_ip)
        records = hostfiles.service_records(self._services, self._endpoints)
        directory = pod.dns_dir
        directory.mkdir(parents=True, exist_ok=True)
        _write_atomically(directory / "hosts", hostfiles.hosts_file(identity, records))
        _write_atomically(
            directory / "resolv.conf",
            hostfiles.resolv_conf(pod.namespace, searches=identity.searches, options=identity.options),
        )
        _write_atomically(directory / "hostname", identity.hostname + "\n")

    # -- one pod -------------------------------------------------------------------------------------

    async def _run_pod(self, pod: PodRuntime) -> None:
        try:
            pod.directory.mkdir(parents=True, exist_ok=True)
            pod.slot, pod.netns = await self.network.add_pod()
            pod.network_ready = True
            self._write_dns(pod)
            self._notify(pod)
            await self._prepare_volumes(pod)
            spec = pod.pod.get("spec") or {}
            sidecars = []
            for container in spec.get("initContainers") or []:
                if container.get("restartPolicy") == "Always":
                    # A sidecar (native sidecar, Kubernetes >= 1.29): it keeps running beside the
                    # containers; the next init container starts once it has started.
                    state = pod.init_containers[container["name"]]
                    sidecars.append(asyncio.ensure_future(self._supervise(pod, container, state=state)))
                    await _until(lambda state=state: state.state == "running" and state.started, pod.stopping)
                    continue
                if not await self._run_init(pod, container):
                    pod.init_failed = True
                    self._notify(pod)
                    return
            pod.initialized = True
            self._notify(pod)
            await asyncio.gather(*(self._supervise(pod, c) for c in spec.get("containers") or []))
            # Every container ended for good (a Job's pod): sidecars are stopped, as a kubelet does.
            pod.containers_done = True
            grace = float(spec.get("terminationGracePeriodSeconds", 30))
            for container in spec.get("initContainers") or []:
                process = pod.processes.get(container["name"])
                if container.get("restartPolicy") == "Always" and process is not None:
                    await runtime.terminate(process, grace_seconds=grace)
            await asyncio.gather(*sidecars)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            LOGGER.exception("pod %s/%s failed to start", pod.namespace, pod.name)
            pod.message = f"the sandbox kubelet could not start this pod: {error}"
            self._notify(pod)

    async def _prepare_volumes(self, pod: PodRuntime) -> None:
        """Write the pod's volumes; while a referenced object is missing, every container waits
        with CreateContainerConfigError and the kubelet retries."""
        while True:
            try:
                plans = [
                    volumes.plan(
                        v, pod=pod.pod, resolver=self.resolver, pod_ip=pod.pod_ip, host_ip=self._host_ip()
                    )
                    for v in (pod.pod.get("spec") or {}).get("volumes") or []
                ]
                break
            except errors.ContainerConfigError as error:
                self._set_waiting(pod, reason="CreateContainerConfigError", message=str(error))
                await _wait(pod.stopping, CONFIG_RETRY_SECONDS)
                if pod.stopping.is_set():
                    raise asyncio.CancelledError from error
        pod.plans = {p.name: p for p in plans}
        for plan in plans:
            pod.mounts_by_volume[plan.name] = projecting.prepare(pod.directory / "volumes" / plan.name, plan)
            if plan.note:
                resolving.record_event(self.resolver, pod.pod, reason="SandboxVolume", message=plan.note)

    async def _refresh_volumes_forever(self) -> None:
        """Keep ConfigMap, Secret, downwardAPI and projected volumes of running pods current, as a
        kubelet's periodic sync does (subPath mounts excepted, as on a real node)."""
        while True:
            await asyncio.sleep(VOLUME_REFRESH_SECONDS)
            for pod in list(self._pods.values()):
                if not pod.stopping.is_set():
                    self.refresh_volumes(pod)

    def refresh_volumes(self, pod: PodRuntime) -> None:
        """Rewrite the pod's file volumes whose content changed (atomically, through `..data`)."""
        for name, old in list(pod.plans.items()):
            if old.kind != "files":
                continue
            volume = next(
                (v for v in (pod.pod.get("spec") or {}).get("volumes") or [] if v["name"] == name), None
            )
            if volume is None:
                continue
            try:
                new = volumes.plan(
                    volume, pod=pod.pod, resolver=self.resolver, pod_ip=pod.pod_ip, host_ip=self._host_ip()
                )
            except errors.ContainerConfigError:
                continue  # a source vanished: a kubelet keeps the last content too
            if new.files != old.files:
                projecting.write_files(pod.mounts_by_volume[name], new.files)
                pod.plans[name] = new

    def _host_ip(self) -> str:
        return str(addressing.NODE_ADDRESS) if self.network.isolated else "127.0.0.1"

    def _set_waiting(self, pod: PodRuntime, *, reason: str, message: str) -> None:
        for state in [*pod.init_containers.values(), *pod.containers.values()]:
            if state.state == "waiting" and state.last_terminated is None:
                state.reason, state.message = reason, message
        self._event(pod, reason="Failed", message=f"Error: {message}", event_type="Warning", once=True)
        self._notify(pod)

    def _event(
        self, pod: PodRuntime, *, reason: str, message: str, event_type: str = "Normal", once: bool = False
    ) -> None:
        """Record an Event as a kubelet would; `once`: not again for the same reason and message."""
        if once:
            if (reason, message) in pod.recorded:
                return
            pod.recorded.add((reason, message))
        resolving.record_event(self.resolver, pod.pod, reason=reason, message=message, event_type=event_type)

    async def _run_init(self, pod: PodRuntime, container: dict) -> bool:
        """Run one init container to success (retrying unless restartPolicy is Never)."""
        state = pod.init_containers[container["name"]]
        backoff = BACKOFF_INITIAL_SECONDS
        while not pod.stopping.is_set():
            termination = await self._run_once(pod, container, state, probes_enabled=False)
            if termination is None:
                await _wait(pod.stopping, CONFIG_RETRY_SECONDS)
                continue
            if termination.exit_code == 0:
                state.state, state.terminated = "terminated", termination
                self._notify(pod)
                return True
            if pod.restart_policy == "Never":
                state.state, state.terminated = "terminated", termination
                self._notify(pod)
                return False
            state.last_terminated, state.state, state.reason = termination, "waiting", "CrashLoopBackOff"
            self._notify(pod)
            await _wait(pod.stopping, backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_SECONDS)
            state.restart_count += 1
        return False

    async def _supervise(
        self, pod: PodRuntime, container: dict, *, state: statuses.ContainerState | None = None
    ) -> None:
        """Run `container`, restarting it per restartPolicy (the container's own, for sidecars)
        with a short exponential back-off."""
        state = state or pod.containers[container["name"]]
        restart_policy = container.get("restartPolicy") or pod.restart_policy
        is_sidecar = state is not pod.containers.get(container["name"])
        backoff = BACKOFF_INITIAL_SECONDS
        while not pod.stopping.is_set():
            termination = await self._run_once(pod, container, state, probes_enabled=True)
            if termination is None:  # could not start: config error, retried
                await _wait(pod.stopping, CONFIG_RETRY_SECONDS)
                continue
            restart = restart_policy == "Always" or (
                restart_policy == "OnFailure" and termination.exit_code != 0
            )
            restart = restart and not (is_sidecar and pod.containers_done)
            if pod.stopping.is_set() or not restart:
                state.state, state.terminated = "terminated", termination
                self._notify(pod)
                return
            if termination.finished_at - termination.started_at > BACKOFF_RESET_AFTER_SECONDS:
                backoff = BACKOFF_INITIAL_SECONDS
            state.last_terminated, state.state = termination, "waiting"
            state.reason = "CrashLoopBackOff"
            state.message = (
                f"back-off {backoff:g}s restarting failed container={state.name} "
                f"pod={pod.name}_{pod.namespace}({pod.uid})"
            )
            self._event(
                pod,
                reason="BackOff",
                message=f"Back-off restarting failed container {state.name} "
                f"in pod {pod.name}_{pod.namespace}",
                event_type="Warning",
            )
            self._notify(pod)
            await _wait(pod.stopping, backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_SECONDS)
            if not pod.stopping.is_set():
                state.restart_count += 1

    def _container_env(self, pod: PodRuntime, container: dict) -> dict[str, str]:
        link_services = environment.services_for_links(
            pod=pod.pod,
            namespace_services=self._services_of(pod.namespace),
            default_services=self._services_of("default"),
        )
        return environment.container_env(
            pod=pod.pod,
            container=container,
            resolver=self.resolver,
            link_services=link_services,
            pod_ip=pod.pod_ip,
            host_ip=self._host_ip(),
        )

    def _stand_in_program(self, pod: PodRuntime, container: dict) -> images.Program:
        spec = pod.pod.get("spec") or {}
        all_stand_ins = all(
            self.images.image_config(c.get("image", "")) is None for c in spec.get("containers") or []
        )
        ports = services.stand_in_ports(
            pod=pod.pod,
            container=container,
            services=self._services_of(pod.namespace),
            only_stand_ins=all_stand_ins,
        )
        ports_file = pod.directory / "stand-in" / f"{container['name']}.ports"
        ports_file.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(ports_file, json.dumps(ports))
        return images.Program(
            argv=(
                sys.executable, "-I", "-S", str(runtime.STAND_IN), "--image", container.get("image", ""),
                "--pod", f"{pod.namespace}/{pod.name}", "--container", container["name"],
                "--ports-file", str(ports_file),
            ),
            working_dir=None,
            image_env=(),
        )  # fmt: skip

    def _refresh_stand_in_ports(self, pod: PodRuntime) -> None:
        """Tell running stand-ins (SIGHUP) to open ports services started targeting."""
        spec = pod.pod.get("spec") or {}
        all_stand_ins = all(
            self.images.image_config(c.get("image", "")) is None for c in spec.get("containers") or []
        )
        for container in spec.get("containers") or []:
            process = pod.processes.get(container["name"])
            if container["name"] not in pod.stand_ins or process is None or process.returncode is not None:
                continue
            ports = services.stand_in_ports(
                pod=pod.pod,
                container=container,
                services=self._services_of(pod.namespace),
                only_stand_ins=all_stand_ins,
            )
            ports_file = pod.directory / "stand-in" / f"{container['name']}.ports"
            if ports_file.exists() and json.loads(ports_file.read_text()) == ports:
                continue
            _write_atomically(ports_file, json.dumps(ports))
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGHUP)  # the stand-in re-reads its ports file

    async def _run_once(
        self, pod: PodRuntime, container: dict, state: statuses.ContainerState, *, probes_enabled: bool
    ) -> statuses.Termination | None:
        """One run of a container, from start to exit; None when it could not be configured."""
        name = container["name"]
        pull_failure = images.pull_failure(container.get("image", ""))
        if pull_failure is not None:
            # The first failed pull says ErrImagePull; the kubelet then backs off and says so.
            if state.reason in ("ErrImagePull", "ImagePullBackOff"):
                state.state, state.reason = "waiting", "ImagePullBackOff"
                state.message = f'Back-off pulling image "{container.get("image", "")}"'
            else:
                state.state, state.reason, state.message = "waiting", "ErrImagePull", pull_failure
                self._event(pod, reason="Failed", message=pull_failure, event_type="Warning", once=True)
            self._notify(pod)
            return None
        try:
            env = self._container_env(pod, container)
            command, args = environment.expand_command(container, env)
            program = self.images.program(container, command=command, args=args)
            mounts = volumes.container_mounts(container, pod.plans)
        except errors.ContainerConfigError as error:
            state.state, state.reason, state.message = "waiting", "CreateContainerConfigError", str(error)
            self._event(pod, reason="Failed", message=f"Error: {error}", event_type="Warning", once=True)
            self._notify(pod)
            return None
        is_stand_in = program is None
        owned_by_job = any(
            ref.get("kind") == "Job" for ref in pod.pod["metadata"].get("ownerReferences") or []
        )
        is_init = state is pod.init_containers.get(name) and container.get("restartPolicy") != "Always"
        run_to_completion = is_init or (owned_by_job and state is pod.containers.get(name))
        if program is None and run_to_completion:
            # An init container or a Job's container of an image without a program (busybox
            # waiting for a service, a migration tool, a batch job) cannot do its work here; it
            # completes at once so the pod starts (or the Job completes) rather than hang.
            if name not in pod.stand_ins:
                pod.stand_ins.append(name)
                self._event(
                    pod,
                    reason="StandIn",
                    message=f"Container {name}: the sandbox has no program for image "
                    f"{container.get('image')}; it is reported completed without running",
                )
            now = time.time()
            state.image_id = f"kubelocal://stand-in/{container.get('image', '')}"
            return statuses.Termination(
                exit_code=0, reason="Completed", started_at=now, finished_at=now, container_id=""
            )
        if program is None:
            program = self._stand_in_program(pod, container)
            if name not in pod.stand_ins:
                pod.stand_ins.append(name)
                resolving.record_event(
                    self.resolver,
                    pod.pod,
                    reason="StandIn",
                    message=f"Container {name}: the sandbox has no program for image "
                    f"{container.get('image')}; "
                    "a kubelocal stand-in answers on its ports",
                )
        process_env = {
            "PATH": f"{self.state_dir / 'bin'}:{IMAGE_PATH}",
            "HOME": "/root",
            "LANG": "C.UTF-8",
            "HOSTNAME": hostfiles.pod_identity(pod.pod, pod.pod_ip).hostname,
            **dict(program.image_env),
            **env,
        }
        pod.envs[name] = process_env
        run = pod.log_runs.get(name, -1) + 1
        pod.log_runs[name] = run
        rootfs = pod.directory / "rootfs" / name
        rootfs.mkdir(parents=True, exist_ok=True)
        # The container writes why it ended to terminationMessagePath; it lands in a file of ours.
        message_path = container.get("terminationMessagePath") or "/dev/termination-log"
        message_file = pod.directory / "termination" / f"{name}-{run}"
        message_file.parent.mkdir(exist_ok=True)
        message_file.write_bytes(b"")
        cwd = pod.directory / "cwd"
        cwd.mkdir(exist_ok=True)
        launcher_spec = {
            "rootfs": str(rootfs),
            "hostname": hostfiles.pod_identity(pod.pod, pod.pod_ip).hostname,
            "writable_roots": [str(self.state_dir)],
            "mounts": [
                {
                    "source": str(pod.mounts_by_volume[m.volume] / m.sub_path)
                    if m.sub_path
                    else str(pod.mounts_by_volume[m.volume]),
                    "target": m.mount_path,
                    "readOnly": m.read_only,
                }
                for m in mounts
            ]
            + [{"source": str(message_file), "target": message_path, "readOnly": False}],
            "dns_dir": str(pod.dns_dir),
            "working_dir": program.working_dir or str(cwd),
            "unisolated_dir": program.working_dir or str(cwd),
            "allow_unisolated": not self.network.isolated,
            "argv": list(program.argv),
            "env": process_env,
        }
        started = time.time()
        try:
            process = await runtime.start(
                spec=launcher_spec,
                spec_path=pod.directory / "specs" / f"{name}-{run}.json",
                netns=pod.netns,
                log_path=pod.log_path(name, run),
            )
        except OSError as error:
            state.state, state.reason, state.message = "waiting", "RunContainerError", str(error)
            self._notify(pod)
            return None
        pod.processes[name] = process
        pod.process_runs[name] = run
        if pod.stopping.is_set():  # killed while starting: _kill did not see this process
            await runtime.terminate(process, grace_seconds=0)
        post_start = (container.get("lifecycle") or {}).get("postStart")
        if post_start and not await self._run_hook(pod, container, post_start, process, timeout=None):
            self._event(
                pod,
                reason="FailedPostStartHook",
                message=f"PostStartHook failed for container {name}; it is killed",
                event_type="Warning",
            )
            await runtime.terminate(process, grace_seconds=float(self._grace(pod)))
        image_kind = "stand-in" if is_stand_in else "program"
        state.image_id = f"kubelocal://{image_kind}/{container.get('image', '')}"
        state.container_id = f"kubelocal://{pod.uid[:8]}-{name}-{run}-{process.pid}"
        state.state, state.reason, state.message, state.started_at = "running", "", "", started
        state.started = not (probes_enabled and container.get("startupProbe"))
        state.ready = state.started and not (probes_enabled and container.get("readinessProbe"))
        self._event(pod, reason="Started", message=f"Started container {name}")
        self._notify(pod)
        probe_task = None
        if probes_enabled and any(
            container.get(k) for k in ("startupProbe", "readinessProbe", "livenessProbe")
        ):
            probe_task = asyncio.get_running_loop().create_task(self._probe(pod, container, state, process))
        try:
            returncode = await process.wait()
        except asyncio.CancelledError:
            await asyncio.shield(runtime.terminate(process, grace_seconds=0))  # never orphan it
            raise
        finally:
            if probe_task is not None:
                probe_task.cancel()
                await asyncio.gather(probe_task, return_exceptions=True)
        code = runtime.exit_code(returncode)
        state.ready = False
        return statuses.Termination(
            exit_code=code,
            reason="Completed" if code == 0 else "Error",
            started_at=started,
            finished_at=time.time(),
            container_id=state.container_id,
            message=_termination_message(
                message_file,
                log=pod.log_path(name, run),
                from_logs=code != 0 and container.get("terminationMessagePolicy") == "FallbackToLogsOnError",
            ),
        )

    # -- probes --------------------------------------------------------------------------------------

    async def _probe(
        self,
        pod: PodRuntime,
        container: dict,
        state: statuses.ContainerState,
        process: asyncio.subprocess.Process,
    ) -> None:
        started = time.monotonic()
        startup = container.get("startupProbe")
        if startup:
            tracker = probes.Tracker(probes.Kind.STARTUP, probes.timing(startup, probes.Kind.STARTUP))
            if not await self._probe_until(pod, container, state, process, startup, tracker, started):
                return
            state.started = True
            if not container.get("readinessProbe"):
                state.ready = True
            self._notify(pod)
        loops = []
        for key, kind in (("readinessProbe", probes.Kind.READINESS), ("livenessProbe", probes.Kind.LIVENESS)):
            if container.get(key):
                tracker = probes.Tracker(kind, probes.timing(container[key], kind))
                loops.append(
                    self._probe_until(pod, container, state, process, container[key], tracker, started)
                )
        await asyncio.gather(*loops)

    async def _probe_until(
        self,
        pod: PodRuntime,
        container: dict,
        state: statuses.ContainerState,
        process: asyncio.subprocess.Process,
        probe: dict,
        tracker: probes.Tracker,
        started: float,
    ) -> bool:
        """Probe until a startup probe succeeds (True) or a liveness/startup probe fails out
        (the container is killed; False); readiness and liveness probes run until cancelled."""
        try:
            check = probes.check(probe, container)
        except ValueError as error:
            LOGGER.warning("pod %s/%s container %s: %s", pod.namespace, pod.name, container["name"], error)
            return False
        await asyncio.sleep(max(0.0, tracker.timing.initial_delay - (time.monotonic() - started)))
        while process.returncode is None:
            success = await probing.run(
                check,
                node_netns=self.network.node_netns,
                pod_ip=pod.pod_ip,
                pid=process.pid,
                env=pod.envs.get(container["name"], {}),
                timeout=tracker.timing.timeout,
            )
            tracker.observe(success)
            if tracker.kind is probes.Kind.READINESS:
                if state.ready != (tracker.succeeded and state.started):
                    state.ready = tracker.succeeded and state.started
                    self._notify(pod)
            elif tracker.kind is probes.Kind.STARTUP and tracker.succeeded:
                return True
            if tracker.failed_out and tracker.kind is not probes.Kind.READINESS:
                what = "Liveness" if tracker.kind is probes.Kind.LIVENESS else "Startup"
                resolving.record_event(
                    self.resolver,
                    pod.pod,
                    reason="Unhealthy",
                    message=f"{what} probe failed; container {container['name']} will be restarted",
                    event_type="Warning",
                )
                grace = probe.get("terminationGracePeriodSeconds")
                if grace is None:
                    grace = (pod.pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
                await runtime.terminate(process, grace_seconds=float(grace))
                return False
            await asyncio.sleep(tracker.next_delay())
        return False

    # -- stopping ------------------------------------------------------------------------------------

    async def _kill(self, pod: PodRuntime, *, grace_seconds: float) -> None:
        pod.stopping.set()
        running = {name: p for name, p in pod.processes.items() if p.returncode is None}
        for name in running:
            self._event(pod, reason="Killing", message=f"Stopping container {name}")
        began = time.monotonic()
        await asyncio.gather(
            *(self._pre_stop(pod, name, process, grace_seconds) for name, process in running.items())
        )
        remaining = max(0.0, grace_seconds - (time.monotonic() - began))
        await asyncio.gather(*(runtime.terminate(p, grace_seconds=remaining) for p in running.values()))
        if pod.task is not None:
            # Let the supervisors record how their containers ended, then stop whatever remains.
            await asyncio.wait([pod.task], timeout=0.5)
            pod.task.cancel()
            await asyncio.gather(pod.task, return_exceptions=True)
        now = time.time()
        for name, state in [*pod.init_containers.items(), *pod.containers.items()]:
            state.ready = False
            process = pod.processes.get(name)
            if state.state == "running" and process is not None and process.returncode is not None:
                code = runtime.exit_code(process.returncode)
                state.state = "terminated"
                state.terminated = statuses.Termination(
                    exit_code=code,
                    reason="Completed" if code == 0 else "Error",
                    started_at=state.started_at,
                    finished_at=now,
                    container_id=state.container_id,
                )
        if pod.slot is not None:
            await self.network.remove_pod(pod.slot, pod.netns)
            pod.slot = None
            pod.network_ready = False
        shutil.rmtree(pod.directory, ignore_errors=True)
        self._notify(pod)

    async def _pre_stop(
        self, pod: PodRuntime, name: str, process: asyncio.subprocess.Process, grace_seconds: float
    ) -> None:
        """Run the container's preStop hook, bounded by the grace period (as a kubelet does)."""
        spec = pod.pod.get("spec") or {}
        containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
        container = next((c for c in containers if c.get("name") == name), {})
        hook = (container.get("lifecycle") or {}).get("preStop")
        if (
            hook
            and grace_seconds > 0
            and not await self._run_hook(pod, container, hook, process, timeout=grace_seconds)
        ):
            self._event(
                pod,
                reason="FailedPreStopHook",
                message=f"PreStopHook failed for container {name}",
                event_type="Warning",
            )

    async def _run_hook(
        self,
        pod: PodRuntime,
        container: dict,
        hook: dict,
        process: asyncio.subprocess.Process,
        *,
        timeout: float | None,
    ) -> bool:
        """Run a lifecycle handler (exec, httpGet, tcpSocket or sleep); True when it succeeded."""
        if "sleep" in hook:
            seconds = float((hook["sleep"] or {}).get("seconds") or 0)
            await asyncio.sleep(min(seconds, timeout) if timeout is not None else seconds)
            return True
        try:
            check = probes.check(hook, container)
        except ValueError:
            return False
        run = probing.run(
            check,
            node_netns=self.network.node_netns,
            pod_ip=pod.pod_ip,
            pid=process.pid,
            env=pod.envs.get(container.get("name", ""), {}),
            timeout=timeout if timeout is not None else 3600.0,
        )
        return await run

    @staticmethod
    def _grace(pod: PodRuntime) -> int:
        return int((pod.pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30))

    # -- connections and logs ------------------------------------------------------------------------

    def _pod(self, namespace: str, name: str) -> PodRuntime:
        pod = self._pods.get((namespace, name))
        if pod is None:
            raise errors.PodNotFound(
                f'pod "{name}" in namespace "{namespace}" does not run on the sandbox kubelet'
            )
        return pod

    async def open_pod_port(
        self, namespace: str, name: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A TCP connection to the pod's own localhost:port (127.0.0.1, else ::1, as a kubelet's
        port-forward tries both), made from inside its network namespace."""
        pod = self._pod(namespace, name)
        if not pod.network_ready:
            raise errors.PortUnreachable(
                f"pod {namespace}/{name} has no network yet; wait until it is Running"
            )
        try:
            try:
                return await network.connect_in(pod.netns, "127.0.0.1", port, timeout=3.0)
            except ConnectionRefusedError:
                return await network.connect_in(pod.netns, "::1", port, timeout=3.0)
        except (OSError, TimeoutError) as error:
            raise errors.PortUnreachable(
                f"nothing accepts connections on port {port} of pod {namespace}/{name} ({error}); "
                "check the port and that the container listens on it"
            ) from error

    async def exec_in_container(
        self, namespace: str, name: str, container: str | None, command: list[str], *, stdin: bool = False
    ) -> asyncio.subprocess.Process:
        """Start `command` inside a running container (its root, cwd, hostname, network and env),
        as `kubectl exec` does; stdout and stderr are pipes, stdin too when asked."""
        pod = self._pod(namespace, name)
        chosen = self._container_name(pod, container)
        process = pod.processes.get(chosen)
        if process is None or process.returncode is not None:
            raise errors.ContainerNotFound(
                f"container {chosen} is not running in pod {namespace}/{name}; wait until it runs"
            )
        return await asyncio.create_subprocess_exec(
            "nsenter", "-t", str(process.pid), "-m", "-u", "-n", "-r", "-w", "--", *command,
            env=pod.envs.get(chosen, {}),
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip

    def _container_name(self, pod: PodRuntime, container: str | None) -> str:
        names = [*pod.containers, *pod.init_containers]
        if container is None:
            if len(pod.containers) == 1:
                return next(iter(pod.containers))
            raise errors.ContainerNotFound(
                f"a container name must be specified for pod {pod.name}, "
                f"choose one of: {list(pod.containers)}"
            )
        if container not in names:
            raise errors.ContainerNotFound(
                f"container {container} is not valid for pod {pod.name}; choose one of: {names}"
            )
        return container

    def read_log(
        self,
        namespace: str,
        name: str,
        container: str | None,
        *,
        previous: bool = False,
        tail_lines: int | None = None,
    ) -> bytes:
        """The container's current (or previous) run's output, stdout and stderr interleaved."""
        pod = self._pod(namespace, name)
        chosen = self._container_name(pod, container)
        run = pod.log_runs.get(chosen)
        if run is None:
            raise errors.ContainerNotFound(f'container "{chosen}" in pod "{name}" is waiting to start')
        if previous:
            run -= 1
            if run < 0:
                raise errors.ContainerNotFound(
                    f'previous terminated container "{chosen}" in pod "{name}" not found'
                )
        try:
            content = pod.log_path(chosen, run).read_bytes()
        except FileNotFoundError:
            content = b""
        return runtime.tail(content, tail_lines)

    async def follow_log(self, namespace: str, name: str, container: str | None) -> AsyncIterator[bytes]:
        """The current run's output as it is written; ends when that run ends (as `kubectl logs -f`)."""
        pod = self._pod(namespace, name)
        chosen = self._container_name(pod, container)
        while chosen not in pod.log_runs and not pod.stopping.is_set():
            await asyncio.sleep(0.05)
        run = pod.log_runs.get(chosen)
        if run is None:
            return
        path = pod.log_path(chosen, run)
        offset = 0
        while True:
            process = pod.processes.get(chosen) if pod.process_runs.get(chosen) == run else None
            finished = (
                pod.stopping.is_set()
                or pod.log_runs.get(chosen, run) > run
                or (process is not None and process.returncode is not None)
            )
            try:
                with open(path, "rb") as log:
                    log.seek(offset)
                    chunk = log.read()
            except FileNotFoundError:
                chunk = b""
            if chunk:
                offset += len(chunk)
                yield chunk
            elif finished:
                return
            else:
                await asyncio.sleep(0.05)


def _termination_message(message_file: pathlib.Path, *, log: pathlib.Path, from_logs: bool) -> str:
    """What the container wrote to its termination message file (at most 4096 bytes, as a
    kubelet reads it); with FallbackToLogsOnError and nothing written, the end of its log."""
    try:
        message = message_file.read_bytes()[:4096]
    except OSError:
        message = b""
    if not message and from_logs:
        try:
            message = runtime.tail(log.read_bytes(), 80)[-2048:]
        except OSError:
            message = b""
    return message.decode(errors="replace")


async def _until(condition: Callable[[], bool], stopping: asyncio.Event) -> None:
    """Wait until `condition()` holds or `stopping` is set (polled: conditions change in callbacks)."""
    while not condition() and not stopping.is_set():
        await _wait(stopping, 0.01)


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


def _write_atomically(path: pathlib.Path, content: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(content)
    os.replace(temporary, path)
