"""The agent's command line, without starting it.

Aspects: ports parse from a comma list and bad entries are named; a missing token stops the
agent with usage error 2 and says where the token goes; the token may come from a file; the
restore mode names the options it misses; the agent's own variables are kept out of the
environment it reports.
"""

from __future__ import annotations

import pytest

from kubelocal_agent import __main__ as entry
from kubelocal_agent import restore, serving


def test_ports_parse_from_a_comma_list_and_bad_entries_are_named():
    assert entry.parse_ports("80, 8080,,9090") == (80, 8080, 9090)
    assert entry.parse_ports("") == ()
    with pytest.raises(ValueError, match="'http'"):
        entry.parse_ports("80,http")
    with pytest.raises(ValueError, match="'70000'"):
        entry.parse_ports("70000")


def test_a_missing_token_is_a_usage_error_saying_where_the_token_goes(monkeypatch, capsys):
    monkeypatch.delenv(entry.TOKEN_ENV, raising=False)
    with pytest.raises(SystemExit) as raised:
        entry.main(["--ports", "8080"])
    assert raised.value.code == 2
    assert entry.TOKEN_ENV in capsys.readouterr().err


def test_the_token_may_come_from_a_file(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file\n")
    assert entry._token(token_file) == "from-a-file"


def test_the_restore_mode_names_what_it_misses(monkeypatch, capsys):
    for name in ("SECRET", "SELECTOR", "NAMESPACE", "STATUS_URL", "AGENT_SELECTOR"):
        monkeypatch.delenv(restore.ENV_PREFIX + name, raising=False)
    with pytest.raises(SystemExit) as raised:
        restore.main(["--namespace", "shop", "--api-url", "http://127.0.0.1:9"])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert "--secret" in err and "--selector" in err and "status-url or agent-selector" in err


def test_the_reported_environment_leaves_out_the_agents_own_variables():
    environ = {
        "PATH": "/usr/bin",
        "DB_HOST": "db",
        "KUBELOCAL_AGENT_TOKEN": "secret",
        "KUBELOCAL_AGENT_PORTS": "80",
    }
    assert serving.container_environment(environ) == {"PATH": "/usr/bin", "DB_HOST": "db"}
