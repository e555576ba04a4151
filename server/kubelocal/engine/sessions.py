"""Session state on the workstation: `~/.kubelocal/sessions/<id>.json` (`KUBELOCAL_HOME` overrides).

One file per session, written atomically with mode 0600 (it holds the ledger, whose bodies may
hold a workload's env values). It says where the session is (context, namespace, service), which
process runs it (pid, host) and what to undo (the ledger), so `kubelocal status` and later runs
see a session started elsewhere (the editor), and a session whose process died is cleaned up on
the next start by replaying its ledger.

The pure part (records of main's format, ids, paths, crash-recovery decisions):

Session records: what `~/.kubelocal/sessions/<id>.json` holds, so `kubelocal status`, the editor
and later runs see a session started elsewhere, and a crashed one is cleaned up on the next start.

Pure: records to and from JSON, the file's place under a given home directory, and the decisions of
crash recovery. Reading and writing the files (0600, `environment.write_private_file`) is the shell's.

A session is *stale* when its record says it ran on this workstation and its process is gone: its
undos are owed (`record.ledger.undos()`, newest first). The restore Job may have done the cluster
ones already; the executors treat "already undone" as success, so replaying them all is safe. A
session started on another workstation is never judged from here (its process id means nothing
here); `kubelocal disconnect --session` can still replay its cluster undos from the Secret.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import secrets
import socket
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kubelocal.engine import errors, hosts, ledgers, names

FORMAT = "kubelocal-session"
VERSION = 1
DIRECTORY = Path(".kubelocal") / "sessions"


@dataclasses.dataclass(frozen=True)
class SessionRecord:
    """One session as the workstation knows it. `mode` is "hosts" or "no-admin"; `hosts_path` is
    the hosts file written (None in no-admin mode); `env_file` the 0600 env file."""

    session_id: str
    context: str
    namespace: str
    service: str
    workload_kind: str
    workload_name: str
    container: str
    owner: str
    workstation: str
    pid: int
    started: str
    mode: str
    env_file: str | None
    hosts_path: str | None
    ledger: ledgers.Ledger = dataclasses.field(repr=False)

    def to_json(self) -> str:
        document: dict[str, Any] = {"format": FORMAT, "version": VERSION}
        for item in dataclasses.fields(self):
            if item.name != "ledger":
                document[item.name] = getattr(self, item.name)
        document["ledger"] = json.loads(self.ledger.to_json())
        return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def from_json(text: str | bytes) -> SessionRecord:
    """Read a record back; a malformed or foreign file -> `LedgerError` naming what to do."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise _unreadable(f"it is not JSON ({error.__class__.__name__})") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _unreadable("it is not a kubelocal session record")
    if not isinstance(document.get("version"), int) or document["version"] > VERSION:
        raise errors.LedgerError(
            f"The session record was written by a newer kubelocal (format {document.get('version')}). "
            "Upgrade kubelocal to see or disconnect that session."
        )
    try:
        values = {
            item.name: document[item.name]
            for item in dataclasses.fields(SessionRecord)
            if item.name != "ledger"
        }
        values["pid"] = int(values["pid"])
        return SessionRecord(**values, ledger=ledgers.from_json(json.dumps(document["ledger"])))
    except (KeyError, TypeError, ValueError) as error:
        raise _unreadable(f"a field is missing or malformed ({error})") from error


def _unreadable(why: str) -> errors.LedgerError:
    return errors.LedgerError(
        f"A session record cannot be read: {why}. Delete it from ~/.kubelocal/sessions/ after checking "
        "that the cluster holds no kubelocal objects (label app.kubernetes.io/managed-by=kubelocal)."
    )


def new_session_id(entropy: bytes) -> str:
    """A session id from at least 5 random bytes (the caller's `os.urandom`): 8 base32 characters,
    lowercase letters and digits, valid in names, labels and file names."""
    if len(entropy) < 5:
        raise ValueError("a session id needs at least 5 random bytes")
    session_id = base64.b32encode(entropy[:5]).decode().lower()
    assert names.is_valid_session_id(session_id)
    return session_id


def record_path(home: str | Path, session_id: str) -> Path:
    """Where the record of `session_id` lives under `home`."""
    if not names.is_valid_session_id(session_id):
        raise ValueError(f"invalid session id {session_id!r}")
    return Path(home) / DIRECTORY / f"{session_id}.json"


def stale(
    records: Iterable[SessionRecord], *, workstation: str, is_alive: Callable[[int], bool]
) -> list[SessionRecord]:
    """The records of sessions that ran on this workstation and whose process is gone."""
    return [r for r in records if r.workstation == workstation and not is_alive(r.pid)]


def orphaned_hosts_blocks(hosts_text: str, *, live_sessions: Iterable[str]) -> list[str]:
    """Sessions whose block is still in the hosts file but which no live session owns: remove
    them with `hosts.remove(text, session_id=...)` (also when their record was lost)."""
    live = set(live_sessions)
    return [session for session in hosts.sessions_in(hosts_text) if session not in live]


# -- the shell: session state files on this workstation -----------------------------------------

HOME_ENV = "KUBELOCAL_HOME"


def home() -> Path:
    return Path(os.environ.get(HOME_ENV) or Path("~/.kubelocal").expanduser())


def directory() -> Path:
    return home() / "sessions"


def new_id() -> str:
    """8 lowercase letters and digits: valid in names, labels and file names."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


@dataclasses.dataclass(frozen=True)
class Record:
    """What a session's file holds. `details` is free-form, for `status` (mode, endpoints, files)."""

    session_id: str
    context: str
    kubeconfig: str
    namespace: str
    service: str
    pid: int
    host: str
    started: str
    ledger: ledgers.Ledger
    state: str = "connecting"  # connecting | connected | disconnecting
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> str:
        document = dataclasses.asdict(self) | {"format": FORMAT, "version": VERSION}
        document["ledger"] = json.loads(self.ledger.to_json())
        return json.dumps(document, indent=1, sort_keys=True)

    @property
    def alive(self) -> bool:
        """Whether the process that runs the session still exists (on this host)."""
        if self.host != socket.gethostname():
            return True  # another machine sharing the home directory: assume it is alive
        return pid_alive(self.pid)


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def path_of(session_id: str) -> Path:
    return directory() / f"{session_id}.json"


def save(record: Record) -> Path:
    """Write the record atomically (temp file + rename), mode 0600, the directory 0700."""
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = path_of(record.session_id)
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{record.session_id}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(record.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return target


def load(session_id: str) -> Record:
    """The record of `session_id`; FileNotFoundError if none; LedgerError if the ledger is unreadable."""
    document = json.loads(path_of(session_id).read_text(encoding="utf-8"))
    return _record(document)


def _record(document: dict[str, Any]) -> Record:
    ledger = ledgers.from_json(json.dumps(document["ledger"]))
    fields = {field.name for field in dataclasses.fields(Record)} - {"ledger"}
    return Record(ledger=ledger, **{key: document[key] for key in fields if key in document})


def all_records() -> list[Record]:
    """Every readable session record, oldest first; unreadable files are skipped."""
    folder = directory()
    if not folder.is_dir():
        return []
    records = []
    for path in sorted(folder.glob("*.json")):
        try:
            records.append(_record(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(records, key=lambda record: record.started)


def remove(session_id: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        path_of(session_id).unlink()
