"""Parsing: exact positions, YAML 1.1 resolution, and the limits that keep hostile input harmless.

Covers: columns count code points (not bytes, not UTF-16 units); CRLF, tabs and NEL line breaks
keep editor line numbers; duplicate keys (on the later key, first value kept); syntax errors at
the offending character; forbidden characters at their exact place; several documents; empty and
comment-only files; alias bombs rejected quickly with `alias-limit`; recursive aliases; nesting
limit; YAML 1.1 scalars (yes, 0123, 1.0, ~) resolved as PyYAML does; aliases that stay small work;
unknown tags.
"""

import time

from kubelocal.config import checking, parsing

from . import expect


def test_columns_count_code_points():
    # Two of these characters are two UTF-16 units, three are several UTF-8 bytes: one column each.
    emoji_line = '  - {name: "é€😀", valu: $(services:x)}'
    problem = expect.only(checking.check("version: 0.1\nenv:\n" + emoji_line + "\n"), "unknown-key")
    assert expect.span_tuple(problem.span) == (2, 18, 2, 22)
    assert emoji_line[18:22] == "valu"


def test_crlf_line_breaks_keep_line_numbers():
    text = "version: 0.1\r\nenv:\r\n  - name: A\r\n    valeu: x\r\n"
    problem = expect.only(checking.check(text), "unknown-key")
    assert expect.span_tuple(problem.span) == (3, 4, 3, 9)


def test_nel_is_not_an_editor_line_break():
    # libyaml breaks lines at NEL (U+0085) but editors do not: positions follow the editor.
    text = "version: 0.1\nenv: []  # a comment ending in NEL\x85\nevn: 1\n"
    problem = expect.only(checking.check(text), "unknown-key")
    assert expect.span_tuple(problem.span) == (2, 0, 2, 3)


def test_tabs_count_as_one_column():
    text = "version: 0.1\nenv:\n  - name:\tA\n    value:\t$(servics:x)\n"
    problem = expect.only(checking.check(text), "unknown-token-type")
    assert expect.span_tuple(problem.span) == (3, 13, 3, 20)


def test_duplicate_key_is_reported_on_the_later_key_and_the_first_value_is_kept():
    text = "version: 0.1\nenv:\n  - name: FIRST\n    value: a\n    name: SECOND\n"
    result = checking.check(text)
    problem = expect.only(result, "duplicate-key")
    assert expect.span_tuple(problem.span) == (4, 4, 4, 8)
    assert problem.message == (
        "Duplicate key 'name': it is already set on line 3, and only the first is used. Remove one of them."
    )
    assert problem.data == {"key": "name", "first": {"line": 2, "column": 4}}
    assert result.model is not None
    assert [entry.name for entry in result.model.env] == ["FIRST"]


def test_duplicate_top_level_key():
    result = checking.check("version: 0.1\nversion: 0.1\n")
    assert expect.spans(result, "duplicate-key") == [(1, 0, 1, 7)]


def test_syntax_error_points_at_the_offending_character():
    text = "version: 0.1\nenv:\n  - name: A\n    value: [unclosed\n"
    result = checking.check(text)
    assert expect.codes(result) == ["yaml-syntax"]
    problem = result.problems[0]
    assert expect.span_tuple(problem.span) == (4, 0, 4, 0)
    assert problem.message == (
        "YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence started "
        "at line 4, column 12). Fix the YAML here and check again."
    )
    assert result.model is None


def test_bad_indentation_is_a_syntax_error_where_it_happens():
    result = checking.check("version: 0.1\nenv:\n  - name: A\n   value: x\n")
    assert expect.codes(result) == ["yaml-syntax"]
    assert result.problems[0].span.start.line == 3


def test_forbidden_character_is_reported_at_its_place():
    result = checking.check("version: 0.1\nenv:\n  - name: A\n    value: ring \x07 bell\n")
    problem = expect.only(result, "invalid-character")
    assert expect.span_tuple(problem.span) == (3, 16, 3, 17)
    assert problem.message.startswith("The character U+0007 is not allowed in YAML. Remove it")
    assert result.model is None


def test_lone_surrogate_is_a_forbidden_character():
    result = checking.check("version: 0.1\nenv: \ud800\n")
    assert expect.spans(result, "invalid-character") == [(1, 5, 1, 6)]


def test_second_document_is_reported_at_its_marker_and_ignored():
    text = "version: 0.1\n---\nversion: 9\nnonsense: 1\n"
    result = checking.check(text)
    assert expect.codes(result) == ["multiple-documents"]
    assert expect.spans(result, "multiple-documents") == [(1, 0, 1, 3)]
    assert result.model is not None and result.model.version == "0.1"


def test_leading_document_marker_is_fine():
    assert checking.check("---\nversion: 0.1\n").problems == ()


def test_empty_and_comment_only_files_are_empty():
    for text in ["", "\n\n", "# just a comment\n", "   "]:
        result = checking.check(text)
        problem = expect.only(result, "empty-file")
        assert expect.span_tuple(problem.span) == (0, 0, 0, 0)
        assert "kubelocal config init" in problem.message
        assert result.model is None


