"""Session records on the workstation and the decisions of crash recovery.

Aspects covered:
- a record round-trips through JSON with its ledger; the ledger's bodies stay out of repr
- malformed, foreign and newer-format records give errors that say what to do
- session ids: 8 characters from 5 random bytes, valid everywhere, refused with too little entropy
- the record's path under the home directory; invalid ids refused (no path tricks)
- stale sessions: this workstation's sessions whose process is gone; other workstations' never
- orphaned hosts blocks: blocks of sessions no live session owns, also without a record
"""

import json
from pathlib import Path

import pytest

from kubelocal.engine import errors, hosts, ledgers, sessions


def record(session_id="abcd2345", *, pid=4242, workstation="ana-laptop"):
    ledger = ledgers.Ledger(session_id=session_id, namespace="shop")
    ledger, _ = ledger.record(
        *ledgers.file_pair(path="/home/ana/.kubelocal/abcd2345.env", purpose="the env file")
    )
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x", "namespace": "shop"},
              "data": {"password": "aHVudGVyMg=="}}  # fmt: skip
    ledger, _ = ledger.record(*ledgers.create_pair(secret))
    return sessions.SessionRecord(
        session_id=session_id, context="kind-dev", namespace="shop", service="api",
        workload_kind="Deployment", workload_name="api", container="api", owner="ana@ana-laptop",
        workstation=workstation, pid=pid, started="2026-11-27T10:00:00Z", mode="hosts",
        env_file="/home/ana/.kubelocal/abcd2345.env", hosts_path="/etc/hosts", ledger=ledger,
    )  # fmt: skip


def test_record_round_trips_with_its_ledger():
    original = record()
    text = original.to_json()
    assert sessions.from_json(text) == original
    assert json.loads(text)["format"] == "kubelocal-session"
    assert "aHVudGVyMg==" not in repr(original)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", "not JSON"),
        ('{"format": "other"}', "not a kubelocal session record"),
        ('{"format": "kubelocal-session", "version": 1, "session_id": "abcd2345"}', "missing or malformed"),
    ],
)
def test_unreadable_records_say_what_to_do(text, expected):
    with pytest.raises(errors.LedgerError, match=expected) as caught:
        sessions.from_json(text)
    assert "~/.kubelocal/sessions/" in str(caught.value)


def test_newer_record_says_upgrade():
    document = json.loads(record().to_json()) | {"version": sessions.VERSION + 1}
    with pytest.raises(errors.LedgerError, match="Upgrade kubelocal"):
        sessions.from_json(json.dumps(document))


def test_session_ids():
    assert sessions.new_session_id(b"\x00\x00\x00\x00\x00") == "aaaaaaaa"
    assert sessions.new_session_id(bytes(range(250, 256))) != sessions.new_session_id(bytes(range(5)))
    assert len(sessions.new_session_id(b"\xff" * 16)) == 8
    with pytest.raises(ValueError, match="5 random bytes"):
        sessions.new_session_id(b"1234")


def test_record_path():
    assert sessions.record_path("/home/ana", "abcd2345") == Path(
        "/home/ana/.kubelocal/sessions/abcd2345.json"
    )
    with pytest.raises(ValueError):
        sessions.record_path("/home/ana", "../../etc/passwd")


def test_stale_sessions_are_this_workstations_dead_ones():
    alive = record("aaaa2222", pid=100)
    dead = record("bbbb3333", pid=200)
    elsewhere = record("cccc4444", pid=200, workstation="build-agent-7")
    found = sessions.stale(
        [alive, dead, elsewhere], workstation="ana-laptop", is_alive=lambda pid: pid == 100
    )
    assert found == [dead]


def test_orphaned_hosts_blocks():
    text = hosts.insert("127.0.0.1 localhost\n", session_id="aaaa2222", entries=[("127.1.1.1", ("api",))])
    text = hosts.insert(text, session_id="dddd5555", entries=[("127.1.1.2", ("db",))])
    assert sessions.orphaned_hosts_blocks(text, live_sessions=["aaaa2222"]) == ["dddd5555"]
    assert sessions.orphaned_hosts_blocks(text, live_sessions=["aaaa2222", "dddd5555"]) == []
