"""The incremental checker gives exactly the full check's result, re-checking only what changed.

Covers: how a text is split (top-level keys, `env:` and `volumeMounts:` items at their list's
indentation, the comments above the first key, a list key without items); each reason the split is
refused and the full check runs (byte-order mark, tab, lone CR, document marker, directive, flow
collection at the top or list level, anchor, alias, merge key, block scalar, text before the first
key, a line left of a list's items, a syntax error, a date, many changed places); how many chunks a
change re-checks, also after a refused version; cached problems moved to their new lines (with
their fixes); the list index in schema messages after an item is inserted above; what depends on
several chunks (duplicate env and volume names, a repeated top-level key and its ignored items,
missing version, the suggestion for an unknown top-level key); the model of an incremental result;
and, property-based, that after every edit of a generated config (valid and broken) the result
equals `checking.check`'s.
"""

from __future__ import annotations

import hypothesis
import pytest
from hypothesis import strategies as st

from kubelocal.config import checking, incremental, problems

SAMPLE = (
    "# comment above\n"
    "version: 0.1\n"
    "env:\n"
    "  # before the first item\n"
    "  - name: A\n"
    "    value: x\n"
    "\n"
    "  - name: B\n"
    "    value: $(services:api:80)\n"
    "volumeMounts:\n"
    "- name: data\n"
    "  localPath: /tmp\n"
    "enableFeatures:\n"
    "  - Probes\n"
)


def chunk_summary(text: str) -> list[tuple[str, str, int, str]]:
    result = incremental.split(text)
    assert result.refusal is None, result.refusal
    return [(chunk.kind, chunk.parent, chunk.line, text[chunk.start : chunk.end]) for chunk in result.chunks]


def test_a_config_splits_at_top_level_keys_and_list_items():
    assert chunk_summary(SAMPLE) == [
        ("top", "", 0, "# comment above\nversion: 0.1\n"),
        ("head", "env", 2, "env:\n  # before the first item\n"),
        ("item", "env", 4, "  - name: A\n    value: x\n\n"),
        ("item", "env", 7, "  - name: B\n    value: $(services:api:80)\n"),
        ("head", "volumeMounts", 9, "volumeMounts:\n"),
        ("item", "volumeMounts", 10, "- name: data\n  localPath: /tmp\n"),
        ("top", "", 12, "enableFeatures:\n  - Probes\n"),
    ]


def test_a_list_key_without_items_or_with_a_mapping_is_one_chunk():
    text = "env:\nvolumeMounts:\n  name: x\nversion: 0.1"
    assert chunk_summary(text) == [
        ("top", "", 0, "env:\n"),
        ("top", "", 1, "volumeMounts:\n  name: x\n"),
        ("top", "", 3, "version: 0.1"),
    ]


