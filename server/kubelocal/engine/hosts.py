"""The hosts-file block of a session: render it, insert it, remove it; and write the file safely.

The block (hosts mode) maps each endpoint's names to its loopback IP, between markers::

    # Added by kubelocal (session 3f9a2c1b)
    127.1.1.1\tapi api.shop api.shop.svc api.shop.svc.cluster.local
    # End of kubelocal section

Text functions are pure and keep everything else byte for byte (line endings included):

- `insert` first removes the session's old block (idempotent), then appends the new one using the
  file's newline style. `remove(insert(text))` gives back `text` exactly, also when `text` does
  not end with a newline (the block then ends without one, which is how `remove` knows to take
  back the newline it added).
- `remove` takes out the blocks of one session (or of all sessions: crash cleanup). It never
  deletes a user's line: inside a complete block only lines in exactly the entry format are
  removed, and anything else a person added there stays; a half block (a begin marker without its
  end, e.g. cut by hand) loses only its marker and the entry lines directly under it; a stray end
  marker is dropped only when removing all sessions. The original product's block
  (`# Added by Bridge To Kubernetes`) is not ours and is left alone.

`write_hosts_atomically` is the one I/O function here: backup first, then a temp file in the same
directory, fsync, rename over the original, keeping its permissions; where the file cannot be
replaced by rename (a bind-mounted /etc/hosts in a container) it is rewritten in place.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from kubelocal.engine import endpoints

BEGIN = "# Added by kubelocal (session {session})"
END = "# End of kubelocal section"
_BEGIN = re.compile(r"^# Added by kubelocal \(session ([a-z0-9]+)\)$")
_ENTRY = re.compile(r"^127\.\d{1,3}\.\d{1,3}\.\d{1,3}\t[^\s#]+(?: [^\s#]+)*$")
ENCODING = "utf-8"
ERRORS = "surrogateescape"  # any bytes a hosts file holds survive a read/write round trip

Entry = tuple[str, tuple[str, ...]]


def entries_for(plan: endpoints.EndpointPlan) -> list[Entry]:
    """(IP, names) for every endpoint with names, in the plan's order (hosts mode)."""
    return [(e.workstation_ip, e.hostnames) for e in plan.endpoints if e.hostnames]


def render(session_id: str, entries: Iterable[Entry], *, newline: str = "\n") -> str:
    """The block's lines joined by `newline`, without a final newline."""
    lines = [BEGIN.format(session=session_id)]
    lines += [f"{ip}\t{' '.join(hostnames)}" for ip, hostnames in entries]
    lines.append(END)
    return newline.join(lines)


def insert(text: str, *, session_id: str, entries: Iterable[Entry]) -> str:
    """`text` with the session's block (replacing any older block of the same session) at the end."""
    base = remove(text, session_id=session_id)
    newline = "\r\n" if "\r\n" in base else "\n"
    block = render(session_id, entries, newline=newline)
    if base == "" or base.endswith("\n"):
        return base + block + newline
    return base + newline + block


def remove(text: str, *, session_id: str | None = None) -> str:
    """`text` without the blocks of `session_id` (all kubelocal blocks when None); see module doc."""
    lines = _lines(text)
    out: list[str] = []
    index = 0
    while index < len(lines):
        content = _content(lines[index])
        begin = _BEGIN.fullmatch(content)
        if begin and (session_id is None or begin.group(1) == session_id):
            index = _drop_block(lines, index, out)
            continue
        if session_id is None and content == END:
            index += 1  # a stray end marker: ours, and no block left to close
            continue
        out.append(lines[index])
        index += 1
    return "".join(out)


def sessions_in(text: str) -> list[str]:
    """Session ids of the blocks in `text`, in order, for crash cleanup of dead sessions."""
    found = [_BEGIN.fullmatch(_content(line)) for line in _lines(text)]
    return list(dict.fromkeys(match.group(1) for match in found if match))


def _lines(text: str) -> list[str]:
    # Only "\n" ends a line: splitlines() would also split on \x0b, \x1c, \u2028... that are text here.
    return [line for line in re.split(r"(?<=\n)", text) if line]


def _content(line: str) -> str:
    if line.endswith("\n"):
        line = line[:-1]
        if line.endswith("\r"):
            line = line[:-1]
    return line


def _newline_of(line: str) -> str:
    return "\r\n" if line.endswith("\r\n") else "\n"


def _drop_block(lines: Sequence[str], begin: int, out: list[str]) -> int:
    """Drop the block starting at `begin`, keep user lines into `out`; return the index after it."""
    end = begin + 1
    while end < len(lines) and _content(lines[end]) != END and not _BEGIN.fullmatch(_content(lines[end])):
        end += 1
    kept: list[str] = []
    complete = end < len(lines) and _content(lines[end]) == END
    if complete:
        kept = [line for line in lines[begin + 1 : end] if not _ENTRY.fullmatch(_content(line))]
        last = end
    else:
        last = begin
        while last + 1 < len(lines) and _ENTRY.fullmatch(_content(lines[last + 1])):
            last += 1
    unterminated = last == len(lines) - 1 and not lines[last].endswith("\n")
    if complete and unterminated and not kept and out:
        # `insert` added this newline after text that had none (so the line before it has content);
        # half blocks are never written by `insert`, and the newline before them is the user's.
        newline = _newline_of(lines[begin])
        if out[-1].endswith(newline) and len(out[-1]) > len(newline):
            out[-1] = out[-1][: -len(newline)]
    out.extend(kept)
    return last + 1


# --- I/O --------------------------------------------------------------------------------------------------


def read_hosts(path: str | os.PathLike[str]) -> str:
    """The hosts file as text, every byte preserved (line endings, stray encodings)."""
    return Path(path).read_bytes().decode(ENCODING, ERRORS)


def write_hosts_atomically(
    path: str | os.PathLike[str], new_text: str, *, backup_path: str | os.PathLike[str]
) -> None:
    """Replace the file at `path` with `new_text`, never leaving it half written.

    The current contents go to `backup_path` first (fsynced). The new text is written to a temp
    file in the same directory with the original's permission bits (and owner, where allowed),
    fsynced, and renamed over `path`. If the rename is refused because `path` is a mount point
    (EBUSY, EXDEV: Docker's bind-mounted /etc/hosts), the file is rewritten in place instead.
    A missing `path` is created with mode 0644.
    """
    target = Path(path)
    data = new_text.encode(ENCODING, ERRORS)
    try:
        status: os.stat_result | None = target.stat()
        current = target.read_bytes()
    except FileNotFoundError:
        status, current = None, b""
    mode = stat.S_IMODE(status.st_mode) if status else 0o644
    _write_durably(Path(backup_path), current, mode=mode)

    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.kubelocal-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        if status is not None and hasattr(os, "chown"):
            with contextlib.suppress(PermissionError):
                os.chown(temporary, status.st_uid, status.st_gid)
        try:
            os.replace(temporary, target)
        except OSError as error:
            if error.errno not in (errno.EBUSY, errno.EXDEV):
                raise
            with open(target, "r+b") as handle:
                handle.truncate(0)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        _fsync_directory(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _write_durably(path: Path, data: bytes, *, mode: int) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, mode)


def _fsync_directory(directory: Path) -> None:
    if os.name != "posix":
        return  # Windows cannot open a directory for fsync; its rename is durable enough.
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
