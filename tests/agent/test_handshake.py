"""Handshake and versioning: the first frame each way carries the version and the session token.

Aspects: a matching token completes the handshake on both sides with the negotiated version; the
agent speaks only after the engine proved the token; a wrong token is refused with GOAWAY
AUTH_FAILED and neither the reason nor the agent's bytes reveal any token; a too-old version is
refused with UNSUPPORTED_VERSION; anything but HELLO first is a protocol error; HELLO twice is
too; an oversized HELLO is refused before it is buffered; a refused engine sees why; nothing can
be sent before the handshake; the supports_* functions follow the MIN_VERSION constants.
"""

from __future__ import annotations

import json

import pytest

from kubelocal_agent.protocol import connection, errors, events, frames, versions

from . import wire


def test_matching_tokens_complete_the_handshake_with_the_negotiated_version():
    engine, agent = wire.new_pair()
    engine.initiate()
    agent_events = wire.deliver(engine, agent)
    engine_events = wire.deliver(agent, engine)
    assert agent_events == [
        events.HandshakeCompleted(versions.PROTOCOL_VERSION, versions.PROTOCOL_VERSION, {})
    ]
    assert engine_events == [
        events.HandshakeCompleted(versions.PROTOCOL_VERSION, versions.PROTOCOL_VERSION, {})
    ]
    assert engine.negotiated_version == agent.negotiated_version == versions.PROTOCOL_VERSION


def test_the_agent_says_nothing_before_the_engine_shows_the_token():
    _engine, agent = wire.new_pair()
    assert agent.data_to_send() == b""
    with pytest.raises(errors.LocalProtocolError):
        agent.initiate()


def test_wrong_token_is_refused_with_goaway_and_no_token_leaks():
    engine, agent = wire.new_pair(agent_token="the-agents-own-token")
    engine.initiate()
    with pytest.raises(errors.RemoteProtocolError) as raised:
        wire.deliver(engine, agent)
    assert raised.value.error_code == errors.ErrorCode.AUTH_FAILED
    sent = agent.data_to_send()
    assert wire.decode_all(sent, after_hello=False) == [
        frames.GoAway(0, errors.ErrorCode.AUTH_FAILED, "session token refused")
    ]
    assert b"the-agents-own-token" not in sent and wire.TOKEN.encode() not in sent
    assert wire.TOKEN not in str(raised.value)
    assert agent.terminated and agent.receive_data(b"more") == []


def test_a_refused_engine_learns_why():
    engine, agent = wire.new_pair(agent_token="other")
    engine.initiate()
    with pytest.raises(errors.RemoteProtocolError):
        wire.deliver(engine, agent)
    assert wire.deliver(agent, engine) == [
        events.ConnectionTerminated(errors.ErrorCode.AUTH_FAILED, "session token refused", 0)
    ]
    assert not engine.handshake_complete


def test_the_engine_checks_the_agents_token_too():
    engine, agent = wire.new_pair()
    engine.initiate()
    agent.receive_data(engine.data_to_send())
    impostor = frames.encode(frames.Hello(versions.PROTOCOL_VERSION, "impostor"))
    agent.data_to_send()
    with pytest.raises(errors.RemoteProtocolError) as raised:
        engine.receive_data(impostor)
    assert raised.value.error_code == errors.ErrorCode.AUTH_FAILED


def test_too_old_a_version_is_refused():
    _engine, agent = wire.new_pair()
    hello = frames.encode(frames.Hello(versions.MIN_SUPPORTED_VERSION - 1, wire.TOKEN))
    with pytest.raises(errors.RemoteProtocolError) as raised:
        agent.receive_data(hello)
    assert raised.value.error_code == errors.ErrorCode.UNSUPPORTED_VERSION
    (goaway,) = wire.decode_all(agent.data_to_send(), after_hello=False)
    assert isinstance(goaway, frames.GoAway) and goaway.error_code == errors.ErrorCode.UNSUPPORTED_VERSION


