"""The token grammar inside env values, alone (offsets in the value) and in a file (exact spans).

Covers: literal text and the three token types with their parsed fields; case-insensitive types;
every token problem (unknown type with suggestion, no type, unterminated, invalid port, service
name, namespace, too many dots, external endpoint without port or with a bad host, volume name)
at its exact offsets; spans inside plain, single- and double-quoted values (content one column
after the quote); values with escapes or folding fall back to the whole value node.
"""

import pytest

from kubelocal.config import checking, tokens

from . import expect


def test_literal_and_tokens_spell_out_the_value():
    value = (
        "http://$(services:myapp.ns:80,443)/x $(volumeMounts:data)/f $(externalEndpoints:db.example.com:1433)"
    )
    parsed = tokens.parse(value)
    assert parsed.issues == ()
    assert "".join(part.text for part in parsed.parts) == value
    literal, service, middle, volume, tail, endpoint = parsed.parts
    assert literal == tokens.Literal("http://", 0, 7)
    assert service == tokens.ServiceToken("$(services:myapp.ns:80,443)", 7, 34, "myapp", "ns", (80, 443))
    assert middle == tokens.Literal("/x ", 34, 37)
    assert volume == tokens.VolumeMountToken("$(volumeMounts:data)", 37, 57, "data")
    assert tail == tokens.Literal("/f ", 57, 60)
    assert endpoint == tokens.ExternalEndpointToken(
        "$(externalEndpoints:db.example.com:1433)", 60, 100, "db.example.com", (1433,)
    )


@pytest.mark.parametrize("written", ["services", "Services", "SERVICES", "sErViCeS"])
def test_token_type_is_case_insensitive(written):
    parsed = tokens.parse(f"$({written}:myapp)")
    assert parsed.issues == ()
    assert parsed.parts == (tokens.ServiceToken(f"$({written}:myapp)", 0, 17, "myapp", None, ()),)


def test_service_without_namespace_or_ports():
    (token,) = tokens.parse("$(services:myapp)").parts
    assert (token.name, token.namespace, token.ports) == ("myapp", None, ())


def test_text_without_tokens_is_one_literal():
    assert tokens.parse("plain $ text (with parens)").parts == (
        tokens.Literal("plain $ text (with parens)", 0, 26),
    )


def issue(value: str) -> tokens.Issue:
    parsed = tokens.parse(value)
    assert len(parsed.issues) == 1, parsed.issues
    return parsed.issues[0]


