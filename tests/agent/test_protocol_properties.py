"""Properties that must hold for any input, checked with hypothesis.

Aspects: however the byte stream is chunked, the receiver produces the same events; arbitrary
bytes and arbitrary (valid or not) frame sequences never raise anything but the protocol's own
RemoteProtocolError; under any interleaving of sends, reads and acknowledgements a sender never
exceeds credit (the receiver never reports a flow-control violation) and unread data never
exceeds the receiver's connection window; every byte sent is received once, in order.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from kubelocal_agent.protocol import connection, errors, events, frames, targets

from . import wire

stream_ids = st.integers(min_value=0, max_value=12)
frame_strategy = st.one_of(
    st.builds(frames.Open, st.integers(1, 12), st.just(targets.connect(host="h", port=1))),
    st.builds(frames.Data, st.integers(1, 12), st.binary(max_size=300)),
    st.builds(frames.Close, st.integers(1, 12)),
    st.builds(frames.Reset, st.integers(1, 12), st.integers(0, 20), st.text(max_size=5)),
    st.builds(frames.WindowUpdate, stream_ids, st.integers(1, 1 << 20)),
    st.builds(frames.Ping, st.binary(min_size=8, max_size=8)),
    st.builds(frames.Pong, st.binary(min_size=8, max_size=8)),
    st.builds(frames.Request, st.integers(0, 5), st.sampled_from(["env", "status"]), st.just({})),
    st.builds(frames.Response, st.integers(0, 5), st.booleans(), st.just({})),
    st.builds(frames.GoAway, stream_ids, st.integers(0, 20), st.text(max_size=5)),
    st.builds(frames.Hello, st.integers(0, 3), st.sampled_from([wire.TOKEN, "x"])),
)


def _conversation() -> bytes:
    """A busy, valid byte stream from the engine, after its HELLO."""
    engine, _agent = wire.handshaken_pair()
    for index in range(4):
        sid = engine.open_stream(targets.connect(host=f"h{index}", port=80 + index))
        engine.send_data(sid, bytes([index]) * (500 * index + 1))
        if index % 2:
            engine.close_stream(sid)
    engine.send_request("status", {"n": 1})
    engine.ping(b"pingpong")
    engine.reset_stream(1, errors.ErrorCode.CANCEL, "bye")
    return engine.data_to_send()


CONVERSATION = _conversation()


def _agent_after_hello() -> connection.Connection:
    engine, agent = wire.new_pair()
    engine.initiate()
    agent.receive_data(engine.data_to_send())
    agent.data_to_send()
    return agent


@given(st.lists(st.integers(min_value=0, max_value=len(CONVERSATION)), max_size=30))
def test_any_chunking_yields_the_same_events(cuts):
    whole = _agent_after_hello().receive_data(CONVERSATION)
    agent = _agent_after_hello()
    chunked: list[events.Event] = []
    bounds = [0, *sorted(cuts), len(CONVERSATION)]
    for start, end in itertools.pairwise(bounds):
        chunked += agent.receive_data(CONVERSATION[start:end])
    assert chunked == whole
    assert len(whole) > 10


@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_protocol_errors(data):
    for receiver in (wire.new_pair()[1], _agent_after_hello()):
        try:
            receiver.receive_data(data)
        except errors.RemoteProtocolError:
            assert receiver.terminated


@given(st.lists(frame_strategy, max_size=25), st.booleans())
def test_arbitrary_frame_sequences_raise_only_protocol_errors(sequence, as_engine):
    engine, agent = wire.handshaken_pair()
    receiver = engine if as_engine else agent
    for frame in sequence:
        try:
            receiver.receive_data(frames.encode(frame))
        except errors.RemoteProtocolError:
            assert receiver.terminated
            return
        receiver.data_to_send()


actions = st.lists(
    st.tuples(st.sampled_from(["send", "read", "close", "open"]), st.integers(0, 3), st.integers(1, 3000)),
    max_size=60,
)


@settings(max_examples=150)
@given(actions)
def test_a_sender_never_exceeds_credit_and_every_byte_arrives_once(plan):
    window = connection.Settings(stream_window=2048, connection_window=4096)
    engine, agent = wire.handshaken_pair(agent_settings=window)
    opened = [engine.open_stream(targets.connect(host="h", port=1))]
    sent: dict[int, bytes] = {opened[0]: b""}
    received: dict[int, bytes] = {}
    unread: dict[int, int] = {}
    counter = 0
    for action, index, size in plan:
        sid = opened[index % len(opened)]
        if action == "open" and len(opened) < 4:
            new = engine.open_stream(targets.connect(host="h", port=1))
            opened.append(new)
            sent[new] = b""
        elif action == "send" and engine.stream_state(sid).name in ("OPEN", "HALF_CLOSED_REMOTE"):
            chunk = min(size, engine.send_credit(sid))
            payload = bytes((counter + i) % 251 for i in range(chunk))
            counter += chunk
            engine.send_data(sid, payload)
            sent[sid] += payload
        elif action == "close" and engine.stream_state(sid).name == "OPEN":
            engine.close_stream(sid)
        elif action == "read" and unread.get(sid):
            amount = min(size, unread[sid])
            unread[sid] -= amount
            agent.acknowledge_received_data(sid, amount)
        for event in agent.receive_data(engine.data_to_send()):
            if isinstance(event, events.DataReceived):
                received[event.stream_id] = received.get(event.stream_id, b"") + event.data
                unread[event.stream_id] = unread.get(event.stream_id, 0) + len(event.data)
        engine.receive_data(agent.data_to_send())
        assert sum(unread.values()) <= window.connection_window
        assert all(unread.get(s, 0) <= window.stream_window for s in opened)
    assert {sid: data for sid, data in sent.items() if data} == received
