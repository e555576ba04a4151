"""Writes volume plans into per-pod directories, with the kubelet's atomic layout.

Like a kubelet's AtomicWriter: the files go to a fresh `..<timestamp>` directory, `..data` is a
symlink switched to it by rename, and each top-level entry is a symlink through `..data`. A
rewrite (e.g. a changed ConfigMap) is therefore seen all at once by a running container.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import shutil

from kubelocal.sandbox.kubelet import volumes

DATA_LINK = "..data"


def write_files(directory: pathlib.Path, files: tuple[volumes.File, ...]) -> None:
    """Make `directory` hold exactly `files` (atomic switch; the previous generation is removed)."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("..%Y_%m_%d_%H_%M_%S.%f")
    generation = directory / stamp
    generation.mkdir()
    for file in files:
        target = generation / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(file.content)
        os.chmod(target, file.mode & 0o7777)
    data_link = directory / DATA_LINK
    previous = os.readlink(data_link) if data_link.is_symlink() else None
    temporary = directory / "..data_tmp"
    if temporary.is_symlink():
        temporary.unlink()
    os.symlink(stamp, temporary)
    os.replace(temporary, data_link)
    top_level = {file.path.split("/", 1)[0] for file in files}
    for name in top_level:
        link = directory / name
        if not link.is_symlink():
            os.symlink(f"{DATA_LINK}/{name}", link)
    for entry in directory.iterdir():
        if entry.is_symlink() and not entry.name.startswith("..") and entry.name not in top_level:
            entry.unlink()
    if previous and previous != stamp:
        shutil.rmtree(directory / previous, ignore_errors=True)


def prepare(directory: pathlib.Path, plan: volumes.Plan) -> pathlib.Path:
    """Create the volume's directory; return what containers mount (the host path for hostPath)."""
    if plan.kind == "files":
        write_files(directory, plan.files)
        return directory
    if plan.kind == "hostPath" and plan.host_path and os.path.exists(plan.host_path):
        return pathlib.Path(plan.host_path)
    directory.mkdir(parents=True, exist_ok=True)
    return directory