@pytest.mark.parametrize(
    ("value", "code", "start", "end", "message"),
    [
        (
            "$(servics:x)",
            "unknown-token-type",
            2,
            9,
            "Unknown token type 'servics'. Did you mean 'services'? Valid types: services, volumeMounts, "
            "externalendpoints.",
        ),
        (
            "a $(HOME) b",
            "unknown-token-type",
            2,
            9,
            "'$(HOME)' has no token type. Write $(services:NAME), $(volumeMounts:NAME) or "
            "$(externalendpoints:HOST:PORT).",
        ),
        (
            "x $(services:myapp",
            "unterminated-token",
            2,
            18,
            "The token starting with '$(services:myapp' has no closing ')'. Add ')' where the token ends.",
        ),
        (
            "$(services:myapp:0)",
            "invalid-port",
            17,
            18,
            "The port is '0'; a port is a whole number from 1 to 65535.",
        ),
        (
            "$(services:myapp:80,65536)",
            "invalid-port",
            20,
            25,
            "The port is '65536'; a port is a whole number from 1 to 65535.",
        ),
        (
            "$(services:myapp:http)",
            "invalid-port",
            17,
            21,
            "The port is 'http'; a port is a whole number from 1 to 65535.",
        ),
        (
            "$(services:myapp:)",
            "invalid-port",
            16,
            17,
            "The port is missing; a port is a whole number from 1 to 65535.",
        ),
        (
            "$(services:My_App)",
            "invalid-service-name",
            11,
            17,
            "The service name is 'My_App', which is not a valid DNS-1123 label: use at most 63 lowercase "
            "letters, digits and '-', starting and ending with a letter or digit.",
        ),
        (
            "$(services:myapp.-ns)",
            "invalid-namespace",
            17,
            20,
            "The namespace is '-ns', which is not a valid DNS-1123 label: use at most 63 lowercase "
            "letters, digits and '-', starting and ending with a letter or digit.",
        ),
        (
            "$(services:myapp.ns.svc.cluster.local)",
            "invalid-service-name",
            11,
            37,
            "'myapp.ns.svc.cluster.local' is not a service: write service-name or "
            "service-name.namespace-name (no cluster domain).",
        ),
        (
            "$(services:)",
            "invalid-service-name",
            0,
            12,
            "The service name is missing. Write $(services:NAME) or $(services:NAME.NAMESPACE).",
        ),
        (
            "$(externalendpoints:db.example.com)",
            "invalid-external-endpoint",
            0,
            35,
            "The external endpoint 'db.example.com' has no port. "
            "Write $(externalendpoints:db.example.com:PORT).",
        ),
        (
            "$(externalendpoints:bad_host!:1433)",
            "invalid-external-endpoint",
            20,
            29,
            "'bad_host!' is not a DNS name. Write $(externalendpoints:HOST:PORT) with a host name such as "
            "server.database.windows.net.",
        ),
        (
            "$(externalendpoints:db.example.com:99999)",
            "invalid-port",
            35,
            40,
            "The port is '99999'; a port is a whole number from 1 to 65535.",
        ),
        (
            "$(volumeMounts:Not_Valid)",
            "invalid-volume-name",
            15,
            24,
            "The volume name is 'Not_Valid', which is not a valid DNS-1123 label: use at most 63 lowercase "
            "letters, digits and '-', starting and ending with a letter or digit.",
        ),
        (
            "$(volumeMounts:)",
            "invalid-volume-name",
            0,
            16,
            "The volume name is missing. Write $(volumeMounts:NAME) naming a container volume.",
        ),
    ],
)
def test_each_token_issue_at_its_offsets(value, code, start, end, message):
    found = issue(value)
    assert (found.code, found.start, found.end, found.message) == (code, start, end, message)
    # A token with an issue stays literal text, so the parts still spell out the value.
    assert "".join(part.text for part in tokens.parse(value).parts) == value


def test_several_ports_each_checked():
    parsed = tokens.parse("$(services:a:1,0,2,x)")
    assert [(i.start, i.end) for i in parsed.issues] == [(15, 16), (19, 20)]


def test_ipv4_external_endpoint_is_accepted():
    (token,) = tokens.parse("$(externalendpoints:10.0.0.1:5432,5433)").parts
    assert isinstance(token, tokens.ExternalEndpointToken)
    assert token.ports == (5432, 5433)


def env_file(value_text: str) -> str:
    return f"version: 0.1\nenv:\n  - name: A\n    value: {value_text}\n"


@pytest.mark.parametrize(
    ("value_text", "span"),
    [
        ("x $(servics:a)", (3, 15, 3, 22)),  # plain: value column 11, token type at offset 4
        ('"x $(servics:a)"', (3, 16, 3, 23)),  # double-quoted: content starts one column later
        ("'x $(servics:a)'", (3, 16, 3, 23)),  # single-quoted: the same
        ('"\\tx $(servics:a)"', (3, 11, 3, 29)),  # an escape: offsets cannot be mapped, whole value
        ("'it''s $(servics:a)'", (3, 11, 3, 31)),  # a quote escape: whole value
    ],
)
def test_token_spans_follow_the_quoting(value_text, span):
    problem = expect.only(checking.check(env_file(value_text)), "unknown-token-type")
    assert expect.span_tuple(problem.span) == span


def test_folded_value_falls_back_to_the_whole_value():
    text = "version: 0.1\nenv:\n  - name: A\n    value: >-\n      x\n      $(servics:a)\n"
    problem = expect.only(checking.check(text), "unknown-token-type")
    assert expect.span_tuple(problem.span) == (3, 11, 5, 18)


def test_token_in_a_file_has_the_exact_range_of_the_bad_part():
    text = env_file("$(services:myapp.ns:80,0)")
    result = checking.check(text)
    problem = expect.only(result, "invalid-port")
    assert expect.text_at(text, problem.span) == "0"