def test_crlf_lines_split_like_lf_lines():
    text = SAMPLE.replace("\n", "\r\n")
    assert [line for _, _, line, _ in chunk_summary(text)] == [0, 2, 4, 7, 9, 10, 12]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the text is empty"),
        ("\ufeffversion: 0.1\n", "the text has the character U+FEFF"),
        ("version: 0.1\nenv:\n\t- name: a\n", "the text has the character U+0009"),
        ("version: 0.1\renv:\n", "the text has a line break that is a lone CR"),
        ("version: 0.1\u2028env:\n", "the text has the character U+2028"),
        ("version: 0.1\n---\nenv:\n", "line 2 is a document marker"),
        ("version: 0.1\n...\n", "line 2 is a document marker"),
        ("%YAML 1.1\n---\nversion: 0.1\n", "line 1 starts with the YAML indicator '%'"),
        ("version: 0.1\nenv: [\n  {name: a, value: b}]\n", "the value on line 2 starts with '['"),
        ("version: 0.1\n{env: []}\n", "line 2 starts with the YAML indicator '{'"),
        ("version: 0.1\nenv:\n  - {name: a, value: b}\n", "an item of env starts with one of ['{']"),
        ("version: !!str 0.1\n", "the value on line 1 starts with '!'"),
        ("version: 0.1\nenv:\n  - !tag x\n", "an item of env starts with one of ['!']"),
        ("version: &v 0.1\n", "line 1 may have an anchor, alias or merge key"),
        ("version: 0.1\nenv:\n  - *item\n", "line 3 may have an anchor, alias or merge key"),
        ("version: 0.1\nenv: |\n  a: b\n", "the value on line 2 starts with '|'"),
        ("version: 0.1\nenv:\n  - name: a\n    value: *x\n", "line 4 may have an anchor, alias or merge key"),
        (
            "version: 0.1\nenv:\n  - name: a\n    value: [&x a]\n",
            "line 4 may have an anchor, alias or merge key",
        ),
        ("version: 0.1\nx:\n  <<: {a: 1}\n", "line 3 may have an anchor, alias or merge key"),
        ("  version: 0.1\n", "the text has no top-level key"),
        ("  version: 0.1\nenv:\n", "line 1 comes before the first top-level key"),
        ("# only a comment\n", "the text has no top-level key"),
        (
            "version: 0.1\nenv:\n  - name: a\n value: b\n",
            "line 4 is left of its list's items, or at their indentation, but no item",
        ),
        (
            "version: 0.1\nenv:\n  - name: a\n  value: b\n",
            "line 4 is left of its list's items, or at their indentation, but no item",
        ),
        (
            "version: 0.1\nenv:\n    - name: a\n  - name: b\n",
            "line 4 is left of its list's items, or at their indentation, but no item",
        ),
    ],
)
def test_the_split_is_refused_where_chunks_could_interact(text, reason):
    assert incremental.split(text) == incremental.Split(refusal=reason)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("version: 0.1\nenv:\n  - name: a\n    value: &x b\n  - name: c\n    value: *x\n", "anchor"),
        ("version: 0.1\nenv:\n  - <<: {name: a}\n    value: b\n", "merge key"),
        ("version: 0.1\nenv:\n  - name: a\n    value: |\n      b\n", "a chunk has a block scalar"),
        ("version: 0.1\nenv:\n  - name: 'a\nx: b'\n", "a chunk has a yaml-syntax problem"),
        ("version: 0.1\nenv:\n  - name: a\n    value: 2001-12-14\n", "a value the fast validator"),
        ("version: 0.1\nenv:\n  - name: a\n    value: {k: v}\n", None),
        ("version: 0.1\nvolumeMounts:\n  - name: token-*\n    localPath: /a & b*\n", None),
        ("version: 0.1\nenv:\n  - name: a\n    value: [1]\n", "could read like a list index"),
    ],
)
def test_chunks_that_cannot_be_trusted_make_the_check_full(text, reason):
    checker = incremental.IncrementalChecker()
    result = checker.check(text)
    assert result.problems == checking.check(text).problems
    if reason is None:
        assert checker.last_run.mode == "incremental"
    else:
        assert checker.last_run.mode == "full"
        assert checker.last_run.reason is not None and reason in checker.last_run.reason


def entries(count: int, *, value: str = "v") -> str:
    return "".join(f"  - name: N{number}\n    value: {value}\n" for number in range(count))


def test_an_edit_re_checks_only_its_chunk():
    checker = incremental.IncrementalChecker()
    text = "version: 0.1\nenv:\n" + entries(50)
    checker.check(text)
    assert checker.last_run == incremental.Run(mode="incremental", rechecked=52, chunks=52)
    edited = text.replace("value: v\n  - name: N21", "value: w\n  - name: N21")
    assert checker.check(edited).problems == checking.check(edited).problems
    assert checker.last_run == incremental.Run(mode="incremental", rechecked=1, chunks=52)
    assert checker.check(edited).problems == checking.check(edited).problems
    assert checker.last_run == incremental.Run(mode="incremental", rechecked=0, chunks=52)


def test_a_refused_version_keeps_the_cache_for_the_next_one():
    checker = incremental.IncrementalChecker()
    text = "version: 0.1\nenv:\n" + entries(20)
    checker.check(text)
    with_tab = text.replace("value: v\n  - name: N5", "value: v\t\n  - name: N5")
    assert checker.check(with_tab).problems == checking.check(with_tab).problems
    assert checker.last_run == incremental.Run(mode="full", reason="the text has the character U+0009")
    assert checker.check(text).problems == checking.check(text).problems
    assert checker.last_run == incremental.Run(mode="incremental", rechecked=0, chunks=22)


def test_many_changed_places_make_the_check_full_and_fill_the_cache_for_the_next():
    checker = incremental.IncrementalChecker()
    text = "version: 0.1\n" + "".join(f"key{number}: 1\n" for number in range(20))
    checker.check(text)
    assert checker.last_run.mode == "incremental"
    edited = text.replace(": 1\n", ": 2\n") + "".join(f"more{number}: 1\n" for number in range(10))
    assert checker.check(edited).problems == checking.check(edited).problems
    assert checker.last_run == incremental.Run(mode="full", reason="30 places changed")
    # Meanwhile the first 24 places were checked into the cache: the same text again needs 6.
    assert checker.check(edited).problems == checking.check(edited).problems
    assert checker.last_run == incremental.Run(mode="incremental", rechecked=6, chunks=31)


