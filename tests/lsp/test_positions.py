"""Position conversion between the checker (code points) and LSP (UTF-16, UTF-8 or UTF-32 units).

Aspects: astral characters count two UTF-16 units; lines split only at \\n, \\r\\n and \\r; a
byte-order mark shifts the first line; round trips; columns and lines out of range are clamped;
a column inside a surrogate pair moves to the character's start; other negotiated encodings; the fast
line split agrees with LSP's definition for any mix of line-break-like characters.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from kubelocal.config import problems
from kubelocal.lsp import positions


def lsp(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


def test_astral_characters_count_two_utf16_units():
    index = positions.TextIndex("a: 😀é😀 x\n")
    assert index.to_lsp(problems.Position(0, 7)) == lsp(0, 9)
    assert index.to_checker(lsp(0, 9)) == problems.Position(0, 7)


def test_lines_split_at_crlf_cr_and_lf_only():
    index = positions.TextIndex("a\r\nb\rc\nd\u2028e\x85f")
    assert index.lines == ["a", "b", "c", "d\u2028e\x85f"]
    assert index.to_lsp(problems.Position(3, 4)) == lsp(3, 4)


def test_byte_order_mark_shifts_the_first_line_only():
    index = positions.TextIndex("\ufeffversion: x\nenv: y\n")
    assert index.checker_text == "version: x\nenv: y\n"
    assert index.to_lsp(problems.Position(0, 9)) == lsp(0, 10)
    assert index.to_lsp(problems.Position(1, 5)) == lsp(1, 5)
    assert index.to_checker(lsp(0, 10)) == problems.Position(0, 9)


def test_out_of_range_positions_are_clamped():
    index = positions.TextIndex("ab\ncd")
    assert index.to_lsp(problems.Position(0, 99)) == lsp(0, 2)
    assert index.to_lsp(problems.Position(9, 0)) == lsp(1, 2)
    assert index.to_checker(lsp(7, 7)) == problems.Position(1, 2)


def test_a_column_inside_a_surrogate_pair_moves_to_the_character_start():
    assert positions.code_point_column("x😀y", 2) == 1
    assert positions.code_point_column("x😀y", 3) == 2


def test_utf8_and_utf32_encodings():
    line = "é😀z"
    assert positions.unit_column(line, 2, positions.UTF8) == 6
    assert positions.code_point_column(line, 6, positions.UTF8) == 2
    assert positions.unit_column(line, 2, positions.UTF32) == 2
    index = positions.TextIndex(line, encoding=positions.UTF8)
    assert index.to_lsp(problems.Position(0, 3)) == lsp(0, 7)


@given(st.text(), st.integers(min_value=0, max_value=50), st.integers(min_value=0, max_value=200))
def test_round_trip_of_any_position_in_any_text(text, line, column):
    index = positions.TextIndex(text)
    converted = index.to_lsp(problems.Position(line, column))
    assert 0 <= converted.line < len(index.lines)
    assert 0 <= converted.character <= positions.unit_length(index.lines[converted.line])
    back = index.to_checker(converted)
    assert index.to_lsp(back) == converted


@given(
    st.lists(st.sampled_from(["a", "é", "\n", "\r", "\r\n", "\x0b", "\x0c", "\x85", "\u2028", " "])).map(
        "".join
    )
)
def test_lines_are_split_as_lsp_splits_them(text):
    assert positions.split_lines(text) == re.split(r"\r\n|\r|\n", text)
