"""The hosts-file block and its atomic write.

Aspects covered:
- render: markers with the session id, one line per IP with the four name forms, from a plan
- insert: appended at the end, idempotent, replaces the session's older block, keeps other sessions'
  blocks, follows CRLF files, text without final newline
- remove: exact inverse of insert for any text without our markers (hypothesis); one session or
  all (crash cleanup); half blocks and stray end markers; user lines inside or around a block, and
  the original product's block, are never deleted (hypothesis over texts mixing markers, entries
  and user lines with both newline styles)
- sessions_in lists the sessions that left blocks
- write_hosts_atomically (tmp files only): backup holds the old text, new text in place, permissions
  kept, no temp file left, CRLF and odd bytes preserved, a bind-mounted file (rename refused with
  EBUSY) rewritten in place, other rename errors propagate and leave the original intact
"""

import errno
import os
import re
import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubelocal.engine import endpoints, hosts

ENTRIES = [
    ("127.1.1.1", ("api", "api.shop", "api.shop.svc", "api.shop.svc.cluster.local")),
    ("127.1.1.2", ("db-0.db", "db-0.db.shop")),
]
ETC_HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n# my vm\n192.168.56.10 devbox\n"
BLOCK = (
    "# Added by kubelocal (session s1)\n"
    "127.1.1.1\tapi api.shop api.shop.svc api.shop.svc.cluster.local\n"
    "127.1.1.2\tdb-0.db db-0.db.shop\n"
    "# End of kubelocal section\n"
)


def test_render_and_insert_at_the_end():
    assert hosts.insert(ETC_HOSTS, session_id="s1", entries=ENTRIES) == ETC_HOSTS + BLOCK
    assert hosts.insert("", session_id="s1", entries=ENTRIES) == BLOCK


def test_entries_from_a_plan():
    service = {"metadata": {"name": "api", "namespace": "shop"},
               "spec": {"clusterIP": "10.96.0.5", "ports": [{"port": 80, "protocol": "TCP"}]}}  # fmt: skip
    plan = endpoints.plan(mode=endpoints.Mode.HOSTS, namespace="shop", services=[service])
    assert hosts.entries_for(plan) == [ENTRIES[0]]


def test_insert_is_idempotent_and_replaces_the_older_block():
    once = hosts.insert(ETC_HOSTS, session_id="s1", entries=ENTRIES)
    assert hosts.insert(once, session_id="s1", entries=ENTRIES) == once
    updated = hosts.insert(once, session_id="s1", entries=ENTRIES[:1])
    assert "db-0.db" not in updated and updated.count("# Added by kubelocal") == 1


def test_insert_keeps_other_sessions():
    both = hosts.insert(
        hosts.insert(ETC_HOSTS, session_id="s1", entries=ENTRIES), session_id="s2", entries=[]
    )
    assert hosts.sessions_in(both) == ["s1", "s2"]
    assert hosts.remove(both, session_id="s2") == ETC_HOSTS + BLOCK
    assert hosts.remove(both) == ETC_HOSTS


def test_crlf_files_get_crlf_blocks():
    windows = ETC_HOSTS.replace("\n", "\r\n")
    inserted = hosts.insert(windows, session_id="s1", entries=ENTRIES)
    assert inserted == windows + BLOCK.replace("\n", "\r\n")
    assert hosts.remove(inserted, session_id="s1") == windows


def test_text_without_final_newline_comes_back_exactly():
    text = "127.0.0.1 localhost"
    inserted = hosts.insert(text, session_id="s1", entries=ENTRIES)
    assert inserted.startswith(text + "\n# Added") and inserted.endswith("# End of kubelocal section")
    assert hosts.remove(inserted, session_id="s1") == text


def test_user_line_added_inside_the_block_survives():
    inserted = hosts.insert(ETC_HOSTS, session_id="s1", entries=ENTRIES)
    edited = inserted.replace("# End of kubelocal", "10.0.0.8 printer\n# End of kubelocal")
    assert hosts.remove(edited, session_id="s1") == ETC_HOSTS + "10.0.0.8 printer\n"


def test_half_block_loses_only_its_marker_and_entries():
    half = ETC_HOSTS + "# Added by kubelocal (session dead1)\n127.1.1.1\tapi api.shop\n10.1.1.1 nas\n"
    assert hosts.remove(half) == ETC_HOSTS + "10.1.1.1 nas\n"
    assert hosts.remove(half, session_id="other") == half


def test_stray_end_marker_only_dropped_when_cleaning_everything():
    stray = ETC_HOSTS + "# End of kubelocal section\n"
    assert hosts.remove(stray, session_id="s1") == stray
    assert hosts.remove(stray) == ETC_HOSTS


