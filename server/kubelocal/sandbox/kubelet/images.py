"""Which local program an image runs: the sandbox's image registry.

- Stock Python images (`python`, `python:3.12`, `python:3.12-slim`, `docker.io/library/python:...`)
  run the container's command and args with the workstation's Python: `python`, `python3` and
  `python3.X` as the program name become `sys.executable`. Without a command they run `python3`,
  as the image's CMD does.
- Registered images (the sample app's `kubelocal-samples/<name>:<tag>`) run the program the
  registry names for them, with Kubernetes' rules: the container's `command` replaces the image's
  entrypoint, its `args` replace the image's default args.
- Every other image has no program: the kubelet runs a stand-in for it (see `standin`), except
  images of a registry under `.invalid` (a top-level domain reserved never to resolve, RFC 2606):
  they fail to pull, as on a real cluster (`pull_failure`), so "an image that does not exist" can
  be tested the same way here and there.

Registrations come from `register()` and from a JSON file, by default `samples/images.json` in
the repository (or the file named by $KUBELOCAL_SANDBOX_IMAGES), read when present:

    {"kubelocal-samples/front:1": {"command": ["python", "front/app.py"], "args": [],
                                   "workingDir": ".", "env": {"PORT": "8080"}}}

A relative `workingDir` is taken relative to the directory of that JSON file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import re
import sys

IMAGES_FILE_VARIABLE = "KUBELOCAL_SANDBOX_IMAGES"
DEFAULT_IMAGES_FILE = pathlib.Path(__file__).resolve().parents[4] / "samples" / "images.json"
_PYTHON_NAME = re.compile(r"^python(3(\.\d+)?)?$")
_PYTHON_REPOSITORIES = {"python", "library/python", "docker.io/library/python", "docker.io/python"}


@dataclasses.dataclass(frozen=True)
class ImageConfig:
    """What an image runs by default (its ENTRYPOINT and CMD) and where."""

    entrypoint: tuple[str, ...] = ()
    default_args: tuple[str, ...] = ()
    working_dir: str | None = None
    env: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class Program:
    """A container's resolved program: argv (argv[0] a path or a name found on PATH), cwd, env."""

    argv: tuple[str, ...]
    working_dir: str | None
    image_env: tuple[tuple[str, str], ...]


def repository(image: str) -> str:
    """The image reference without tag or digest (`python:3.12-slim` -> `python`)."""
    name = image.split("@", 1)[0]
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > last_slash else name


def registry_host(image: str) -> str:
    """The registry host of an image reference ("" for Docker Hub's short names)."""
    first, slash, _ = image.partition("/")
    return first if slash and ("." in first or ":" in first or first == "localhost") else ""


def pull_failure(image: str) -> str | None:
    """Why pulling `image` fails, worded as the kubelet words it; None when it can be "pulled"."""
    host = registry_host(image)
    if host.split(":")[0].endswith(".invalid"):
        return (
            f'Failed to pull image "{image}": failed to resolve reference "{image}": '
            f"dial tcp: lookup {host.split(':')[0]}: no such host"
        )
    return None


def is_python_program(program: str) -> bool:
    """`python`, `python3`, `python3.12`, also as /usr/bin/... or /usr/local/bin/... (the image's paths)."""
    directory, _, name = program.rpartition("/")
    return directory in ("", "/usr/bin", "/usr/local/bin", "/bin") and bool(_PYTHON_NAME.match(name))


def is_python_image(image: str) -> bool:
    return repository(image) in _PYTHON_REPOSITORIES


class Registry:
    """Maps images to programs; see the module docstring for the rules."""

    def __init__(self, *, python: str = sys.executable, images_file: pathlib.Path | None = None) -> None:
        self._python = python
        self._registered: dict[str, ImageConfig] = {}
        path = images_file
        if path is None:
            path = pathlib.Path(os.environ.get(IMAGES_FILE_VARIABLE) or DEFAULT_IMAGES_FILE)
        if path.is_file():
            self.load(path)

    def register(
        self,
        image: str,
        *,
        command: list[str] | tuple[str, ...],
        args: list[str] | tuple[str, ...] = (),
        working_dir: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """Run `command` + `args` for `image` (exact reference, or a repository for every tag)."""
        self._registered[image] = ImageConfig(
            entrypoint=tuple(command),
            default_args=tuple(args),
            working_dir=working_dir,
            env=tuple(sorted((env or {}).items())),
        )

    def load(self, path: pathlib.Path) -> None:
        """Register every image of a JSON file (ValueError naming the file when it is malformed)."""
        try:
            entries = json.loads(path.read_text())
            for image, entry in entries.items():
                working_dir = entry.get("workingDir")
                if working_dir and not os.path.isabs(working_dir):
                    working_dir = str((path.parent / working_dir).resolve())
                self.register(
                    image,
                    command=[str(p) for p in entry.get("command") or []],
                    args=[str(p) for p in entry.get("args") or []],
                    working_dir=working_dir,
                    env={str(k): str(v) for k, v in (entry.get("env") or {}).items()},
                )
        except (ValueError, AttributeError, TypeError) as error:
            raise ValueError(
                f"{path} is not a valid image registry ({error}); it must map image names to "
                '{"command": [...], "args": [...], "workingDir": "...", "env": {...}}'
            ) from error

    def image_config(self, image: str) -> ImageConfig | None:
        """The image's defaults, or None for an image without a program (a stand-in runs)."""
        if image in self._registered:
            return self._registered[image]
        if repository(image) in self._registered:
            return self._registered[repository(image)]
        if is_python_image(image):
            return ImageConfig(default_args=("python3",))
        return None

    def program(
        self, container: dict, *, command: list[str] | None, args: list[str] | None
    ) -> Program | None:
        """The program `container` runs with its (already `$(VAR)`-expanded) command and args."""
        config = self.image_config(container.get("image", ""))
        if config is None:
            return None
        if command is not None:
            argv = [*command, *(args or [])]
        else:
            argv = [*config.entrypoint, *(args if args is not None else config.default_args)]
        if not argv:
            argv = ["python3"] if is_python_image(container.get("image", "")) else []
        if argv and is_python_program(argv[0]):
            argv[0] = self._python
        return Program(
            argv=tuple(argv),
            working_dir=container.get("workingDir") or config.working_dir,
            image_env=config.env,
        )
