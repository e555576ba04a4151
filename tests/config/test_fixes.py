"""Quick fixes: applied to the text, the problem is gone, and comments and formatting stay.

Covers: add the missing version (block mapping after leading comments, indented flow, flow
mapping); replace an unknown key, an unknown feature, an unknown token type with the closest valid
one; quote a value YAML would read as a boolean, number or null (also an empty value, and in a
flow mapping); change an unsupported version; insert a starter file into an empty one; CRLF text.
"""

import pytest

from kubelocal.config import checking, fixes

from . import expect


def fixed(text: str, code: str) -> str:
    """The text after the first fix of the one problem with `code`."""
    problem = expect.only(checking.check(text), code)
    assert problem.fixes, problem
    return fixes.apply_edits(text, problem.fixes[0].edits)


def test_add_missing_version_below_leading_comments():
    text = "# My service's config\n\nenv:  # variables\n  - name: A\n    value: x\n"
    after = fixed(text, "missing-version")
    assert after == "# My service's config\n\nversion: 0.1\nenv:  # variables\n  - name: A\n    value: x\n"
    assert checking.check(after).problems == ()


def test_add_missing_version_to_a_flow_mapping():
    after = fixed("{env: []}\n", "missing-version")
    assert after == "{version: 0.1, env: []}\n"
    assert checking.check(after).problems == ()
    assert fixed("{}\n", "missing-version") == "{version: 0.1}\n"


def test_add_missing_version_after_a_document_marker():
    after = fixed("---\nenv: []\n", "missing-version")
    assert after == "---\nversion: 0.1\nenv: []\n"
    assert checking.check(after).problems == ()


@pytest.mark.parametrize(
    ("text", "code", "expected"),
    [
        ("version: 0.1\nevn: []  # keep me\n", "unknown-key", "version: 0.1\nenv: []  # keep me\n"),
        (
            "version: 0.1\nenv:\n  - name: A\n    Value: x # keep\n",
            "unknown-key",
            "version: 0.1\nenv:\n  - name: A\n    value: x # keep\n",
        ),
        (
            "version: 0.1\nenableFeatures:\n  - probes  # keep\n",
            "unknown-feature",
            "version: 0.1\nenableFeatures:\n  - Probes  # keep\n",
        ),
        (
            "version: 0.1\nenv:\n  - name: A\n    value: http://$(servics:myapp)/x  # keep\n",
            "unknown-token-type",
            "version: 0.1\nenv:\n  - name: A\n    value: http://$(services:myapp)/x  # keep\n",
        ),
        (
            'version: 0.1\nenv:\n  - name: A\n    value: "$(volumemount:data)"\n',
            "unknown-token-type",
            'version: 0.1\nenv:\n  - name: A\n    value: "$(volumeMounts:data)"\n',
        ),
        ("version: 0.2  # keep\n", "unsupported-version", "version: 0.1  # keep\n"),
    ],
)
def test_replace_with_the_closest_valid_word(text, code, expected):
    after = fixed(text, code)
    assert after == expected
    assert code not in expect.codes(checking.check(after))


@pytest.mark.parametrize(
    ("written", "quoted"),
    [("yes", '"yes"'), ("0123", '"0123"'), ("1.0", '"1.0"'), ("~", '"~"'), ("", ' ""')],
)
def test_quote_a_value_yaml_reads_as_something_else(written, quoted):
    text = f"version: 0.1\nenv:\n  - name: A\n    value:{' ' if written else ''}{written}  # keep\n"
    after = fixed(text, "ambiguous-scalar")
    assert after == f"version: 0.1\nenv:\n  - name: A\n    value:{' ' if written else ''}{quoted}  # keep\n"
    result = checking.check(after)
    assert result.problems == ()
    assert result.model is not None and result.model.env[0].value == written


def test_quote_in_a_flow_mapping():
    text = "version: 0.1\nenv: [{name: A, value: on}]\n"
    after = fixed(text, "ambiguous-scalar")
    assert after == 'version: 0.1\nenv: [{name: A, value: "on"}]\n'
    assert checking.check(after).problems == ()


def test_crlf_text_keeps_its_line_breaks():
    text = "version: 0.1\r\nenv:\r\n  - name: A\r\n    value: yes\r\n"
    after = fixed(text, "ambiguous-scalar")
    assert after == 'version: 0.1\r\nenv:\r\n  - name: A\r\n    value: "yes"\r\n'


def test_empty_file_gets_the_starter_file():
    after = fixed("", "empty-file")
    result = checking.check(after)
    assert result.problems == ()
    assert after.startswith("# KubernetesLocalProcessConfig.yaml")


def test_a_fix_edits_only_its_range():
    text = "version: 0.1\nenv:\n  - name: A\n    value: yes\n"
    problem = expect.only(checking.check(text), "ambiguous-scalar")
    (edit,) = problem.fixes[0].edits
    assert expect.span_tuple(edit.span) == (3, 11, 3, 14)
    assert edit.new_text == '"yes"'


def test_quoting_keeps_an_anchor_and_its_alias_working():
    text = "version: 0.1\nenv:\n  - name: A\n    value: &flag yes\n  - name: B\n    value: *flag\n"
    after = fixed(text, "ambiguous-scalar")
    assert after == 'version: 0.1\nenv:\n  - name: A\n    value: &flag "yes"\n  - name: B\n    value: *flag\n'
    result = checking.check(after)
    assert result.problems == ()
    assert result.model is not None and [entry.value for entry in result.model.env] == ["yes", "yes"]


def test_a_byte_order_mark_stays_in_front():
    after = fixed("\ufeffevn: []\nversion: 0.1\n", "unknown-key")
    assert after == "\ufeffenv: []\nversion: 0.1\n"
    assert fixed("\ufeffenv: []\n", "missing-version") == "\ufeffversion: 0.1\nenv: []\n"