def test_cached_problems_move_with_their_chunk_fixes_included():
    checker = incremental.IncrementalChecker()
    text = "version: 0.1\nenv:\n" + entries(3) + "  - name: Q\n    value: yes\n"
    before = checker.check(text).problems
    assert [(problem.code, problem.span.start) for problem in before] == [
        ("ambiguous-scalar", problems.Position(9, 11))
    ]
    moved_text = text.replace("  - name: N1\n", "  # a new comment\n  # and another\n  - name: N1\n")
    after = checker.check(moved_text).problems
    assert checker.last_run.rechecked == 1  # the item whose text now starts with the comments
    (problem,) = after
    assert problem.span == problems.Span(problems.Position(11, 11), problems.Position(11, 14))
    assert problem.fixes[0].edits[0].span == problem.span
    assert after == checking.check(moved_text).problems


def test_a_moved_chunk_whose_messages_name_a_line_is_checked_again():
    checker = incremental.IncrementalChecker()
    text = "version: 0.1\nenv:\n" + entries(2) + "  - name: Q\n    value: q\n    name: R\n"
    [before] = checker.check(text).problems
    assert before.message.startswith("Duplicate key 'name': it is already set on line 7,")
    moved_text = text.replace("env:\n", "env:\n  # a comment\n")
    [after] = checker.check(moved_text).problems
    assert checker.last_run.rechecked == 2  # the list key's chunk, and the moved item
    assert after.message.startswith("Duplicate key 'name': it is already set on line 8,")
    assert after.data["first"] == {"line": 7, "column": 4}
    assert (after,) == checking.check(moved_text).problems


def test_schema_messages_name_the_items_new_place_in_its_list():
    checker = incremental.IncrementalChecker()
    text = "version: 0.1\nenv:\n" + entries(2) + "  - name: Q\n    valeu: x\n"
    assert [problem.message for problem in checker.check(text).problems] == [
        "env[2] needs a 'value' key. Add value: to it.",
        "Unknown key 'valeu' in env[2]. Did you mean 'value'? Valid keys here: name, value.",
    ]
    inserted = text.replace("  - name: N0\n", "  - name: NEW\n    value: n\n  - name: N0\n")
    result = checker.check(inserted)
    assert checker.last_run.rechecked == 1
    assert [problem.message for problem in result.problems] == [
        "env[3] needs a 'value' key. Add value: to it.",
        "Unknown key 'valeu' in env[3]. Did you mean 'value'? Valid keys here: name, value.",
    ]
    assert result.problems == checking.check(inserted).problems


def test_problems_across_chunks_are_the_full_checks():
    text = (
        "evn:\n"
        "  - name: A\n"
        "env:\n"
        "  - name: A\n    value: a\n"
        "  - name: A\n    value: b\n"
        "volumeMounts:\n"
        "  - name: v\n    localPath: /a\n"
        "  - name: v\n    localPath: /b\n"
        "env:\n"
        "  - name: ignored\n    valeu: x\n"
    )
    checker = incremental.IncrementalChecker()
    result = checker.check(text)
    assert checker.last_run.mode == "incremental"
    assert result.problems == checking.check(text).problems
    assert [(problem.code, problem.span.start.line) for problem in result.problems] == [
        ("missing-version", 0),
        ("unknown-key", 0),
        ("duplicate-env-name", 5),
        ("duplicate-volume-mount", 10),
        ("duplicate-key", 12),
    ]
    assert result.problems[1].data["suggestion"] is None  # env is present: no suggestion
    renamed = text.replace("env:\n  - name: A\n    value: a", "xnv:\n  - name: A\n    value: a")
    renamed_result = checker.check(renamed)
    assert renamed_result.problems == checking.check(renamed).problems
    # The later env key is the first one now: its item counts, and env is no suggestion any more.
    assert [
        problem.data.get("suggestion") for problem in renamed_result.problems if problem.code == "unknown-key"
    ] == [None, None, "value"]


def test_the_model_of_an_incremental_result_is_built_from_its_text():
    checker = incremental.IncrementalChecker()
    text = "version: 0.1\nenv:\n" + entries(3)
    result = checker.check(text)
    assert checker.last_run.mode == "incremental" and result.parsed is None
    assert result.model is not None
    assert [entry.name for entry in result.model.env] == ["N0", "N1", "N2"]


# -- property-based: any edit, the full check's result --------------------------------------------

# Mostly what makes the incremental path work, sometimes what makes it fall back.
NAMES = ["A", "B", "a b", "1X", "''", "N_1", "é", "yes", "A  # c", "A", "B"]
RARE_NAMES = ["[0]", '"q\\x5b0]"', "!!str T"]
VALUES = [
    "v", "http://$(services:api.shop:8080)", "$(svc:x)", "$(services:Bad_Name)", "$(volumeMounts:d",
    "yes", "0123", "''", "😀 ü", "{k: v}", "~", "env[0]", "\"tab\\tq\"", "x\n      continued",
]  # fmt: skip
RARE_VALUES = ["[1]", "a: b", "&an x", "*an", "|\n      block", "2001-12-14"]
# A repeated key in an item ("name: B" again) names a line in its message: moved, it is re-checked.
# Lines added to an item, at its keys' indentation ({i}); some misplaced on purpose (`- x`, `k: v`).
ITEM_EXTRAS = ["{i}nme: x", "{i}value:\n{i}  k: v", "{i}name: B", "{i}name: B", "{i}  - x", "{i}k: v", "#"]
TOP_LINES = [
    "version: 0.1", "version: 0.2", "version: '0.1'", "version:", "evn:", "foo: 1", "enableFeatures:",
    "enableFeatures:\n  - Probes\n  - Prob", "# comment", "", "version: 0.1 # c", "version: 0.1",
]  # fmt: skip
RARE_TOP_LINES = ["<<: {a: 1}", "  - Probes", "env: []"]


