"""Schema problems, each on the node it is about, with a message saying what to do.

Covers: unknown keys at the top level and in list items (on the key, closest valid key suggested);
missing version (on the first key, or an empty span at 0:0 for an empty mapping, never the whole
document); a missing key in a list item; wrong types (on the value; on the key when the value is
empty); values YAML reads as a boolean, number or null (`ambiguous-scalar`); unsupported versions
(naming the supported one); unknown features (a warning); both spellings of version 0.1.
"""

import pytest

from kubelocal.config import checking, problems, schema

from . import expect


def test_valid_file_has_no_problems():
    text = (
        "version: 0.1\n"
        "env:\n"
        "  - name: A\n"
        "    value: $(services:myapp)\n"
        "volumeMounts:\n"
        "  - name: default-token-*\n"
        "    localPath: /tmp/token\n"
        "enableFeatures: [Probes, LifecycleHooks, ManagedIdentity]\n"
    )
    assert checking.check(text).problems == ()


@pytest.mark.parametrize("version", ["0.1", '"0.1"', "'0.1'"])
def test_both_spellings_of_the_version_are_valid(version):
    result = checking.check(f"version: {version}\n")
    assert result.problems == ()
    assert result.model is not None and result.model.version == "0.1"


def test_unknown_top_level_key_is_on_the_key_with_the_closest_suggestion():
    text = "version: 0.1\nvolumeMount:\n  - name: x\n    localPath: /tmp\n"
    problem = expect.only(checking.check(text), "unknown-key")
    assert expect.span_tuple(problem.span) == (1, 0, 1, 11)
    assert problem.severity is problems.Severity.ERROR
    assert problem.message == (
        "Unknown key 'volumeMount' at the top level. Did you mean 'volumeMounts'? "
        "Valid keys here: version, env, volumeMounts, enableFeatures."
    )
    assert problem.data["suggestion"] == "volumeMounts"


def test_unknown_key_in_an_env_entry():
    text = "version: 0.1\nenv:\n  - name: A\n    valeu: x\n"
    result = checking.check(text)
    problem = expect.only(result, "unknown-key")
    assert expect.span_tuple(problem.span) == (3, 4, 3, 9)
    assert problem.message == (
        "Unknown key 'valeu' in env[0]. Did you mean 'value'? Valid keys here: name, value."
    )
    # The missing `value` is reported too, on the entry's first key.
    missing = expect.only(result, "missing-key")
    assert expect.span_tuple(missing.span) == (2, 4, 2, 8)
    assert missing.message == "env[0] needs a 'value' key. Add value: to it."


def test_unknown_key_without_a_close_match_has_no_fix():
    problem = expect.only(checking.check("version: 0.1\nzzz: 1\n"), "unknown-key")
    assert problem.data["suggestion"] is None
    assert problem.fixes == ()
    assert "Did you mean" not in problem.message


def test_missing_version_is_on_the_first_key():
    text = "# comment\nenv:\n  - name: A\n    value: x\n"
    problem = expect.only(checking.check(text), "missing-version")
    assert expect.span_tuple(problem.span) == (1, 0, 1, 3)
    assert problem.message == "The required key 'version' is missing. Add version: 0.1 at the top."


def test_missing_version_in_an_empty_mapping_is_an_empty_span_where_it_starts():
    problem = expect.only(checking.check("{}\n"), "missing-version")
    assert expect.span_tuple(problem.span) == (0, 0, 0, 0)


def test_missing_key_in_a_volume_mount():
    problem = expect.only(checking.check("version: 0.1\nvolumeMounts:\n  - name: x\n"), "missing-key")
    assert expect.span_tuple(problem.span) == (2, 4, 2, 8)
    assert problem.message == "volumeMounts[0] needs a 'localPath' key. Add localPath: to it."


def test_wrong_type_is_on_the_value():
    text = "version: 0.1\nenv:\n  name: A\n"
    problem = expect.only(checking.check(text), "wrong-type")
    assert expect.span_tuple(problem.span) == (2, 2, 2, 9)
    assert problem.message == (
        "env must be a list of entries with name and value, but it is a mapping. "
        "Write each item on its own line, starting with '- '."
    )


def test_wrong_type_of_an_empty_value_is_on_its_key():
    problem = expect.only(checking.check("version: 0.1\nenv:\n"), "wrong-type")
    assert expect.span_tuple(problem.span) == (1, 0, 1, 3)
    assert problem.message == (
        "env must be a list of entries with name and value, but it is null (no value). "
        "Write each item on its own line, starting with '- '."
    )


def test_top_level_that_is_not_a_mapping():
    result = checking.check("- version: 0.1\n")
    problem = expect.only(result, "wrong-type")
    assert expect.span_tuple(problem.span) == (0, 0, 0, 14)
    assert problem.message == (
        "The file must be a mapping of keys to values, but it is a list. Write it as 'key: value' lines."
    )
    assert result.model is None


@pytest.mark.parametrize(
    ("written", "reads_as"),
    [
        ("yes", "the boolean true"),
        ("off", "the boolean false"),
        ("0123", "the number 83"),
        ("1.0", "the number 1.0"),
        ("42", "the number 42"),
        ("~", "null (no value)"),
    ],
)
def test_value_yaml_reads_as_boolean_number_or_null_is_ambiguous(written, reads_as):
    text = f"version: 0.1\nenv:\n  - name: A\n    value: {written}\n"
    problem = expect.only(checking.check(text), "ambiguous-scalar")
    assert expect.span_tuple(problem.span) == (3, 11, 3, 11 + len(written))
    assert problem.message == (
        f'YAML reads {written} as {reads_as}, but env[0].value must be text. Quote it: "{written}".'
    )
    assert problem.data == {"text": written, "quoted": f'"{written}"'}


