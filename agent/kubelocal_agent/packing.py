"""Pack the agent as a zipapp: `python agent.pyz` runs it on any image with Python >= 3.11.

`build()` is deterministic (sorted entries, fixed timestamps and permissions, only `.py` files),
so the SHA-256 of its bytes identifies the agent's version: the engine names the ConfigMap
after it and reuses one already in the cluster. Run `python -m kubelocal_agent.packing OUT` to
write the file.
"""

from __future__ import annotations

import hashlib
import io
import sys
import zipfile
from pathlib import Path

import kubelocal_agent

SHEBANG = b"#!/usr/bin/env python3\n"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
MAIN = b"import runpy\nrunpy.run_module('kubelocal_agent', run_name='__main__', alter_sys=True)\n"


def package_dir() -> Path:
    return Path(kubelocal_agent.__file__).parent


def sources(root: Path) -> list[tuple[str, bytes]]:
    """(archive name, content) of every `.py` file of the package under `root`, sorted."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        name = (Path(root.name) / path.relative_to(root)).as_posix()
        found.append((name, path.read_bytes()))
    return found


def build(files: list[tuple[str, bytes]] | None = None) -> bytes:
    """The zipapp bytes: a shebang, then a zip with `__main__.py` and the package's files."""
    entries = sorted([("__main__.py", MAIN), *(files if files is not None else sources(package_dir()))])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix, so the permissions above mean the same on every workstation.
            archive.writestr(info, content, compresslevel=9)
    return SHEBANG + buffer.getvalue()


def digest(pyz: bytes) -> str:
    """The version identifier of a packed agent: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(pyz).hexdigest()[:16]


def write(target: Path) -> str:
    """Write the zipapp to `target` (executable) and return its digest."""
    pyz = build()
    target.write_bytes(pyz)
    target.chmod(0o755)
    return digest(pyz)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m kubelocal_agent.packing OUTPUT.pyz")
    print(write(Path(sys.argv[1])))
