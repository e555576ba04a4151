"""`kubelocal sandbox` without a running sandbox: each action says what is wrong and what to do, with the
right exit code; the state directory comes from --state-dir or KUBELOCAL_SANDBOX_DIR; a state file left
by a dead sandbox reads as not running, and `down` cleans it up."""

import json
import os

import pytest

from kubelocal import cli
from kubelocal.sandbox import commands


def run(capsys, *args):
    code = cli.main(["sandbox", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_status_when_not_running(tmp_path, capsys):
    code, out, _ = run(capsys, "status", "--state-dir", str(tmp_path))
    assert code == 3 and "not running" in out and "kubelocal sandbox up" in out


def test_status_json_when_not_running(tmp_path, capsys):
    code, out, _ = run(capsys, "status", "--json", "--state-dir", str(tmp_path))
    assert code == 3 and json.loads(out)["running"] is False


def test_down_and_kubeconfig_when_not_running_say_what_to_do(tmp_path, capsys):
    code, _, err = run(capsys, "down", "--state-dir", str(tmp_path))
    assert code == 1 and "nothing to stop" in err and "kubelocal sandbox up" in err
    code, _, err = run(capsys, "kubeconfig", "--state-dir", str(tmp_path))
    assert code == 1 and "not running" in err and "kubelocal sandbox up" in err


def test_state_dir_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBELOCAL_SANDBOX_DIR", str(tmp_path / "from-env"))
    assert commands.default_state_dir() == tmp_path / "from-env"
    monkeypatch.delenv("KUBELOCAL_SANDBOX_DIR")
    assert commands.default_state_dir() == commands.pathlib.Path.home() / ".kubelocal" / "sandbox"


def dead_pid():
    """A pid that belongs to no process right now."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_a_dead_sandbox_reads_as_not_running_and_down_cleans_its_files(tmp_path, capsys):
    state_dir = tmp_path / "state"
    commands.State(pid=dead_pid(), cluster_id="deadbeef", server="https://127.0.0.1:1").write(state_dir)
    (state_dir / "kubeconfig").write_text("apiVersion: v1\n")
    (state_dir / "sandbox.log").write_text("old log\n")
    assert commands.running_state(state_dir) is None
    code, out, _ = run(capsys, "status", "--state-dir", str(state_dir))
    assert code == 3
    code, out, _ = run(capsys, "down", "--state-dir", str(state_dir))
    assert code == 0 and "removed" in out
    assert not state_dir.exists()


def test_state_round_trips_and_tolerates_unknown_fields(tmp_path):
    state = commands.State(pid=12, cluster_id="abc", server="https://127.0.0.1:5", token="t", mode="m")
    state.write(tmp_path)
    assert commands.State.read(tmp_path) == state
    raw = json.loads((tmp_path / "sandbox.json").read_text())
    raw["future_field"] = 1
    (tmp_path / "sandbox.json").write_text(json.dumps(raw))
    assert commands.State.read(tmp_path) == state
    assert oct((tmp_path / "sandbox.json").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("action", ["up", "down", "status", "kubeconfig"])
def test_every_action_has_help(action, capsys):
    with pytest.raises(SystemExit) as raised:
        cli.main(["sandbox", action, "--help"])
    assert raised.value.code == 0
    assert "--state-dir" in capsys.readouterr().out
