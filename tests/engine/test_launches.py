"""Debug configurations with the environment injected.

Aspects covered:
- name "<name> with Kubernetes" (default "Launch"), the base configuration not mutated, other
  fields (program, args, preLaunchTask, cwd) kept
- env mode: cluster variables merged, the user's explicit env keys win and are named in a note
- envFile mode: the env file referenced, no values in the configuration; a configuration with its
  own envFile falls back to env with a note
- every supported debug type works the same; unknown types and attach requests refused with what
  to do instead
- the listen ports are the redirected workstation ports, in order
- repr shows no values
"""

import copy

import pytest

from kubelocal.engine import endpoints, errors, launches

VARIABLES = {"DB_PASSWORD": "s3cr3t", "LOG_LEVEL": "info", "API_SERVICE_HOST": "127.1.1.3"}
REDIRECTED = (endpoints.RedirectedPort(8080, 5000), endpoints.RedirectedPort(9090, 9090))

DEBUGPY = {
    "name": "Python: api",
    "type": "debugpy",
    "request": "launch",
    "program": "${workspaceFolder}/api/main.py",
    "args": ["--reload"],
    "cwd": "${workspaceFolder}",
    "env": {"LOG_LEVEL": "debug", "PYTHONUNBUFFERED": "1"},
    "preLaunchTask": "build",
}


def test_env_is_merged_and_the_users_keys_win():
    base = copy.deepcopy(DEBUGPY)
    plan = launches.with_kubernetes(base, variables=VARIABLES, redirected=REDIRECTED)
    configuration = plan.configuration
    assert configuration["name"] == "Python: api with Kubernetes"
    assert configuration["env"] == {
        "DB_PASSWORD": "s3cr3t",
        "API_SERVICE_HOST": "127.1.1.3",
        "LOG_LEVEL": "debug",
        "PYTHONUNBUFFERED": "1",
    }
    assert plan.injected_as == "env"
    assert plan.notes == ("Kept from the configuration's env (they win over the cluster's): LOG_LEVEL.",)
    for key in ("program", "args", "cwd", "preLaunchTask", "request", "type"):
        assert configuration[key] == DEBUGPY[key]
    assert base == DEBUGPY


def test_env_file_keeps_values_out_of_the_configuration():
    plan = launches.with_kubernetes(DEBUGPY, variables=VARIABLES, env_file="/home/ana/.kubelocal/s1.env")
    assert plan.configuration["envFile"] == "/home/ana/.kubelocal/s1.env"
    assert plan.configuration["env"] == DEBUGPY["env"]
    assert "s3cr3t" not in str(plan.configuration)
    assert plan.injected_as == "envFile"


def test_own_env_file_falls_back_to_env():
    base = dict(DEBUGPY, envFile="${workspaceFolder}/.env")
    plan = launches.with_kubernetes(base, variables=VARIABLES, env_file="/tmp/s1.env")
    assert plan.configuration["envFile"] == "${workspaceFolder}/.env"
    assert plan.configuration["env"]["DB_PASSWORD"] == "s3cr3t"
    assert any("already has an envFile" in note for note in plan.notes)


@pytest.mark.parametrize("debug_type", launches.SUPPORTED_TYPES)
def test_every_supported_type(debug_type):
    base = {"name": "app", "type": debug_type, "request": "launch"}
    plan = launches.with_kubernetes(base, variables=VARIABLES, redirected=REDIRECTED)
    assert plan.configuration["env"] == VARIABLES
    assert plan.listen_ports == (5000, 9090)


def test_unnamed_configuration():
    plan = launches.with_kubernetes({"type": "node", "request": "launch"}, variables={})
    assert plan.configuration["name"] == "Launch with Kubernetes"


def test_unknown_type_is_refused_with_an_alternative():
    with pytest.raises(errors.LaunchError, match="kubelocal connect -- COMMAND"):
        launches.with_kubernetes({"name": "x", "type": "cppdbg", "request": "launch"}, variables=VARIABLES)


def test_attach_is_refused():
    with pytest.raises(errors.LaunchError, match="attaches to a running process"):
        launches.with_kubernetes(dict(DEBUGPY, request="attach"), variables=VARIABLES)


def test_repr_hides_values():
    plan = launches.with_kubernetes(DEBUGPY, variables=VARIABLES)
    assert "s3cr3t" not in repr(plan) and "Python: api with Kubernetes" in repr(plan)
