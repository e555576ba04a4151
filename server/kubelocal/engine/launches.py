"""Debug configurations with the cluster's environment injected, for the editor integration.

Pure: a base launch configuration (as in `launch.json`) and the session's variables in, a copy
named "<name> with Kubernetes" (as the original product named it) out, with the workstation ports
the program must listen on (the redirected ports).

Two ways to inject, for every supported type (debugpy/python, node/pwa-node, coreclr, go, java):

- `envFile`: the configuration points at the session's 0600 env file, so the values never enter
  `launch.json` or the editor's settings. Used when an env file is given and the configuration has
  no `envFile` of its own (most of these debuggers accept one file only; the user's file would be
  lost, so then the variables are merged into `env` instead, with a note).
- `env`: the variables merged into the configuration's `env`.

Precedence, both ways: the cluster's variables win over the workstation's inherited environment,
except the keys the user set explicitly in the configuration's `env`, which win over the cluster
(they were written there on purpose, e.g. a debug flag or a log level; the debuggers themselves
also let `env` beat `envFile`). The names the user's keys shadow are listed in the notes.

An `attach` configuration cannot receive an environment (the process already runs): refused with
what to do instead.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from kubelocal.engine import endpoints, errors

SUPPORTED_TYPES = ("debugpy", "python", "node", "pwa-node", "coreclr", "go", "java")
SUFFIX = " with Kubernetes"


@dataclasses.dataclass(frozen=True)
class LaunchPlan:
    """The configuration to launch, and the workstation ports the program must listen on."""

    configuration: dict[str, Any]
    listen_ports: tuple[int, ...]
    injected_as: str  # "env" or "envFile"
    notes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        # The configuration may hold env values (secrets): show its name only.
        return (
            f"LaunchPlan(name={self.configuration.get('name')!r}, injected_as={self.injected_as!r}, "
            f"listen_ports={self.listen_ports}, notes={list(self.notes)})"
        )


def with_kubernetes(
    configuration: Mapping[str, Any],
    *,
    variables: Mapping[str, str],
    redirected: Sequence[endpoints.RedirectedPort] = (),
    env_file: str | None = None,
) -> LaunchPlan:
    """A copy of `configuration` that runs with the cluster's environment; see the module docstring."""
    debug_type = str(configuration.get("type", ""))
    name = str(configuration.get("name") or "Launch")
    if debug_type not in SUPPORTED_TYPES:
        raise errors.LaunchError(
            f"Launch configuration {name!r} has type {debug_type!r}, which kubelocal cannot inject an "
            f"environment into. Supported: {', '.join(SUPPORTED_TYPES)}; for others run the program with "
            "`kubelocal connect -- COMMAND` or load the env file yourself."
        )
    if configuration.get("request") == "attach":
        raise errors.LaunchError(
            f"Launch configuration {name!r} attaches to a running process, which cannot receive an "
            "environment. Use a `launch` configuration, or start the process with "
            "`kubelocal connect -- COMMAND` and attach to it."
        )
    result = copy.deepcopy(dict(configuration))
    result["name"] = name + SUFFIX
    user_env = dict(result.get("env") or {})
    shadowed = sorted(key for key in user_env if key in variables)
    notes = []
    if shadowed:
        notes.append(
            f"Kept from the configuration's env (they win over the cluster's): {', '.join(shadowed)}."
        )

    if env_file is not None and not result.get("envFile"):
        result["envFile"] = env_file
        injected_as = "envFile"
    else:
        if env_file is not None:
            notes.append(
                "The configuration already has an envFile, so the cluster's variables are merged into env."
            )
        result["env"] = {**variables, **user_env}
        injected_as = "env"
    listen_ports = tuple(port.workstation_port for port in redirected)
    return LaunchPlan(
        configuration=result, listen_ports=listen_ports, injected_as=injected_as, notes=tuple(notes)
    )
