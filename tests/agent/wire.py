"""Helpers for protocol tests: two sans-IO connections wired to each other, no sockets."""

from __future__ import annotations

from kubelocal_agent.protocol import connection, events, frames

TOKEN = "s3cret-session-token"


def new_pair(
    *,
    engine_settings: connection.Settings | None = None,
    agent_settings: connection.Settings | None = None,
    agent_token: str = TOKEN,
) -> tuple[connection.Connection, connection.Connection]:
    engine = connection.Connection(role=connection.Role.ENGINE, token=TOKEN, settings=engine_settings)
    agent = connection.Connection(role=connection.Role.AGENT, token=agent_token, settings=agent_settings)
    return engine, agent


def handshaken_pair(**kwargs: object) -> tuple[connection.Connection, connection.Connection]:
    engine, agent = new_pair(**kwargs)  # type: ignore[arg-type]
    engine.initiate()
    agent.receive_data(engine.data_to_send())
    engine.receive_data(agent.data_to_send())
    assert engine.handshake_complete and agent.handshake_complete
    return engine, agent


def deliver(source: connection.Connection, target: connection.Connection) -> list[events.Event]:
    """Move what `source` queued into `target` and return the events it produced."""
    return target.receive_data(source.data_to_send())


def settle(
    engine: connection.Connection, agent: connection.Connection
) -> tuple[list[events.Event], list[events.Event]]:
    """Shuttle bytes both ways until neither side has anything to send; events (engine, agent)."""
    engine_events: list[events.Event] = []
    agent_events: list[events.Event] = []
    for _ in range(100):
        to_agent, to_engine = engine.data_to_send(), agent.data_to_send()
        if not to_agent and not to_engine:
            return engine_events, agent_events
        agent_events += agent.receive_data(to_agent)
        engine_events += engine.receive_data(to_engine)
    raise AssertionError("the peers never went quiet")


def decode_all(data: bytes, *, after_hello: bool = True) -> list[frames.Frame | None]:
    buffer = frames.FrameBuffer(max_payload=frames.MAX_PAYLOAD_CEILING)
    buffer.expect_hello_only = not after_hello
    buffer.feed(data)
    return [frame for _type, frame in buffer.frames()]


def raw_frame(frame_type: int, stream_id: int, payload: bytes = b"", *, flags: int = 0) -> bytes:
    return frames.HEADER.pack(len(payload), frame_type, flags, stream_id) + payload