def test_the_original_products_block_is_not_ours():
    theirs = ETC_HOSTS + "# Added by Bridge To Kubernetes\n127.1.1.1 api\n# End of section\n"
    assert hosts.remove(hosts.insert(theirs, session_id="s1", entries=ENTRIES)) == theirs


# --- properties -----------------------------------------------------------------------------------------

plain_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200).filter(
    lambda text: "kubelocal" not in text
)


@given(plain_text)
def test_property_remove_undoes_insert(text):
    inserted = hosts.insert(text, session_id="s1", entries=ENTRIES)
    assert hosts.remove(inserted, session_id="s1") == text
    assert hosts.remove(inserted) == text
    assert hosts.insert(inserted, session_id="s1", entries=ENTRIES) == inserted


user_line = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=30
)
marker_or_entry = st.sampled_from(
    [
        "# Added by kubelocal (session s1)",
        "# Added by kubelocal (session s2)",
        "# End of kubelocal section",
        "127.1.1.9\tx x.ns",
        "127.0.0.1\tlocalhost",
    ]
)
lines_st = st.lists(st.one_of(user_line, marker_or_entry), max_size=12)


def is_ours(line):
    return bool(
        re.match(r"^# (Added by kubelocal \(session [a-z0-9]+\)|End of kubelocal section)$", line)
    ) or bool(hosts._ENTRY.fullmatch(line))


@given(lines_st, st.sampled_from(["\n", "\r\n"]), st.booleans(), st.sampled_from([None, "s1", "s2"]))
def test_property_user_lines_are_never_lost(lines, newline, final_newline, session):
    text = newline.join(lines) + (newline if final_newline and lines else "")
    user_lines = [hosts._content(line) for line in hosts._lines(text) if not is_ours(hosts._content(line))]
    cleaned = hosts.remove(text, session_id=session)
    kept = [hosts._content(line) for line in hosts._lines(cleaned) if not is_ours(hosts._content(line))]
    assert kept == user_lines
    if session is None:
        assert hosts.sessions_in(cleaned) == []
        assert "# End of kubelocal section" not in cleaned.splitlines()


# --- writing (tmp files only, never the real /etc/hosts) ---------------------------------------------


@pytest.fixture
def hosts_file(tmp_path):
    path = tmp_path / "hosts"
    path.write_bytes(ETC_HOSTS.replace("\n", "\r\n").encode() + b"10.0.0.1 caf\xe9\r\n")
    path.chmod(0o644)
    return path


def test_write_keeps_a_backup_and_the_permissions(hosts_file, tmp_path):
    old = hosts.read_hosts(hosts_file)
    new = hosts.insert(old, session_id="s1", entries=ENTRIES)
    backup = tmp_path / "hosts.kubelocal-backup"
    hosts.write_hosts_atomically(hosts_file, new, backup_path=backup)
    assert hosts.read_hosts(hosts_file) == new
    assert backup.read_bytes() == old.encode("utf-8", "surrogateescape")
    assert b"caf\xe9\r\n# Added" in hosts_file.read_bytes()  # odd bytes and CRLF preserved
    assert stat.S_IMODE(hosts_file.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hosts", "hosts.kubelocal-backup"]
    hosts.write_hosts_atomically(hosts_file, hosts.remove(new, session_id="s1"), backup_path=backup)
    assert hosts_file.read_bytes() == old.encode("utf-8", "surrogateescape")


def test_restrictive_permissions_are_kept(hosts_file, tmp_path):
    hosts_file.chmod(0o600)
    hosts.write_hosts_atomically(hosts_file, "x\n", backup_path=tmp_path / "backup")
    assert stat.S_IMODE(hosts_file.stat().st_mode) == 0o600


def test_bind_mounted_file_is_rewritten_in_place(hosts_file, tmp_path, monkeypatch):
    inode = hosts_file.stat().st_ino

    def refuse(source, destination):
        raise OSError(errno.EBUSY, "Device or resource busy")

    monkeypatch.setattr(os, "replace", refuse)
    hosts.write_hosts_atomically(hosts_file, "127.0.0.1 localhost\n", backup_path=tmp_path / "backup")
    assert hosts_file.read_text() == "127.0.0.1 localhost\n"
    assert hosts_file.stat().st_ino == inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup", "hosts"]


def test_other_rename_errors_propagate_and_leave_the_original(hosts_file, tmp_path, monkeypatch):
    before = hosts_file.read_bytes()

    def refuse(source, destination):
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError):
        hosts.write_hosts_atomically(hosts_file, "nothing\n", backup_path=tmp_path / "backup")
    assert hosts_file.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup", "hosts"]


def test_missing_file_is_created(tmp_path):
    path = tmp_path / "hosts"
    hosts.write_hosts_atomically(path, BLOCK, backup_path=tmp_path / "backup")
    assert path.read_text() == BLOCK and (tmp_path / "backup").read_bytes() == b""
