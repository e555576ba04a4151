"""Errors of the process kubelet.

    KubeletError                      anything the kubelet cannot do; says what to do next
    ├── NetworkError                  an `ip` command or a namespace operation failed
    ├── ContainerConfigError          a container's env or volumes cannot be built (missing
    │                                 ConfigMap/Secret/key); the container waits with reason
    │                                 CreateContainerConfigError, as on a real node
    ├── PodNotFound                   the kubelet runs no pod of that namespace/name
    ├── ContainerNotFound             no such container (or no previous run) in the pod
    └── PortUnreachable               nothing accepts connections on the pod's port

Messages never contain secret values.
"""

from __future__ import annotations


class KubeletError(Exception):
    """Base of every kubelet error."""


class NetworkError(KubeletError):
    """A network namespace, interface or address could not be made or removed."""


class ContainerConfigError(KubeletError):
    """The container's configuration refers to something that does not exist."""


class PodNotFound(KubeletError):
    """No pod of that name runs on this kubelet."""


class PortUnreachable(KubeletError):
    """The pod runs but nothing listens on the requested port."""


class ContainerNotFound(KubeletError):
    """The pod has no such container, or the container has no (previous) run to read."""
