"""Session records: what `~/.kubelocal/sessions/<id>.json` holds, so `kubelocal status`, the editor
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
import dataclasses
import json
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