def billion_laughs(levels: int = 9) -> str:
    lines = ["version: 0.1", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        aliases = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{aliases}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_rejected_quickly_with_a_clear_problem():
    started = time.perf_counter()
    result = checking.check(billion_laughs())
    elapsed = time.perf_counter() - started
    problem = expect.only(result, "alias-limit")
    # Expanding a1..a3 costs 8,289 nodes; a4's first alias of a3 (7,381 more) crosses the limit,
    # so the problem is on a4's list (with its anchor).
    assert expect.span_tuple(problem.span) == (5, 4, 5, 45)
    assert problem.message == (
        f"Aliases here expand the document beyond {parsing.ALIAS_EXPANSION_LIMIT} nodes (an alias bomb?). "
        "Write the values out, or use fewer aliases of aliases."
    )
    assert result.model is None
    assert elapsed < 5  # generous: a runaway expansion would take minutes and gigabytes


def test_recursive_alias_is_rejected():
    result = checking.check("version: 0.1\nenv: &loop [*loop]\n")
    problem = expect.only(result, "alias-limit")
    assert "refers to a node that contains it" in problem.message
    assert result.model is None


def test_small_aliases_work_like_copies():
    text = (
        "version: 0.1\n"
        "env:\n"
        "  - &common {name: A, value: $(services:myapp)}\n"
        "  - {name: B, value: x}\n"
        "volumeMounts: []\n"
        "enableFeatures: &features [Probes]\n"
    )
    result = checking.check(text)
    assert result.problems == ()
    assert result.model is not None and result.model.features == ("Probes",)


def test_nesting_beyond_the_limit_is_rejected():
    depth = parsing.NESTING_LIMIT + 5
    text = "version: 0.1\nenv: " + "[" * depth + "]" * depth + "\n"
    result = checking.check(text)
    assert expect.codes(result) == ["nesting-limit"]
    assert result.model is None


def test_yaml_1_1_scalars_resolve_like_pyyaml():
    parsed = parsing.parse("a: yes\nb: 0123\nc: 1.0\nd: ~\ne: 'yes'\nf: off\ng: 0x1F\nh: 1_000\n")
    assert parsed.value == {
        "a": True, "b": 83, "c": 1.0, "d": None, "e": "yes", "f": False, "g": 31, "h": 1000,
    }  # fmt: skip


def test_unknown_tag_is_reported_and_read_as_text():
    result = checking.check("version: 0.1\nenv:\n  - name: A\n    value: !secret hunter2\n")
    problem = expect.only(result, "unknown-tag")
    assert expect.span_tuple(problem.span) == (3, 11, 3, 26)
    assert result.model is not None and result.model.env[0].value == "hunter2"


def test_non_scalar_key_is_a_wrong_type():
    result = checking.check("version: 0.1\n? [a, b]\n: c\n")
    assert expect.spans(result, "wrong-type") == [(1, 2, 1, 8)]


def test_a_leading_byte_order_mark_shifts_first_line_columns_only():
    result = checking.check("\ufeffevn: []\nversion: 0.1\n")
    assert expect.spans(result, "unknown-key") == [(0, 1, 0, 4)]
    result = checking.check("\ufeff\r\nenv:\n")
    assert expect.spans(result, "missing-version") == [(1, 0, 1, 3)]


MERGING = """\
version: 0.1
env:
  - &common
    name: SHARED
    value: $(services:myapp)
  - <<: *common
    name: OWN
"""


def test_merge_keys_work_as_in_yaml_1_1():
    result = checking.check(MERGING)
    assert result.problems == ()
    assert result.model is not None
    assert [(entry.name, entry.value) for entry in result.model.env] == [
        ("SHARED", "$(services:myapp)"),
        ("OWN", "$(services:myapp)"),
    ]


def test_a_problem_in_a_merged_value_is_at_the_anchor():
    text = MERGING.replace("$(services:myapp)", "$(servics:myapp)")
    result = checking.check(text)
    # One place in the text, reported once although both entries use it.
    assert expect.spans(result, "unknown-token-type") == [(4, 13, 4, 20)]


def test_an_unknown_key_merged_in_is_at_the_anchor():
    text = "version: 0.1\nbase: &base {valu: x}\nenv:\n  - <<: *base\n    name: A\n    value: y\n"
    result = checking.check(text)
    assert expect.spans(result, "unknown-key") == [(1, 0, 1, 4), (1, 13, 1, 17)]


def test_merging_something_that_is_not_a_mapping():
    result = checking.check("version: 0.1\nenv:\n  - <<: 5\n    name: A\n    value: x\n")
    problem = expect.only(result, "wrong-type")
    assert expect.span_tuple(problem.span) == (2, 8, 2, 9)
    assert problem.message.startswith("'<<' merges mappings")


def test_a_mapping_merging_itself_is_stopped():
    result = checking.check("version: 0.1\nenv:\n  - &loop\n    <<: *loop\n    name: A\n    value: x\n")
    assert expect.codes(result) == ["alias-limit"]
