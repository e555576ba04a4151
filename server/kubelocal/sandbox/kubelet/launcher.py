"""Turns the kubelet's plan for one container into the container's process (run as a script).

Usage: `python -I -S launcher.py SPEC.json`, usually under `ip netns exec <pod netns>`. Standard
library only and no kubelocal imports: it runs before the container's program replaces it.

Why a private root rather than bind mounts on the workstation's paths: a container's
`volumeMounts[].mountPath` (e.g. `/agent`, `/var/run/secrets/kubernetes.io/serviceaccount`)
usually does not exist on the workstation, and the kubelet must never create or change files there.
So, in a mount namespace of its own, the launcher builds the container's root on a tmpfs at
`rootfs`: every top-level entry of the real `/` bind-mounted in (recursively), and wherever a mount
path does not exist, the directory above it "shadowed" by a tmpfs holding bind mounts of its real
entries plus the new directory. Volumes are then bind-mounted on their paths (read-only where the
volume is), `/etc/hosts`, `/etc/resolv.conf` and `/etc/hostname` become symlinks into the pod's
DNS directory (so the kubelet's atomic rewrites are seen at once), and the launcher chroots into
the root and execs the program. Every mount lives in that namespace only and vanishes with the
container's last process; the real filesystem is never written outside the kubelet's state dir.

The process gets a UTS namespace too (its own hostname, the pod's), dies with the kubelet
(PR_SET_PDEATHSIG), and exits 128 when it cannot start, as a container runtime reports it.

When the launcher cannot make namespaces (not root), it says so on stderr and runs the program
without mounts, in `working_dir`.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys

MS_RDONLY = 1
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
PR_SET_PDEATHSIG = 1
START_ERROR_EXIT_CODE = 128
DNS_FILES = ("hosts", "resolv.conf", "hostname")
DNS_MOUNT = "/.kubelocal/dns"

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            flags,
            data.encode() if data else None,
        ),
        f"mount {source} on {target}",
    )


class Root:
    """The container's root under construction; `sources` maps root paths to what backs them."""

    def __init__(self, rootfs: str, writable_roots: list[str]) -> None:
        self.rootfs = rootfs.rstrip("/")
        # None: a tmpfs of ours (free to write); a path: the real directory bound there.
        self.sources: dict[str, str | None] = {self.rootfs: None}
        self.writable_roots = [w.rstrip("/") + "/" for w in writable_roots]

    def _source_of(self, path: str) -> str | None:
        probe = path
        while True:
            if probe in self.sources:
                backing = self.sources[probe]
                return None if backing is None else backing + path[len(probe) :]
            if probe == self.rootfs or "/" not in probe:
                return None
            probe = probe.rsplit("/", 1)[0]

    def _writable(self, directory: str) -> bool:
        backing = self._source_of(directory)
        return backing is None or any((backing + "/").startswith(w) for w in self.writable_roots)

    def mirror(self, directory: str, real: str, *, skip: tuple[str, ...] = ()) -> None:
        """Fill `directory` (a fresh tmpfs) with bind mounts of `real`'s entries."""
        for entry in os.scandir(real):
            if entry.name in skip:
                continue
            target = f"{directory}/{entry.name}"
            try:
                if entry.is_symlink():
                    os.symlink(os.readlink(entry.path), target)
                    continue
                if entry.is_dir():
                    os.mkdir(target)
                else:
                    open(target, "a").close()
                mount(entry.path, target, None, MS_BIND | MS_REC)
                self.sources[target] = entry.path
            except OSError as error:  # an entry we cannot mirror is left out, never fatal
                print(f"kubelocal launcher: leaving out {entry.path}: {error}", file=sys.stderr)

    def shadow(self, directory: str, *, skip: tuple[str, ...] = ()) -> None:
        """Cover `directory` with a tmpfs mirroring its current content, so it becomes writable."""
        real = self._source_of(directory)
        mount("tmpfs", directory, "tmpfs", 0, "mode=755")
        self.sources[directory] = None
        if real is not None:
            self.mirror(directory, real, skip=skip)

    def ensure(self, container_path: str, *, directory: bool) -> str:
        """The root path of `container_path`, created (directory or empty file) if missing."""
        parts = [p for p in container_path.split("/") if p and p != "."]
        current = self.rootfs
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                current = current.rsplit("/", 1)[0] if current != self.rootfs else current
                continue
            candidate = f"{current}/{part}"
            if os.path.islink(candidate):
                hops += 1
                if hops > 40:
                    raise OSError(f"too many symlinks under {container_path}")
                link = os.readlink(candidate)
                parts = [p for p in link.split("/") if p] + parts
                if link.startswith("/"):
                    current = self.rootfs
                continue
            if not os.path.lexists(candidate):
                if not self._writable(current):
                    self.shadow(current)
                if parts or directory:
                    os.mkdir(candidate, 0o755)
                else:
                    open(candidate, "a").close()
            current = candidate
        return current

    def bind(self, source: str, container_path: str, *, read_only: bool) -> None:
        target = self.ensure(container_path, directory=os.path.isdir(source))
        mount(source, target, None, MS_BIND | MS_REC)
        if read_only:
            mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
        self.sources[target] = source

    def use_dns(self, dns_dir: str) -> None:
        """/etc/{hosts,resolv.conf,hostname} -> symlinks into a read-only bind of `dns_dir`."""
        self.bind(dns_dir, DNS_MOUNT, read_only=True)
        etc = self.ensure("/etc", directory=True)
        if self._source_of(etc) is not None:
            self.shadow(etc, skip=DNS_FILES)
        for name in DNS_FILES:
            target = f"{etc}/{name}"
            if os.path.lexists(target):
                os.unlink(target)
            os.symlink(f"{DNS_MOUNT}/{name}", target)


