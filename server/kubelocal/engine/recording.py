"""Session records on disk: `~/.kubelocal/sessions/<id>.json` (`KUBELOCAL_HOME` overrides).

One file per session, written atomically with mode 0600 (it holds the ledger, whose bodies may
hold a workload's env values). It says where the session is (context, namespace, service), which
process runs it (pid, workstation) and what to undo (the ledger), so `kubelocal status` and later
runs see a session started elsewhere (the editor), and a session whose process died is cleaned up
on the next start by replaying its ledger.

The file carries every field of the pure model `engine.sessions.SessionRecord` (so
`sessions.from_json` reads it) plus what the shell needs besides: the kubeconfig path (to
disconnect from another process), the state, and details for `status` (endpoints, agent pod).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import socket
import tempfile
from pathlib import Path
from typing import Any

from kubelocal.engine import errors, ledgers, sessions

HOME_ENV = "KUBELOCAL_HOME"
FORMAT = sessions.FORMAT
VERSION = sessions.VERSION


def home() -> Path:
    return Path(os.environ.get(HOME_ENV) or Path("~/.kubelocal").expanduser())


def directory() -> Path:
    return home() / "sessions"


def new_id() -> str:
    """8 lowercase letters and digits: valid in names, labels and file names."""
    return sessions.new_session_id(secrets.token_bytes(5))


@dataclasses.dataclass(frozen=True)
class Record:
    """What a session's file holds. `details` is free-form, for `status` (mode, endpoints, files)."""

    session_id: str
    context: str
    kubeconfig: str
    namespace: str
    service: str
    pid: int
    workstation: str
    started: str
    ledger: ledgers.Ledger
    state: str = "connecting"  # connecting | connected | disconnecting
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    workload_kind: str = ""
    workload_name: str = ""
    container: str = ""
    owner: str = ""
    mode: str = ""
    env_file: str | None = None
    hosts_path: str | None = None

    def to_json(self) -> str:
        document = dataclasses.asdict(self) | {"format": FORMAT, "version": VERSION}
        document["ledger"] = json.loads(self.ledger.to_json())
        return json.dumps(document, indent=1, sort_keys=True)

    @property
    def alive(self) -> bool:
        """Whether the process that runs the session still exists (on this host)."""
        if self.workstation != socket.gethostname():
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
        except (OSError, ValueError, KeyError, TypeError, errors.EngineError):
            continue
    return sorted(records, key=lambda record: record.started)


def remove(session_id: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        path_of(session_id).unlink()
