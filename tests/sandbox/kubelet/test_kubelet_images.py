"""The image registry: stock Python images run with the workstation's Python (program names and
default CMD), registered images (API and JSON file) follow entrypoint/cmd override rules, other
images get no program (a stand-in runs), images of a `.invalid` registry fail to pull (and
only those), and a malformed registry file is reported."""

from __future__ import annotations

import json

import pytest

from kubelocal.sandbox.kubelet import images


@pytest.mark.parametrize(
    ("image", "python"),
    [
        ("python:3.12-slim", True),
        ("python", True),
        ("docker.io/library/python:3.11", True),
        ("python@sha256:abc", True),
        ("redis:7", False),
        ("registry:5000/python:3", False),
    ],
)
def test_python_images_are_recognised(image, python):
    assert images.is_python_image(image) is python


def test_python_images_run_the_command_with_this_python(tmp_path):
    registry = images.Registry(python="/opt/py/bin/python", images_file=tmp_path / "none.json")
    program = registry.program(
        {"image": "python:3.12-slim"}, command=["python3", "/agent/agent.pyz"], args=["--x"]
    )
    assert program.argv == ("/opt/py/bin/python", "/agent/agent.pyz", "--x")
    program = registry.program({"image": "python:3.12"}, command=["/usr/local/bin/python", "-V"], args=None)
    assert program.argv == ("/opt/py/bin/python", "-V")
    program = registry.program({"image": "python:3.12"}, command=["sh", "-c", "true"], args=None)
    assert program.argv == ("sh", "-c", "true")
    assert registry.program({"image": "python:3.12"}, command=None, args=None).argv == ("/opt/py/bin/python",)


def test_registered_images_follow_entrypoint_and_cmd_rules(tmp_path):
    (tmp_path / "images.json").write_text(
        json.dumps(
            {
                "kubelocal-samples/front": {
                    "command": ["python", "app.py"],
                    "args": ["--port", "8080"],
                    "workingDir": "front",
                    "env": {"A": "1"},
                }
            }
        )
    )
    registry = images.Registry(python="/py", images_file=tmp_path / "images.json")
    program = registry.program({"image": "kubelocal-samples/front:1"}, command=None, args=None)
    assert program.argv == ("/py", "app.py", "--port", "8080")
    assert program.working_dir == str(tmp_path / "front")
    assert program.image_env == (("A", "1"),)
    assert registry.program(
        {"image": "kubelocal-samples/front:1"}, command=None, args=["--port", "9"]
    ).argv == ("/py", "app.py", "--port", "9")
    assert registry.program(
        {"image": "kubelocal-samples/front:1", "workingDir": "/srv"}, command=["env"], args=None
    ).argv == ("env",)
    registry.register("team/api:2", command=["python", "-m", "api"])
    assert registry.program({"image": "team/api:2"}, command=None, args=None).argv == ("/py", "-m", "api")


def test_unknown_images_have_no_program(tmp_path):
    registry = images.Registry(images_file=tmp_path / "none.json")
    assert registry.image_config("redis:7") is None
    assert registry.program({"image": "mongo"}, command=["mongod"], args=None) is None


def test_a_malformed_registry_file_is_reported_with_its_path(tmp_path):
    (tmp_path / "images.json").write_text('["not", "a", "mapping"]')
    with pytest.raises(ValueError, match=r"images\.json is not a valid image registry"):
        images.Registry(images_file=tmp_path / "images.json")


@pytest.mark.parametrize(
    ("image", "fails"),
    [
        ("registry.invalid/kubelocal/agent:missing", True),
        ("registry.invalid:5000/agent", True),
        ("example.com/agent:1", False),
        ("invalid/agent:1", False),  # a Docker Hub user named "invalid", not a registry
        ("python:3.12-slim", False),
    ],
)
def test_only_images_of_a_dot_invalid_registry_fail_to_pull(image, fails):
    failure = images.pull_failure(image)
    assert (failure is not None) is fails
    if fails:
        assert f'Failed to pull image "{image}"' in failure and "no such host" in failure
