"""Download a volume's files from the agent pod into a workstation directory.

The agent sends the files under a mount path as an uncompressed tar stream (`volume` stream).
The archive is read whole (bounded by `limit`: volumes worth downloading are ConfigMaps, Secrets
and service-account tokens, not data sets) and extracted with the standard library's `data`
filter, which refuses absolute paths, `..` and links pointing outside the directory. Kubernetes
volumes are symlink farms (`key -> ..data/key`); the links are kept as they are.
"""

from __future__ import annotations

import asyncio
import io
import tarfile
from pathlib import Path

from kubelocal.engine import tunneling
from kubelocal_agent.protocol import targets as agent_targets

DEFAULT_LIMIT = 64 * 1024 * 1024


async def download_volume(
    tunnel: tunneling.Tunnel, *, pod_path: str, directory: Path, limit: int = DEFAULT_LIMIT
) -> int:
    """Extract the files under `pod_path` into `directory` (created 0700); returns the bytes read.

    Raises `agent errors.StreamReset` when the path does not exist in the pod, ValueError when
    the archive is larger than `limit` or unsafe.
    """
    stream = await tunnel.open_stream(agent_targets.volume(path=pod_path))
    await stream.write_eof()
    data = await stream.read_all(limit=limit)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    await asyncio.to_thread(_extract, data, directory)
    return len(data)


def _extract(data: bytes, directory: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        try:
            archive.extractall(directory, filter="data")
        except tarfile.FilterError as error:
            raise ValueError(f"the volume archive holds an unsafe entry: {error}") from error