def test_empty_value_is_ambiguous_with_a_fix_to_empty_text():
    problem = expect.only(checking.check("version: 0.1\nenv:\n  - name: A\n    value:\n"), "ambiguous-scalar")
    assert expect.span_tuple(problem.span) == (3, 10, 3, 10)
    assert (
        problem.message
        == 'env[0].value is empty, which YAML reads as null, but it must be text. Write "" for empty text.'
    )


def test_quoted_values_are_text():
    text = "version: 0.1\nenv:\n  - name: A\n    value: \"yes\"\n  - name: B\n    value: '0123'\n"
    assert checking.check(text).problems == ()


@pytest.mark.parametrize("version", ["0.2", "1", '"1.0"', "latest"])
def test_unsupported_version_names_the_supported_one(version):
    problem = expect.only(checking.check(f"version: {version}\n"), "unsupported-version")
    assert expect.span_tuple(problem.span) == (0, 9, 0, 9 + len(version))
    shown = version.strip('"')
    assert problem.message == (
        f"Version '{shown}' is not supported; the supported version is 0.1. Write version: 0.1."
    )
    assert problem.data == {"supported": "0.1"}


def test_unknown_feature_is_a_warning_with_the_closest_feature():
    result = checking.check("version: 0.1\nenableFeatures:\n  - probes\n  - Teleport\n")
    found = [p for p in result.problems if p.code == "unknown-feature"]
    assert [expect.span_tuple(p.span) for p in found] == [(2, 4, 2, 10), (3, 4, 3, 12)]
    assert all(p.severity is problems.Severity.WARNING for p in found)
    assert found[0].message == (
        "Unknown feature 'probes'; it is ignored. Did you mean 'Probes'? "
        "Valid features: ManagedIdentity, Probes, LifecycleHooks."
    )
    assert found[1].data["suggestion"] is None


def test_a_feature_that_is_not_text_is_one_problem():
    result = checking.check("version: 0.1\nenableFeatures: [[Probes]]\n")
    assert expect.codes(result) == ["wrong-type"]


def test_problems_are_sorted_by_position():
    text = "zzz: 1\nversion: 2\nenv: x\naaa: 1\n"
    result = checking.check(text)
    starts = [(p.span.start.line, p.span.start.column) for p in result.problems]
    assert starts == sorted(starts)
    assert expect.codes(result) == ["unknown-key", "unsupported-version", "wrong-type", "unknown-key"]


def test_a_date_is_ambiguous_too():
    # YAML 1.1 reads 2001-12-14 as a date; jsonschema-rs cannot take dates, so this also covers the
    # pure-Python validator that takes over then.
    problem = expect.only(
        checking.check("version: 0.1\nenv:\n  - name: A\n    value: 2001-12-14\n"), "ambiguous-scalar"
    )
    assert expect.span_tuple(problem.span) == (3, 11, 3, 21)
    assert problem.message == (
        'YAML reads 2001-12-14 as the date 2001-12-14, but env[0].value must be text. Quote it: "2001-12-14".'
    )


def test_binary_data_is_a_wrong_type():
    result = checking.check(
        "version: 0.1\nenv:\n  - name: A\n    value: !!binary aGVsbG8=\n  - {name: B, valu: x}\n"
    )
    assert expect.codes(result) == ["wrong-type", "missing-key", "unknown-key"]
    assert "but it is binary data" in result.problems[0].message


def test_both_validators_report_the_same_errors():
    # jsonschema-rs does the work; the pure-Python jsonschema takes over for dates and bytes.
    value = {
        "version": None,
        "evn": 1,
        "env": [{"name": "a", "valeu": 1}, {"name": 1, "value": True}, "x"],
        "volumeMounts": {"name": "x"},
        "enableFeatures": ["Probe", 3],
    }

    def key(error):
        return (
            error.path,
            error.keyword,
            error.unexpected,
            error.allowed,
            error.missing,
            tuple(sorted(error.types)),
        )

    rust = sorted(key(error) for error in schema.schema_errors(value))
    python = sorted(key(schema._from_python(error)) for error in schema.validator().iter_errors(value))
    assert rust == python
    assert len(rust) == 12


def test_each_missing_key_of_an_empty_entry_is_reported():
    result = checking.check("version: 0.1\nenv:\n  - {}\n")
    assert [(p.code, p.data["key"]) for p in result.problems] == [
        ("missing-key", "name"),
        ("missing-key", "value"),
    ]
    assert expect.spans(result, "missing-key") == [(2, 4, 2, 4), (2, 4, 2, 4)]


def test_wrong_type_where_text_belongs():
    problem = expect.only(checking.check("version: 0.1\nenableFeatures: [[Probes]]\n"), "wrong-type")
    assert expect.span_tuple(problem.span) == (1, 17, 1, 25)
    assert problem.message == (
        "enableFeatures[0] must be text, but it is a list. "
        "Write it as text (quoted if it contains ': ', '#' or starts with a special character)."
    )


def test_a_block_value_ending_in_an_alias_keeps_a_forward_span():
    text = "version: 0.1\nflag: &flag x\nenv:\n  name: A\n  value: *flag\n"
    problem = expect.only(checking.check(text), "wrong-type")
    assert (problem.span.start.line, problem.span.start.column) == (3, 2)
    assert problem.span.end.line == 4