def sometimes_rare(common: list[str], rare: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(common * 6 + rare)


EDIT_LINES = [
    "  - name: Z", "    value: z", "env:", "volumeMounts:", "- name: C", "  localPath: ''", "version: 0.1",
    "  ", "#", "    valeu: x", " x", "  - name: A", "- name: A", "    name: N_1", "  - ", "-", "evn: 1",
]  # fmt: skip
RARE_EDIT_LINES = ["---", "\t", "  - {name: a}", "enableFeatures: [Probes]"]
EDIT_CHARACTERS = [" ", "-", ":", "\n", "a", "#", "é", "0", " ", "-", ":", "\n", "A", "'"]
RARE_EDIT_CHARACTERS = ['"', "[", "\t", "\r\n", "&", "|"]


@st.composite
def items(draw: st.DrawFn, *, value_key: str, indent: str) -> str:
    name = draw(sometimes_rare(NAMES, RARE_NAMES))
    value = draw(sometimes_rare(VALUES, RARE_VALUES))
    lines = [f"{indent}- name: {name}", f"{indent}  {value_key}: {value}"]
    if draw(st.integers(0, 2)) == 0:
        lines.append(draw(st.sampled_from(ITEM_EXTRAS)).format(i=indent + "  "))
    return "\n".join(lines)


@st.composite
def configs(draw: st.DrawFn) -> str:
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["env", "volumeMounts", "top", "top"]))
        if kind == "top":
            parts.append(draw(sometimes_rare(TOP_LINES, RARE_TOP_LINES)))
            continue
        indent = draw(st.sampled_from(["  ", "", "    "]))
        value_key = "value" if kind == "env" else "localPath"
        listed = draw(st.lists(items(value_key=value_key, indent=indent), max_size=6))
        parts.append("\n".join([f"{kind}:", *listed]))
    text = "\n".join(parts) + draw(st.sampled_from(["\n", ""]))
    if draw(st.integers(0, 5)) == 0:
        text = text.replace("\n", "\r\n")
    return text


@st.composite
def edits(draw: st.DrawFn, text: str) -> str:
    lines = text.split("\n")
    line = draw(st.integers(0, len(lines)))
    kinds = ["insert line", "insert line", "delete line", "replace line", "insert", "delete"]
    kind = draw(st.sampled_from(kinds))
    if kind == "insert line":
        lines.insert(line, draw(sometimes_rare(EDIT_LINES, RARE_EDIT_LINES)))
    elif kind == "delete line" and line < len(lines):
        del lines[line]
    elif kind == "replace line" and line < len(lines):
        lines[line] = draw(sometimes_rare(EDIT_LINES, RARE_EDIT_LINES + RARE_NAMES))
    else:
        joined = "\n".join(lines)
        at = draw(st.integers(0, len(joined)))
        if kind == "insert":
            return joined[:at] + draw(sometimes_rare(EDIT_CHARACTERS, RARE_EDIT_CHARACTERS)) + joined[at:]
        return joined[:at] + joined[at + draw(st.integers(1, 3)) :]
    return "\n".join(lines)


@hypothesis.settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow, hypothesis.HealthCheck.data_too_large],
)
@hypothesis.given(data=st.data())
def test_after_every_edit_the_result_is_the_full_checks(data: st.DataObject):
    text = data.draw(configs())
    checker = incremental.IncrementalChecker()
    for _ in range(data.draw(st.integers(0, 8))):
        assert checker.check(text).problems == checking.check(text).problems, text
        hypothesis.event(f"{checker.last_run.mode} check")
        text = data.draw(edits(text))
    assert checker.check(text).problems == checking.check(text).problems, text


def test_the_generated_configs_are_mostly_checked_incrementally():
    """Guards the property test above: it proves little if every check falls back to the full one."""
    modes = []

    @hypothesis.settings(max_examples=60, deadline=None, database=None)
    @hypothesis.given(text=configs())
    def record(text: str) -> None:
        checker = incremental.IncrementalChecker()
        checker.check(text)
        modes.append(checker.last_run.mode)

    record()
    assert modes.count("incremental") > len(modes) / 3, modes
