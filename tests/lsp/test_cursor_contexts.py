"""Cursor contexts: what is being typed where, read line by line from half-typed YAML.

Aspects: top-level keys (and which are present, per YAML document); keys of an env / volumeMounts
item after a dash, on a following line, or where a new item must start with a dash; feature items
(block and flow) and the features already listed; plain values; every part of a `$(…)` token
(type, service name, namespace, port, volume, external endpoint) and outside tokens; quoted values;
comments and unknown places giving NOWHERE; the replace range covering the rest of the word.
"""

from __future__ import annotations

import pytest

from kubelocal.config import problems, schema
from kubelocal.lsp import cursor_contexts, schemas

Place = cursor_contexts.Place
SECTIONS = schemas.section_shapes(schema.load_schema())


def analyse(text: str) -> cursor_contexts.CursorContext:
    """The context at the `|` in `text` (the bar is removed)."""
    before, _, after = text.partition("|")
    lines = (before + after).split("\n")
    line = before.count("\n")
    column = len(before.split("\n")[-1])
    return cursor_contexts.analyse(lines, problems.Position(line, column), sections=SECTIONS)


def test_top_level_key_knows_the_keys_already_present():
    context = analyse("version: 0.1\nen|\nenableFeatures: [Probes]\n")
    assert context.place is Place.KEY
    assert context.path == ()
    assert context.prefix == "en"
    assert (context.replace_start, context.replace_end) == (0, 2)
    assert context.present == {"version", "enableFeatures"}


def test_top_level_keys_of_another_yaml_document_do_not_count():
    context = analyse("version: 0.1\n---\n|\n")
    assert context.place is Place.KEY
    assert context.present == frozenset()


def test_item_key_after_a_dash_knows_the_item_keys_below():
    context = analyse("version: 0.1\nenv:\n  - na|\n    value: x\n  - name: B\n")
    assert context.place is Place.KEY
    assert context.path == ("env", "*")
    assert context.prefix == "na"
    assert context.present == {"value"}
    assert context.key_column == 4
    assert not context.needs_dash


def test_item_key_on_a_following_line_belongs_to_the_item_above():
    context = analyse("env:\n  - name: A\n    |\n  - value: other item\n")
    assert context.place is Place.KEY
    assert context.path == ("env", "*")
    assert context.present == {"name"}
    assert context.key_column == 4


def test_item_key_in_a_compact_sequence():
    context = analyse("volumeMounts:\n- name: config\n  |\n")
    assert context.path == ("volumeMounts", "*")
    assert context.present == {"name"}
    assert context.key_column == 2


def test_indented_line_without_an_item_needs_a_dash():
    context = analyse("env:\n  |\n")
    assert context.place is Place.KEY
    assert context.path == ("env", "*")
    assert context.needs_dash


def test_feature_item_knows_the_features_listed():
    context = analyse("enableFeatures:\n  - Probes\n  - Li|\n")
    assert context.place is Place.SEQUENCE_ITEM
    assert context.path == ("enableFeatures", "*")
    assert context.prefix == "Li"
    assert context.present == {"Probes"}


def test_feature_in_a_flow_sequence():
    context = analyse("enableFeatures: [Probes, Man|]\n")
    assert context.place is Place.SEQUENCE_ITEM
    assert context.prefix == "Man"
    assert context.present == {"Probes"}
    assert (context.replace_start, context.replace_end) == (25, 28)


def test_plain_value_of_a_top_level_key():
    context = analyse("version: 0.|\n")
    assert context.place is Place.VALUE
    assert context.path == ("version",)
    assert context.prefix == "0."
    assert context.replace_start == 9


def test_env_value_outside_a_token_replaces_a_dollar_just_typed():
    context = analyse("env:\n  - name: A\n    value: http://$|\n")
    assert context.place is Place.VALUE
    assert context.path == ("env", "*", "value")
    assert context.prefix == "$"
    assert context.replace_start == len("    value: http://")


@pytest.mark.parametrize(
    ("value", "place", "prefix", "service", "namespace"),
    [
        ("$(|", Place.TOKEN_TYPE, "", None, None),
        ("x $(serv|", Place.TOKEN_TYPE, "serv", None, None),
        ("$(services:my|", Place.SERVICE_NAME, "my", None, None),
        ("$(Services:|", Place.SERVICE_NAME, "", None, None),
        ("$(services:myapp.de|", Place.SERVICE_NAMESPACE, "de", "myapp", None),
        ("$(services:myapp:80|", Place.SERVICE_PORT, "80", "myapp", None),
        ("$(services:myapp.dev:80,|", Place.SERVICE_PORT, "", "myapp", "dev"),
        ("$(volumeMounts:con|", Place.VOLUME_NAME, "con", None, None),
        ("$(externalendpoints:db.example.com|", Place.EXTERNAL_ENDPOINT, "db.example.com", None, None),
        ("$(services:a) and $(volumemounts:|", Place.VOLUME_NAME, "", None, None),
    ],
)
def test_token_parts(value, place, prefix, service, namespace):
    context = analyse(f"env:\n  - name: A\n    value: {value}\n")
    assert context.place is place
    assert context.prefix == prefix
    assert context.service == service
    assert context.namespace == namespace


def test_closed_token_is_outside_any_token():
    assert analyse("env:\n  - name: A\n    value: $(services:a)|\n").place is Place.VALUE


def test_unknown_token_type_is_nowhere():
    assert analyse("env:\n  - name: A\n    value: $(secrets:|\n").place is Place.NOWHERE


def test_quoted_value_starts_after_the_quote():
    context = analyse('env:\n  - name: A\n    value: "$(services:ab|c"\n')
    assert context.place is Place.SERVICE_NAME
    assert context.in_quotes
    assert context.prefix == "ab"
    # The rest of the name after the cursor is replaced too, but not the closing quote.
    assert context.replace_end == len('    value: "$(services:abc')


def test_service_name_replacement_stops_at_the_namespace():
    context = analyse("env:\n  - name: A\n    value: $(services:m|yapp.dev)\n")
    assert context.replace_end == len("    value: $(services:myapp")


def test_comment_and_unknown_places_are_nowhere():
    assert analyse("version: 0.1 # a comm|\n").place is Place.NOWHERE
    assert analyse("unknown:\n  - |\n").place is Place.NOWHERE
    assert analyse("version: 0.1\n  |\n").place is Place.NOWHERE
    assert analyse("").place is Place.KEY


def test_cursor_beyond_the_document_is_nowhere():
    context = cursor_contexts.analyse(["version: 0.1"], problems.Position(5, 0), sections=SECTIONS)
    assert context.place is Place.NOWHERE


def test_key_at_finds_keys_and_their_columns():
    lines = ["version: 0.1", "env:", "  - name: A", '    "value": x']
    key = cursor_contexts.key_at(lines, problems.Position(2, 6), sections=SECTIONS)
    assert key == cursor_contexts.KeyAt(path=("env", "*", "name"), line=2, start=4, end=8)
    quoted = cursor_contexts.key_at(lines, problems.Position(3, 5), sections=SECTIONS)
    assert (
        quoted is not None and quoted.path == ("env", "*", "value") and (quoted.start, quoted.end) == (4, 11)
    )
    assert cursor_contexts.key_at(lines, problems.Position(0, 10), sections=SECTIONS) is None


def test_renaming_a_key_knows_a_colon_follows():
    context = analyse("ver|sion: 0.1\n")
    assert context.place is Place.KEY
    assert (context.replace_start, context.replace_end) == (0, 7)
    assert context.colon_follows
    assert not analyse("ver|\n").colon_follows
