"""Errors of the engine's planning layer. Every message says what is wrong and what to do next.

Exception tree::

    EngineError                      any planning failure; `str(error)` is the user-facing message
    ├── TargetError                  the service cannot be resolved to one container
    │   ├── ServiceNotFound          no such service in the namespace
    │   ├── ServiceWithoutSelector   the service selects no pods by itself (ExternalName, manual endpoints)
    │   ├── NoPods                   the selector matches no running pod
    │   ├── PodNotReady              pods exist but none is ready
    │   ├── SeveralWorkloads         the ready pods belong to more than one workload
    │   ├── UnsupportedOwner         DaemonSet, Job, CronJob, operators' custom kinds...
    │   ├── OwnerNotFound            an ownerReference points at an object that was not given
    │   ├── ContainerNotFound        `--container` names no container of the pod
    │   ├── SeveralContainers        no rule picks exactly one container
    │   ├── UnresolvedTargetPort     a named targetPort is not declared by the chosen container
    │   └── AlreadyRedirected        another kubelocal session (or another tool) holds the workload
    ├── PatchError                   the workload cannot be patched as planned (port clash, odd shape)
    ├── LedgerError                  a saved ledger cannot be read back (corrupt, newer format, too big)
    ├── EndpointError                no workstation address can be allocated
    ├── ModeError                    the requested workstation mode is impossible here
    ├── EnvironmentPlanError         the config's env cannot be expanded (unknown service, volume...)
    ├── LaunchError                  a debug configuration cannot receive the environment
    └── RestoreNotFinished           the workload's spec is back but its rollout did not finish in time

Secret values never appear in these messages: they name variables, objects and ports only.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base of every planning error; the message is complete and meant for the user."""


class TargetError(EngineError):
    """The service could not be resolved to exactly one workload and container."""


class ServiceNotFound(TargetError):
    pass


class ServiceWithoutSelector(TargetError):
    pass


class NoPods(TargetError):
    pass


class PodNotReady(TargetError):
    pass


class SeveralWorkloads(TargetError):
    pass


class UnsupportedOwner(TargetError):
    pass


class OwnerNotFound(TargetError):
    pass


class ContainerNotFound(TargetError):
    pass


class SeveralContainers(TargetError):
    pass


class UnresolvedTargetPort(TargetError):
    pass


class AlreadyRedirected(TargetError):
    """The workload is already replaced; `session`, `owner` and `started` say by whom and when."""

    def __init__(self, message: str, *, session: str | None, owner: str | None, started: str | None) -> None:
        super().__init__(message)
        self.session = session
        self.owner = owner
        self.started = started


class PatchError(EngineError):
    pass


class LedgerError(EngineError):
    pass


class EndpointError(EngineError):
    pass


class ModeError(EngineError):
    pass


class EnvironmentPlanError(EngineError):
    pass


class LaunchError(EngineError):
    pass


class RestoreNotFinished(EngineError):
    """Disconnect put the original spec back, but the rollout did not finish within the timeout."""
