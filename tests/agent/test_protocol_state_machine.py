"""Two correct peers, driven at random by hypothesis, never break the protocol between them.

Aspects: whatever both sides do, in any order, with frames delivered in any amounts (open,
write within credit, half-close, reset, read and acknowledge, ping, request and answer), neither
side ever raises RemoteProtocolError or resets a stream for a broken rule; every stream that
was not reset delivers exactly the bytes written, in order, followed by EOF once closed; and once
everything is delivered and read, no connection credit has leaked. Crossing frames (a RESET against a CLOSE,
data in flight against a reset, credit for a stream that just ended) are where this catches bugs.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kubelocal_agent.protocol import connection, events, streams, targets

from . import wire

SIDES = st.sampled_from(["engine", "agent"])
SMALL = connection.Settings(stream_window=1024, connection_window=3000, max_payload=1024)


class TwoPeers(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.peers = dict(
            zip(
                ("engine", "agent"),
                wire.handshaken_pair(engine_settings=SMALL, agent_settings=SMALL),
                strict=True,
            )
        )
        self.in_flight = {"engine": b"", "agent": b""}  # Bytes sent by that side, not yet delivered.
        self.written: dict[tuple[str, int], bytes] = {}  # (writer, stream) -> everything written
        self.received: dict[tuple[str, int], bytes] = {}  # (reader, stream) -> everything received
        self.unread: dict[tuple[str, int], int] = {}
        self.ended: set[tuple[str, int]] = set()  # (reader, stream) that saw EOF
        self.closed_by: set[tuple[str, int]] = set()  # (writer, stream) that sent CLOSE
        self.reset_streams: set[int] = set()
        self.counter = 0

    def _other(self, side: str) -> str:
        return "agent" if side == "engine" else "engine"

    def _flush(self, side: str) -> None:
        self.in_flight[side] += self.peers[side].data_to_send()

    def _streams_of(self, side: str) -> list[int]:
        return [sid for sid in self.peers[side].open_stream_ids if sid not in self.reset_streams]

    @rule(side=SIDES)
    def open_stream(self, side: str) -> None:
        peer = self.peers[side]
        if peer.accepting_streams and len(peer.open_stream_ids) < 6:
            sid = peer.open_stream(targets.connect(host="h", port=1))
            self.written[(side, sid)] = b""
            self._flush(side)

    @rule(side=SIDES, index=st.integers(0, 5), size=st.integers(1, 2500))
    def write(self, side: str, index: int, size: int) -> None:
        peer, candidates = self.peers[side], self._streams_of(side)
        if not candidates:
            return
        sid = candidates[index % len(candidates)]
        if peer.stream_state(sid) not in (streams.State.OPEN, streams.State.HALF_CLOSED_REMOTE):
            return
        size = min(size, peer.send_credit(sid))
        payload = bytes((self.counter + i) % 256 for i in range(size))
        self.counter += size
        peer.send_data(sid, payload)
        self.written[(side, sid)] = self.written.get((side, sid), b"") + payload
        self._flush(side)

    @rule(side=SIDES, index=st.integers(0, 5))
    def half_close(self, side: str, index: int) -> None:
        peer, candidates = self.peers[side], self._streams_of(side)
        if candidates:
            sid = candidates[index % len(candidates)]
            if peer.stream_state(sid) in (streams.State.OPEN, streams.State.HALF_CLOSED_REMOTE):
                peer.close_stream(sid)
                self.closed_by.add((side, sid))
                self._flush(side)

    @rule(side=SIDES, index=st.integers(0, 5))
    def reset(self, side: str, index: int) -> None:
        candidates = self._streams_of(side)
        if candidates:
            sid = candidates[index % len(candidates)]
            self.peers[side].reset_stream(sid)
            self.reset_streams.add(sid)
            self._flush(side)

    @rule(side=SIDES, index=st.integers(0, 5), size=st.integers(1, 3000))
    def read(self, side: str, index: int, size: int) -> None:
        pending = [key for key, count in self.unread.items() if key[0] == side and count]
        if pending:
            key = pending[index % len(pending)]
            amount = min(size, self.unread[key])
            self.unread[key] -= amount
            self.peers[side].acknowledge_received_data(key[1], amount)
            self._flush(side)

    @rule(side=SIDES)
    def ping_and_request(self, side: str) -> None:
        self.peers[side].ping()
        self.peers[side].send_request("status")
        self._flush(side)

    @rule(side=SIDES, amount=st.integers(1, 5000))
    def deliver(self, side: str, amount: int) -> None:
        """Deliver part of what `side` sent; the receiver reacts (answers requests, records data)."""
        chunk, self.in_flight[side] = self.in_flight[side][:amount], self.in_flight[side][amount:]
        receiver = self._other(side)
        for event in self.peers[receiver].receive_data(chunk):
            match event:
                case events.DataReceived(stream_id=sid, data=data):
                    key = (receiver, sid)
                    self.received[key] = self.received.get(key, b"") + data
                    self.unread[key] = self.unread.get(key, 0) + len(data)
                case events.StreamOpened(stream_id=sid):
                    self.written.setdefault((receiver, sid), b"")
                case events.StreamEnded(stream_id=sid):
                    self.ended.add((receiver, sid))
                case events.StreamReset(stream_id=sid, remote=remote):
                    assert remote, f"{receiver} reset stream {sid} itself: {event.reason}"
                    self.reset_streams.add(sid)
                    self.peers[receiver].acknowledge_received_data(sid, self.unread.pop((receiver, sid), 0))
                case events.RequestReceived(request_id=rid):
                    self.peers[receiver].send_response(rid, ok=True, body={})
        self._flush(receiver)

    @invariant()
    def streams_deliver_what_was_written(self) -> None:
        for (writer, sid), data in self.written.items():
            if sid in self.reset_streams:
                continue
            reader = self._other(writer)
            got = self.received.get((reader, sid), b"")
            assert data.startswith(got), f"stream {sid} from {writer} delivered bytes never written"
            if (reader, sid) in self.ended:
                assert (writer, sid) in self.closed_by and got == data

    def teardown(self) -> None:
        # Deliver and read everything: a correct pair never ends in a protocol error.
        for _ in range(20):
            for side in ("engine", "agent"):
                for key in [key for key in self.unread if key[0] == side]:
                    self.peers[side].acknowledge_received_data(key[1], self.unread.pop(key))
                self._flush(side)
                self.deliver(side, len(self.in_flight[side]) or 1)
        self.streams_deliver_what_was_written()
        for side, peer in self.peers.items():
            assert peer.unacknowledged_bytes == 0, f"{side} leaked connection credit"
            fresh = peer.open_stream(targets.connect(host="h", port=1))
            # Credit comes back in batches of half a window, so at least half of it is free.
            assert peer.send_credit(fresh) >= min(SMALL.stream_window, SMALL.connection_window // 2), side


TwoPeers.TestCase.settings = settings(max_examples=50, stateful_step_count=40, deadline=None)
test_two_correct_peers_never_break_the_protocol = TwoPeers.TestCase
