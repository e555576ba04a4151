"""Any input: no exception, and every range lies inside the document.

Covers (property-based, hypothesis, bounded): arbitrary unicode text including control characters
and lone surrogates; YAML-ish fragments (keys, tokens, anchors, aliases, quotes, block scalars,
document markers, tabs, CRLF, NEL) combined at random; arbitrary bytes through `check_bytes`;
applying any offered fix never fails. Plus the large inputs: a 4,000-line file, a 10 MB file, a
very long line; all are checked without error (their speed is measured in benchmarks/).
"""

import re

import hypothesis
from hypothesis import strategies as st

from kubelocal.config import checking, fixes, problems

LINE_BREAK = re.compile(r"\r\n|\r|\n")

FRAGMENTS = [
    "version: 0.1\n", "version: ", "env:\n", "volumeMounts:\n", "enableFeatures:\n", "  - name: ",
    "    value: ", "    localPath: ", "name", "value", "$(", "services:", "volumeMounts:",
    "externalendpoints:", "myapp", ".ns", ":80", ",443", ")", "&a ", "*a", "&b [*a, *a]", "[", "]", "{",
    "}", ", ", "---\n", "...\n", "\t", "\r\n", "\n", "\r", "'", '"', "\\", "\\x", "# c", ": ", "- ", "? ",
    "|\n", ">-\n", "!tag ", "!!int ", "!!binary ", "\x85", "\u2028", "é", "😀", "0123", "yes", "~", "<<: ",
    "%YAML 1.1\n", "\ufeff", "\x00", "  ", "Probes", "",
]  # fmt: skip

yamlish = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)


def assert_inside(text: str, span: problems.Span) -> None:
    lines = LINE_BREAK.split(text)
    assert span.start <= span.end
    for position in (span.start, span.end):
        assert 0 <= position.line < len(lines)
        assert 0 <= position.column <= len(lines[position.line])


def assert_sound(text: str, result: checking.CheckResult) -> None:
    assert list(result.problems) == sorted(result.problems, key=lambda p: (p.span.start, p.span.end, p.code))
    for problem in result.problems:
        assert problem.code in problems.CODES and problem.message
        assert_inside(text, problem.span)
        for fix in problem.fixes:
            for edit in fix.edits:
                assert_inside(text, edit.span)
            fixes.apply_edits(text, fix.edits)
    if result.model is not None:
        for entry in result.model.env:
            for span in (entry.name_span, entry.value_span, *(part.span for part in entry.parts)):
                assert span is not None
                assert_inside(text, span)


PROPERTY_SETTINGS = hypothesis.settings(
    max_examples=200, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@hypothesis.given(any_text)
def test_any_unicode_text(text):
    assert_sound(text, checking.check(text))


@PROPERTY_SETTINGS
@hypothesis.given(yamlish)
@hypothesis.example("!!int ")  # found by hypothesis: PyYAML's int constructor fails on empty text
def test_yaml_like_fragments(text):
    assert_sound(text, checking.check(text))


@PROPERTY_SETTINGS
@hypothesis.given(st.binary(max_size=300))
def test_any_bytes(data):
    result = checking.check_bytes(data)
    for problem in result.problems:
        assert problem.span.start <= problem.span.end


def big_config(entries: int) -> str:
    lines = ["version: 0.1", "env:"]
    for number in range(entries):
        lines += [f"  - name: SERVICE_{number}_HOST", f"    value: $(services:service-{number}:80)/api"]
    return "\n".join(lines) + "\n"


def test_a_4000_line_file():
    text = big_config(2_000)
    assert text.count("\n") == 4_002
    result = checking.check(text)
    assert result.problems == ()
    assert result.model is not None and len(result.model.env) == 2_000


def test_a_10_megabyte_file_with_a_problem_at_the_end():
    text = big_config(2_000) + "# " + "x" * 10_000_000 + "\nevn: []\n"
    result = checking.check(text)
    assert [(p.code, p.span.start.line) for p in result.problems] == [("unknown-key", 4_003)]


def test_a_very_long_line():
    text = "version: 0.1\nenv:\n  - name: A\n    value: " + "a" * 1_000_000 + " $(servics:x)\n"
    (problem,) = checking.check(text).problems
    assert problem.code == "unknown-token-type"
    assert problem.span.start.column == 11 + 1_000_000 + 3