def test_a_newer_peer_is_spoken_to_in_this_sides_version():
    _engine, agent = wire.new_pair()
    hello = frames.encode(frames.Hello(versions.PROTOCOL_VERSION + 5, wire.TOKEN, info={"from": "future"}))
    (completed,) = agent.receive_data(hello)
    assert completed == events.HandshakeCompleted(
        versions.PROTOCOL_VERSION, versions.PROTOCOL_VERSION + 5, {"from": "future"}
    )


@pytest.mark.parametrize(
    "first",
    [
        frames.encode(frames.Ping(b"12345678")),
        wire.raw_frame(frames.FrameType.DATA, 1, b"x"),
        wire.raw_frame(99, 0, b""),
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    ids=["ping", "data", "unknown-type", "http"],
)
def test_anything_but_hello_first_is_refused(first):
    _engine, agent = wire.new_pair()
    with pytest.raises(errors.RemoteProtocolError):
        agent.receive_data(first)
    (goaway,) = wire.decode_all(agent.data_to_send(), after_hello=False)
    assert isinstance(goaway, frames.GoAway) and goaway.error_code != errors.ErrorCode.NO_ERROR


def test_hello_after_the_handshake_is_a_protocol_error():
    _engine, agent = wire.handshaken_pair()
    with pytest.raises(errors.RemoteProtocolError) as raised:
        agent.receive_data(frames.encode(frames.Hello(versions.PROTOCOL_VERSION, wire.TOKEN)))
    assert raised.value.error_code == errors.ErrorCode.PROTOCOL_ERROR


def test_an_oversized_hello_is_refused_from_its_header():
    _engine, agent = wire.new_pair()
    header = frames.HEADER.pack(frames.MAX_HELLO_PAYLOAD + 1, frames.FrameType.HELLO, 0, 0)
    with pytest.raises(errors.RemoteProtocolError) as raised:
        agent.receive_data(header)
    assert raised.value.error_code == errors.ErrorCode.FRAME_SIZE_ERROR


def test_invalid_settings_in_hello_are_refused():
    _engine, agent = wire.new_pair()
    payload = json.dumps({"version": 1, "token": wire.TOKEN, "settings": {"stream_window": 0}}).encode()
    with pytest.raises(errors.RemoteProtocolError):
        agent.receive_data(wire.raw_frame(frames.FrameType.HELLO, 0, payload))


def test_nothing_can_be_sent_before_the_handshake():
    engine, _agent = wire.new_pair()
    engine.initiate()
    with pytest.raises(errors.LocalProtocolError):
        engine.open_stream({"kind": "connect", "host": "db", "port": 5432})
    with pytest.raises(errors.LocalProtocolError):
        engine.send_request("env")


def test_an_empty_token_is_not_accepted_by_either_side():
    with pytest.raises(ValueError):
        connection.Connection(role=connection.Role.AGENT, token="")


def test_hello_repr_hides_the_token():
    assert wire.TOKEN not in repr(frames.Hello(1, wire.TOKEN))


@pytest.mark.parametrize(
    ("check", "minimum"),
    [
        (versions.supports_requests, versions.MIN_VERSION_REQUESTS),
        (versions.supports_volume_streams, versions.MIN_VERSION_VOLUME_STREAMS),
    ],
)
def test_feature_checks_follow_their_minimum_version(check, minimum):
    assert check(minimum) and check(versions.PROTOCOL_VERSION)
    assert not check(minimum - 1)


def test_negotiation_picks_the_lower_version_and_refuses_the_unsupported():
    assert versions.negotiate(versions.PROTOCOL_VERSION + 1) == versions.PROTOCOL_VERSION
    assert versions.negotiate(versions.MIN_SUPPORTED_VERSION) == versions.MIN_SUPPORTED_VERSION
    assert versions.negotiate(versions.MIN_SUPPORTED_VERSION - 1) is None
