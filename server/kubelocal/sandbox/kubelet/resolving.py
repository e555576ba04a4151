"""What the kubelet needs from the API, as a small Protocol, and its adapter over the sandbox Store.

The kubelet reads ConfigMaps and Secrets (env, volumes), service-account tokens (projected volumes)
and the services of a namespace (service-link env vars, the stand-in's ports). Everything is a plain
dict exactly as the API returns it, so tests drive the kubelet with a dict-backed fake and the
sandbox wires it to its Store through `StoreResolver`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from kubelocal.sandbox import errors as api_errors
from kubelocal.sandbox import kinds as api_kinds
from kubelocal.sandbox import store as store_module

LOGGER = logging.getLogger(__name__)

#: The ConfigMap every namespace of a real cluster has, read by the default projected volume.
ROOT_CA_CONFIG_MAP = "kube-root-ca.crt"
#: The node the sandbox's store registers; the kubelet reports as it.
NODE_NAME = "sandbox-node"


@runtime_checkable
class Resolver(Protocol):
    """Read access to the API objects a pod refers to; None when an object does not exist."""

    def get_config_map(self, namespace: str, name: str) -> dict | None: ...

    def get_secret(self, namespace: str, name: str) -> dict | None: ...

    def service_account_token(
        self, namespace: str, service_account: str, *, audience: str | None, expiration_seconds: int
    ) -> str: ...

    def list_services(self, namespace: str) -> list[dict]: ...


@runtime_checkable
class EventRecorder(Protocol):
    """Optional: a Resolver that also records Events (shown by `kubectl describe pod`)."""

    def record_event(self, pod: dict, *, reason: str, message: str, event_type: str = "Normal") -> None: ...


def record_event(
    resolver: object, pod: dict, *, reason: str, message: str, event_type: str = "Normal"
) -> None:
    """Record an Event through `resolver` when it can; never fails the caller."""
    if not isinstance(resolver, EventRecorder):
        return
    try:
        resolver.record_event(pod, reason=reason, message=message, event_type=event_type)
    except Exception:  # an Event is informative only: the pod must start regardless
        LOGGER.warning("could not record event %s for pod %s", reason, _pod_key(pod), exc_info=True)


def _pod_key(pod: dict) -> str:
    metadata = pod.get("metadata") or {}
    return f"{metadata.get('namespace', 'default')}/{metadata.get('name', '?')}"


def sandbox_token(*, namespace: str, service_account: str, audience: str | None, cluster_id: str) -> str:
    """A deterministic, unsigned JWT-shaped token naming the service account.

    The sandbox API server does not verify signatures; the token only has to look like a bound
    service-account token to clients that decode it (they read `sub` and `kubernetes.io`).
    """

    def segment(value: dict) -> str:
        raw = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = {"alg": "none", "typ": "JWT"}
    claims = {
        "iss": f"https://kubelocal-sandbox.{cluster_id}",
        "sub": f"system:serviceaccount:{namespace}:{service_account}",
        "aud": [audience or "https://kubernetes.default.svc.cluster.local"],
        "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": service_account}},
    }
    signature = hashlib.sha256(f"{cluster_id}/{namespace}/{service_account}".encode()).hexdigest()[:43]
    return f"{segment(header)}.{segment(claims)}.{signature}"


class StoreResolver:
    """The Resolver over the sandbox's `Store` (in-process, no HTTP).

    `ca_certificate` (PEM) stands in for the `kube-root-ca.crt` ConfigMap when the store has none,
    so the default projected service-account volume works before anything publishes it.
    `token_factory(namespace=, service_account=, audience=, expiration_seconds=)`, when given,
    makes service-account tokens the API server accepts; otherwise `sandbox_token` makes one.
    """

    def __init__(
        self,
        *,
        store: store_module.Store,
        cluster_id: str,
        ca_certificate: str = "",
        token_factory: Callable[..., str] | None = None,
        kinds: object = None,
        not_found: object = None,
    ) -> None:
        # `kinds` and `not_found` were parameters of the first version (before the store existed);
        # still accepted so wiring written against it keeps working, and unused.
        del kinds, not_found
        self._store = store
        self._cluster_id = cluster_id
        self._ca_certificate = ca_certificate
        self._token_factory = token_factory

    def get_config_map(self, namespace: str, name: str) -> dict | None:
        try:
            return self._store.get(api_kinds.CONFIG_MAPS, namespace, name)
        except api_errors.NotFound:
            if name == ROOT_CA_CONFIG_MAP and self._ca_certificate:
                return {
                    "metadata": {"name": name, "namespace": namespace},
                    "data": {"ca.crt": self._ca_certificate},
                }
            return None

    def get_secret(self, namespace: str, name: str) -> dict | None:
        try:
            return self._store.get(api_kinds.SECRETS, namespace, name)
        except api_errors.NotFound:
            return None

    def service_account_token(
        self, namespace: str, service_account: str, *, audience: str | None, expiration_seconds: int
    ) -> str:
        if self._token_factory is not None:
            return str(
                self._token_factory(
                    namespace=namespace,
                    service_account=service_account,
                    audience=audience,
                    expiration_seconds=expiration_seconds,
                )
            )
        return sandbox_token(
            namespace=namespace,
            service_account=service_account,
            audience=audience,
            cluster_id=self._cluster_id,
        )

    def list_services(self, namespace: str) -> list[dict]:
        items, _ = self._store.list(api_kinds.SERVICES, namespace)
        return items

    def record_event(self, pod: dict, *, reason: str, message: str, event_type: str = "Normal") -> None:
        metadata = pod.get("metadata") or {}
        namespace = metadata.get("namespace", "default")
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{metadata.get('name', 'pod')}.", "namespace": namespace},
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": metadata.get("name"),
                "namespace": namespace,
                "uid": metadata.get("uid"),
            },
            "reason": reason,
            "message": message,
            "type": event_type,
            "source": {"component": "kubelet", "host": NODE_NAME},
            "reportingComponent": "kubelet",
            "count": 1,
        }
        self._store.create(api_kinds.EVENTS, event, namespace=namespace)
