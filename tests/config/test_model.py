"""The typed model: what the engine will expand.

Covers: the bridge-compat example's version, env entries with parsed tokens and their exact spans,
volume mounts, features; a best-effort model while a file has problems (entries without a value are
left out, tokens with issues stay literal, unknown features are dropped); no model when the text
is not a mapping; the starter template is a valid file.
"""

import pathlib

from kubelocal.config import checking, model, template

from . import expect

SAMPLES = pathlib.Path(__file__).resolve().parents[2] / "samples" / "configs"


def test_model_of_the_bridge_compatible_example():
    text = (SAMPLES / "valid" / "KubernetesLocalProcessConfig.yaml").read_text()
    result = checking.check(text)
    assert result.problems == ()
    config = result.model
    assert config is not None
    assert config.version == "0.1"
    assert [entry.name for entry in config.env] == [
        "ALLOW_LIST_PATH",
        "MYAPP1_SERVICE_HOST",
        "MYAPP2_SERVICE_HOST",
        "DB_HOST",
        "DEBUG_MODE",
    ]
    allow_list, myapp1, myapp2, db_host, debug = config.env
    volume, suffix = allow_list.parts
    assert isinstance(volume, model.VolumeMountToken) and volume.name == "allow-list"
    assert expect.text_at(text, volume.span) == "$(volumeMounts:allow-list)"
    assert isinstance(suffix, model.Literal) and suffix.text == "/allow-list"
    service = myapp1.parts[0]
    assert isinstance(service, model.ServiceToken)
    assert (service.name, service.namespace, service.ports) == ("myapp1", None, ())
    assert expect.text_at(text, myapp1.name_span) == "MYAPP1_SERVICE_HOST"
    assert (myapp2.parts[0].name, myapp2.parts[0].namespace) == ("myapp2", "mynamespace")
    endpoint = db_host.parts[0]
    assert isinstance(endpoint, model.ExternalEndpointToken)
    assert (endpoint.host, endpoint.ports) == ("server.database.windows.net", (1433,))
    assert debug.value == "true" and debug.parts == (model.Literal("true", 0, 4, debug.parts[0].span),)
    assert expect.text_at(text, debug.value_span) == '"true"'
    assert expect.text_at(text, debug.parts[0].span) == "true"
    (mount,) = config.volume_mounts
    assert (mount.name, mount.local_path) == (
        "default-token-*",
        "/var/run/secrets/kubernetes.io/serviceaccount",
    )
    assert expect.text_at(text, mount.local_path_span) == mount.local_path
    assert config.features == ("ManagedIdentity",)


def test_best_effort_model_of_a_file_with_problems():
    text = (
        "version: 7\n"
        "env:\n"
        "  - name: NO_VALUE\n"
        "  - name: BAD_TOKEN\n"
        "    value: a $(servics:x) b\n"
        "  - 42\n"
        "enableFeatures: [Probes, Teleport]\n"
    )
    result = checking.check(text)
    assert result.model is not None
    assert result.model.version == "7"
    (entry,) = result.model.env
    assert entry.name == "BAD_TOKEN"
    assert all(isinstance(part, model.Literal) for part in entry.parts)
    assert "".join(part.text for part in entry.parts) == "a $(servics:x) b"
    assert result.model.features == ("Probes",)


def test_no_model_when_the_text_is_not_a_mapping():
    for text in ["", "- a\n", "just text\n", "version: [\n"]:
        assert checking.check(text).model is None


def test_the_starter_template_is_a_valid_file():
    result = checking.check(template.STARTER_CONFIG)
    assert result.problems == ()
    assert result.model == model.ConfigModel(version="0.1", env=(), volume_mounts=(), features=())
