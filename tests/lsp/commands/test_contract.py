"""The server's side of the editor contract, and the pure helpers of the commands.

Aspects:
- the commands the server registers (and so advertises in executeCommandProvider) are exactly the
  contract's (`contract.json`, shared with the VS Code extension);
- every engine step has a progress title, and a report names its step;
- kubeconfig contexts become picker rows with the current one marked and the namespace defaulted;
- a Service becomes a row with its ports (targetPort defaulting to the port, protocol to TCP);
- a session record becomes the contract's Session (fields, local ports from the redirects, mode);
- the env file written by the engine reads back to the same variables (quotes, escapes, newlines).
"""

from __future__ import annotations

from kubelocal.engine import connecting, environment, ledgers, recording
from kubelocal.lsp import commanding, following, server


def test_registered_commands_are_the_contracts():
    registered = set(server.build().protocol.fm.commands)
    assert registered == commanding.contract_command_names()
    assert all(name.startswith("kubelocal.server.") for name in registered)


def test_the_notification_is_the_contracts():
    assert commanding.contract()["notifications"]["sessionChanged"]["method"] == following.NOTIFICATION


def test_progress_names_the_step():
    step = connecting.Step("tunnel", "begin", "port-forward to agent:7000")
    assert commanding.step_message(step) == "Opening the tunnel: port-forward to agent:7000"
    assert commanding.step_message(connecting.Step("something-new", "begin")) == "something-new"


def test_context_rows_mark_the_current_one():
    rows = commanding.context_rows(
        {
            "current-context": "dev",
            "contexts": [
                {"name": "dev", "context": {"cluster": "c1", "namespace": "shop"}},
                {"name": "prod", "context": {"cluster": "c2"}},
            ],
        }
    )
    assert rows == [
        {"name": "dev", "cluster": "c1", "namespace": "shop", "current": True},
        {"name": "prod", "cluster": "c2", "namespace": "default", "current": False},
    ]


def test_service_rows_carry_ports():
    row = commanding.service_row(
        {
            "metadata": {"name": "greeter", "namespace": "shop"},
            "spec": {
                "ports": [{"port": 80, "targetPort": "http"}, {"name": "m", "port": 9090, "protocol": "UDP"}]
            },
        }
    )
    assert row == {
        "name": "greeter",
        "namespace": "shop",
        "ports": [
            {"name": "", "port": 80, "targetPort": "http", "protocol": "TCP"},
            {"name": "m", "port": 9090, "targetPort": 9090, "protocol": "UDP"},
        ],
    }


def test_session_object_from_a_record():
    record = recording.Record(
        session_id="abcd1234",
        context="dev",
        kubeconfig="",
        namespace="shop",
        service="greeter",
        pid=1,
        workstation="h",
        started="2026-01-01T00:00:00Z",
        ledger=ledgers.Ledger(session_id="abcd1234", namespace="shop"),
        state="connected",
        details={
            "workload": "Deployment/greeter",
            "container": "app",
            "mode": "no-admin",
            "env_file": "/home/u/.kubelocal/env/abcd1234.env",
            "redirected": [[8080, 18080]],
        },
    )
    assert following.session_object(record) == {
        "id": "abcd1234",
        "context": "dev",
        "namespace": "shop",
        "service": "greeter",
        "workload": "Deployment/greeter",
        "container": "app",
        "localPorts": [18080],
        "startedAt": "2026-01-01T00:00:00Z",
        "envFile": "/home/u/.kubelocal/env/abcd1234.env",
        "hostsMode": "env",
    }
    hosts = following.session_object(record.__class__(**{**record.__dict__, "details": {"mode": "hosts"}}))
    assert hosts["hostsMode"] == "hosts" and hosts["localPorts"] == []


def test_env_file_reads_back():
    variables = {
        "PLAIN": "x",
        "SPACES": "a b",
        "QUOTES": 'say "hi"',
        "LINES": "one\ntwo",
        "BACK": "c:\\dir",
        "EMPTY": "",
    }
    assert environment.parse_dotenv(environment.render_dotenv(variables)) == variables
