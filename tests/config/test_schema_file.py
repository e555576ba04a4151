"""The schema file is the one source of truth and documents itself.

Covers: it is a valid JSON Schema 2020-12; every property (and every list item) carries
description, markdownDescription and examples, its examples validate, and defaultSnippets have
the VS Code shape; every object rejects unknown keys; both spellings of the version validate;
the copy packaged into the wheel is the repository file (pyproject's force-include names it, and
an installed copy has the same content).
"""

import json
import pathlib
import tomllib

import jsonschema
import pytest

from kubelocal.config import schema

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPOSITORY / "schemas" / schema.SCHEMA_FILENAME


def _walk(node, path=()):
    """Yield (path, subschema) for every subschema under properties/items."""
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from _walk(child, (*path, name))
    if "items" in node:
        yield from _walk(node["items"], (*path, "[]"))


def test_schema_is_valid_2020_12():
    loaded = json.loads(SCHEMA_PATH.read_text())
    assert loaded["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(loaded)


def test_load_schema_reads_the_repository_file():
    assert schema.load_schema() == json.loads(SCHEMA_PATH.read_text())


@pytest.mark.parametrize("path", [path for path, _ in _walk(json.loads(SCHEMA_PATH.read_text()))], ids=str)
def test_every_property_documents_itself(path):
    node = dict(_walk(schema.load_schema()))[path]
    assert node["description"].strip()
    assert node["markdownDescription"].strip()
    assert node["examples"]
    validator = jsonschema.Draft202012Validator(node)
    for example in node["examples"]:
        assert validator.is_valid(example), (path, example)
    for snippet in node.get("defaultSnippets", []):
        assert set(snippet) == {"label", "description", "body"}


def test_every_object_rejects_unknown_keys():
    objects = [path for path, node in _walk(schema.load_schema()) if node.get("type") == "object"]
    assert objects == [(), ("env", "[]"), ("volumeMounts", "[]")]
    for path, node in _walk(schema.load_schema()):
        if node.get("type") == "object":
            assert node["additionalProperties"] is False, path


@pytest.mark.parametrize("version", ["0.1", 0.1])
def test_both_spellings_of_the_version_are_valid(version):
    assert schema.validator().is_valid({"version": version})


def test_the_wheel_packages_the_repository_schema():
    pyproject = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())
    force_include = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert force_include[f"schemas/{schema.SCHEMA_FILENAME}"] == f"kubelocal/config/{schema.SCHEMA_FILENAME}"
    packaged = schema.packaged_schema_text()
    if packaged is not None:  # an installed wheel (not an editable checkout): same content
        assert packaged == SCHEMA_PATH.read_text(encoding="utf-8")
