"""Bytes in: UTF-8 (with or without a byte-order mark) is checked; anything else is one `encoding`
problem at the first byte that cannot be decoded, with no model.

Covers: UTF-8 with a BOM; an invalid byte on a later line (1-based line/column in the message,
0-based span); UTF-16 recognised by its BOM; a lone continuation byte at the very start.
"""

import codecs

from kubelocal.config import checking

from . import expect


def test_utf8_with_a_byte_order_mark_is_checked():
    result = checking.check_bytes(codecs.BOM_UTF8 + b"version: 0.1\nevn: []\n")
    assert expect.spans(result, "unknown-key") == [(1, 0, 1, 3)]


def test_invalid_byte_is_reported_at_its_place():
    result = checking.check_bytes("version: 0.1\nenv:\n  - name: é".encode() + b"\xff\n")
    problem = expect.only(result, "encoding")
    assert expect.span_tuple(problem.span) == (2, 11, 2, 12)
    assert problem.message == (
        "The file is not UTF-8 text: byte 0xFF at line 3, column 12 cannot be decoded. "
        "Save the file as UTF-8 and check again."
    )
    assert result.model is None


def test_utf16_is_named():
    result = checking.check_bytes("version: 0.1\n".encode("utf-16"))
    problem = expect.only(result, "encoding")
    assert expect.span_tuple(problem.span) == (0, 0, 0, 1)
    assert problem.message == "The file is UTF-16 text. Save it as UTF-8 and check again."


def test_a_stray_continuation_byte_at_the_start():
    problem = expect.only(checking.check_bytes(b"\x80version: 0.1\n"), "encoding")
    assert expect.span_tuple(problem.span) == (0, 0, 0, 1)
