"""Errors of the kube layer. Every message says what is wrong and what to do next.

Exception tree::

    KubeError                       anything that went wrong talking to a cluster
    ├── KubeconfigError             no kubeconfig, unknown context, unreadable credentials
    ├── ClusterUnreachable          no answer from the API server (DNS, TCP, TLS, timeout)
    ├── ApiError                    the API server answered with an error status (`code`, `reason`)
    │   ├── Unauthorized            401: credentials missing or expired
    │   ├── Forbidden               403: names the verb, resource and namespace that are missing
    │   ├── NotFound                404: the object (or its namespace) does not exist
    │   │   └── NamespaceNotFound   the namespace itself does not exist
    │   ├── AlreadyExists           409 AlreadyExists on create
    │   ├── Conflict                409 Conflict: stale resourceVersion or failed patch `test`
    │   ├── BadRequest              400: a malformed request, or a JSON patch whose `test` failed
    │   ├── Invalid                 422: the object was refused by validation
    │   └── Gone                    410: a watch's resourceVersion is too old
    ├── WaitTimeout                 a pod did not become ready in time (says why, when known)
    │   └── PodCannotStart          it will not start without a fix (image pull, crash loop...)
    └── ForwardError                a port-forward could not be opened or broke

No message carries a secret: they name objects, verbs and addresses only.
"""

from __future__ import annotations

from typing import Any


class KubeError(Exception):
    """Base of every kube-layer error; `str(error)` is the complete, user-facing message."""


class KubeconfigError(KubeError):
    pass


class ClusterUnreachable(KubeError):
    pass


class ApiError(KubeError):
    """The API server answered `code` with Kubernetes StatusReason `reason`; `status` is its body."""

    def __init__(
        self, message: str, *, code: int, reason: str = "", status: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.status = status or {}


class Unauthorized(ApiError):
    pass


class Forbidden(ApiError):
    pass


class NotFound(ApiError):
    pass


class NamespaceNotFound(NotFound):
    pass


class AlreadyExists(ApiError):
    pass


class Conflict(ApiError):
    pass


class BadRequest(ApiError):
    pass


class Invalid(ApiError):
    pass


class Gone(ApiError):
    pass


class WaitTimeout(KubeError):
    pass


class PodCannotStart(WaitTimeout):
    pass


class ForwardError(KubeError):
    pass