def build(spec: dict) -> None:
    """Namespaces, root, mounts, chroot and cwd for `spec` (raises OSError on failure)."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWUTS), "unshare")
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    hostname = spec.get("hostname", "").encode()
    if hostname:
        _check(_libc.sethostname(hostname, len(hostname)), "sethostname")
    rootfs = spec["rootfs"]
    mount("tmpfs", rootfs, "tmpfs", 0, "mode=755")
    root = Root(rootfs, spec.get("writable_roots", []))
    root.mirror(root.rootfs, "/")
    # Other pods' network namespaces are mounted under /run/netns; a container keeping copies of
    # those mounts would keep every pod's namespace alive after it is deleted.
    for netns_dir in ("/run/netns",):
        while _libc.umount2(f"{rootfs}{netns_dir}".encode(), MNT_DETACH) == 0:
            pass
    if spec.get("dns_dir"):  # before the volumes: a volume under /etc must find /etc shadowed already
        root.use_dns(spec["dns_dir"])
    for volume_mount in spec.get("mounts", []):
        root.bind(
            volume_mount["source"], volume_mount["target"], read_only=volume_mount.get("readOnly", False)
        )
    working_dir = spec.get("working_dir") or "/"
    root.ensure(working_dir, directory=True)
    os.chroot(rootfs)
    os.chdir(working_dir)


def main(argv: list[str]) -> None:
    with open(argv[1]) as spec_file:
        spec = json.load(spec_file)
    os.unlink(argv[1])  # it holds the container's env, secrets included: keep it no longer than needed
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the kubelet died before prctl took effect
        os._exit(START_ERROR_EXIT_CODE)
    try:
        build(spec)
    except OSError as error:
        if error.errno != 1 or not spec.get("allow_unisolated"):
            print(f"kubelocal launcher: cannot set up the container: {error}", file=sys.stderr)
            os._exit(START_ERROR_EXIT_CODE)
        print(
            "kubelocal launcher: no permission for mount namespaces; the container runs without its "
            f"volume mounts, in {spec.get('unisolated_dir')} (run the sandbox as root for mounts)",
            file=sys.stderr,
        )
        os.chdir(spec.get("unisolated_dir") or "/")
    sys.stdout.flush()
    sys.stderr.flush()
    argv_out = spec["argv"]
    try:
        os.execvpe(argv_out[0], argv_out, spec["env"])
    except OSError as error:
        print(f"kubelocal launcher: cannot run {argv_out[0]!r}: {error.strerror}", file=sys.stderr)
        os._exit(START_ERROR_EXIT_CODE)


if __name__ == "__main__":
    main(sys.argv)
