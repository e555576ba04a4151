"""The server's settings and which documents it serves: pure.

Settings arrive as `initializationOptions` and later through `workspace/didChangeConfiguration`,
either at the top level or under a `kubelocal` key, with these (all optional) camelCase fields:

- `configFilePatterns` (the editor contract's name; `configFileGlobs` is read too, and wins when
  both are given) (list of strings): extra files to serve besides every
  `KubernetesLocalProcessConfig.yaml`, as globs (`*`, `?`, `**`) matched against the file's path; a
  glob without `/` matches the file name in any folder (`*.kubelocal.yaml`), one with `/` matches the
  end of the path (`deploy/**/local-*.yaml`). A client that associates other YAML files with our
  schema (as yaml-language-server's `yaml.schemas` does) passes those globs here.
- `diagnosticsDelayMs` (number, default 150): how long typing must pause before the file is checked.
- `clusterCompletion` (boolean, default true): offer service, namespace and volume names read from the
  cluster of the current kubeconfig context.
- `clusterTimeoutSeconds` (number, default 3) and `clusterCacheSeconds` (number, default 60): how
  long one read from the cluster may take, and how long what was read is reused.
- `useEnvFile` (boolean, default true): `kubelocal.server.launchConfiguration` points the debug
  configuration at the session's env file (`envFile`), so no secret value lands in it, rather than
  copying the variables into its `env`; a request's own `useEnvFile` argument wins.
- `maxFileSizeBytes` (integer, default 2,000,000): larger files are not checked (a config file is a
  few kilobytes; checking megabytes would only cost memory), and say so in one diagnostic.

A field with the wrong type is ignored with a message naming it; the other fields still apply.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

CONFIG_FILE_NAME = "KubernetesLocalProcessConfig.yaml"


@dataclass(frozen=True)
class Settings:
    config_file_globs: tuple[str, ...] = ()
    diagnostics_delay_seconds: float = 0.15
    cluster_completion: bool = True
    cluster_timeout_seconds: float = 3.0
    cluster_cache_seconds: float = 60.0
    max_file_size_bytes: int = 2_000_000
    use_env_file: bool = True


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


def updated(settings: Settings, options: object) -> tuple[Settings, list[str]]:
    """`settings` with the fields `options` sets, and a message for each field it could not use."""
    if not isinstance(options, Mapping):
        return settings, [] if options is None else ["kubelocal settings must be an object; ignored them."]
    if isinstance(options.get("kubelocal"), Mapping):
        options = options["kubelocal"]
    changes: dict[str, Any] = {}
    complaints: list[str] = []

    def complain(name: str, expected: str) -> None:
        complaints.append(f"kubelocal setting {name!r} must be {expected}; ignored it.")

    for name in ("configFilePatterns", "configFileGlobs"):
        if name in options:
            globs = options[name]
            if isinstance(globs, list) and all(isinstance(glob, str) for glob in globs):
                changes["config_file_globs"] = tuple(globs)
            else:
                complain(name, "a list of glob strings")
    numbers = {
        "diagnosticsDelayMs": ("diagnostics_delay_seconds", 1000.0),
        "clusterTimeoutSeconds": ("cluster_timeout_seconds", 1.0),
        "clusterCacheSeconds": ("cluster_cache_seconds", 1.0),
    }
    for name, (field_name, per_second) in numbers.items():
        if name in options:
            number = _number(options[name])
            if number is None:
                complain(name, "a number >= 0")
            else:
                changes[field_name] = number / per_second
    switches = {"clusterCompletion": "cluster_completion", "useEnvFile": "use_env_file"}
    for name, field_name in switches.items():
        if name in options:
            if isinstance(options[name], bool):
                changes[field_name] = options[name]
            else:
                complain(name, "true or false")
    if "maxFileSizeBytes" in options:
        number = _number(options["maxFileSizeBytes"])
        if number is None:
            complain("maxFileSizeBytes", "a number >= 0")
        else:
            changes["max_file_size_bytes"] = int(number)
    return dataclasses.replace(settings, **changes), complaints


@functools.lru_cache(maxsize=64)
def _glob_pattern(glob: str) -> re.Pattern[str]:
    parts: list[str] = []
    index = 0
    while index < len(glob):
        if glob.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
        elif glob.startswith("**", index):
            parts.append(".*")
            index += 2
        elif glob[index] == "*":
            parts.append("[^/]*")
            index += 1
        elif glob[index] == "?":
            parts.append("[^/]")
            index += 1
        else:
            parts.append(re.escape(glob[index]))
            index += 1
    anchor = "^" if glob.startswith("/") else "(?:^|/)"
    return re.compile(anchor + "".join(parts) + "$")


def path_of(uri: str) -> str:
    """The path part of a document URI (`file:///a/b.yaml` -> `/a/b.yaml`), decoded."""
    return unquote(urlparse(uri).path)


def applies_to(uri: str, settings: Settings) -> bool:
    """Whether the server serves the document at `uri`: our file name, or a configured glob."""
    path = path_of(uri)
    if path.rsplit("/", 1)[-1] == CONFIG_FILE_NAME:
        return True
    return any(_glob_pattern(glob).search(path) for glob in settings.config_file_globs)
