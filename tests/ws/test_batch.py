"""Opt-in batched frames (``batch=1``): a contiguous run of live events goes as one JSON array frame.

To make events queue up deterministically, a test holds the connection's writer inside the send of
one event (its websocket's ``send_text`` waits on a gate) and publishes the rest meanwhile: they wait
in the outbox, and the writer takes them as one run when the gate opens. The node beats rarely, so
no heartbeat splits a run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from websockets.asyncio.client import ClientConnection

from cti.domain.events import Resync
from cti.ws import validate_transport_message
from cti.ws.connection import Connection
from cti.ws.messages import encode
from cti.ws.outbox import Encoded
from tests.conftest import until
from tests.ws.conftest import FAST, Node, close_of, publish, recv_until, settings_for, start_node

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUIET = dataclasses.replace(FAST, heartbeat_interval_s=3600.0)  # only the "caught up" heartbeat
BURST = 10


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def node(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Node]:
    """One node for the module; each test uses a stream of its own."""
    async with start_node(settings_for(tmp_path_factory.mktemp("ws-batch")), QUIET) as n:
        yield n


# --- helpers -----------------------------------------------------------------------------------------
def unpack(raw: str | bytes) -> list[dict[str, Any]]:
    """The messages of one frame (an object, or an array of at least two); each must validate."""
    parsed = json.loads(raw)
    if isinstance(parsed, list):
        assert len(parsed) >= 2, "an array frame holds at least two messages"
        messages = parsed
    else:
        messages = [parsed]
    for msg in messages:
        assert isinstance(msg, dict)
        validate_transport_message(msg)
    return messages


async def frames_until(ws: ClientConnection, seq: int, timeout: float = 5.0) -> list[str]:
    """Raw frames until one carries the stream event ``seq``."""
    frames: list[str] = []
    while True:
        raw = await asyncio.wait_for(ws.recv(), timeout)
        assert isinstance(raw, str)
        frames.append(raw)
        if any(m["type"] == "test.event" and m["seq"] >= seq for m in unpack(raw)):
            return frames


def seqs(frames: list[str], type: str = "test.event") -> list[int]:
    return [m["seq"] for raw in frames for m in unpack(raw) if m["type"] == type]


def arrays(frames: list[str]) -> list[str]:
    return [raw for raw in frames if isinstance(json.loads(raw), list)]


def array(texts: list[str]) -> str:
    return "[" + ",".join(texts) + "]"


async def texts(node: Node, stream: str, after: int) -> list[str]:
    """Every event after ``after`` on ``stream``, encoded as the feed encodes it (once per node)."""
    events = await node.services.bus.read_after(stream, after, limit=1000)
    assert not isinstance(events, Resync)
    return [encode(e.to_json()) for e in events]


def connection(node: Node, user: str) -> Connection:
    [conn] = [c for c in node.hub.connections if c.principal.username == user]
    return conn


async def live(node: Node, user: str, path: str, **query: Any) -> tuple[ClientConnection, Connection]:
    """A connection that has had its snapshot (or replay) and its "caught up" heartbeat."""
    ws = await node.connect(user, path, **query)
    got = []
    while not any(m["type"] == "heartbeat" for m in got):
        got = unpack(await asyncio.wait_for(ws.recv(), 5))
    return ws, connection(node, user)


class Gate:
    """Holds the connection's writer inside ``send_text`` until opened."""

    def __init__(self, conn: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened = asyncio.Event()
        self.holding = asyncio.Event()
        send = conn.ws.send_text

        async def held(text: str) -> None:
            self.holding.set()
            await self.opened.wait()
            await send(text)

        monkeypatch.setattr(conn.ws, "send_text", held)


async def held_burst(
    node: Node, conn: Connection, stream: str, monkeypatch: pytest.MonkeyPatch, count: int = BURST
) -> tuple[int, Gate]:
    """Publish ``count`` events: the writer is held sending the first while the others wait in its
    outbox. Returns the first seq and the gate (open it to let the writer go on)."""
    gate = Gate(conn, monkeypatch)
    first = await publish(node.services, stream, 1)
    await until(gate.holding.is_set, message="the writer to be sending the first event")
    await publish(node.services, stream, count - 1, start=1)
    await until(lambda: conn.outbox.pending == count - 1, message="the burst to wait in the outbox")
    return first, gate


# --- tests -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("user", "path", "stream"),
    [("agent01", "/ws/agent", "agent:agent01"), ("supervisor01", "/ws/supervisor", "supervisor")],
)
async def test_with_batch_1_a_burst_arrives_as_one_array_frame_in_order(
    node: Node, monkeypatch: pytest.MonkeyPatch, user: str, path: str, stream: str
) -> None:
    ws, conn = await live(node, user, path, batch=1)
    assert conn.batch
    before = conn.cursor
    first, gate = await held_burst(node, conn, stream, monkeypatch)
    gate.opened.set()
    frames = await frames_until(ws, first + BURST - 1)
    expected = await texts(node, stream, before)
    assert len(expected) == BURST
    # The first went alone (it was being sent); the rest, queued meanwhile, in one array of exactly
    # the texts they would have had alone.
    assert frames == [expected[0], array(expected[1:])]
    assert arrays(frames) == [array(expected[1:])]
    assert seqs(frames) == list(range(first, first + BURST))
    assert {m["stream"] for raw in frames for m in unpack(raw)} == {stream}
    assert (conn.cursor, conn.sent) == (first + BURST - 1, 2 + BURST)  # snapshot, heartbeat, events
    await ws.close()


@pytest.mark.parametrize("batch", [None, 0])
async def test_without_batch_1_every_message_has_a_frame_of_its_own(
    node: Node, monkeypatch: pytest.MonkeyPatch, batch: int | None
) -> None:
    user = f"agent0{2 if batch is None else 3}"
    stream = f"agent:{user}"
    ws, conn = await live(node, user, "/ws/agent", batch=batch)
    assert not conn.batch
    before = conn.cursor
    first, gate = await held_burst(node, conn, stream, monkeypatch)
    gate.opened.set()
    frames = await frames_until(ws, first + BURST - 1)
    assert frames == await texts(node, stream, before)  # byte for byte what the feed encoded
    assert not arrays(frames)
    assert seqs(frames) == list(range(first, first + BURST))
    await ws.close()


async def test_a_gap_in_a_run_is_filled_from_the_bus_as_without_batch(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = "agent:agent04"
    ws, conn = await live(node, "agent04", "/ws/agent", batch=1)
    before = conn.cursor
    first, gate = await held_burst(node, conn, stream, monkeypatch)
    expected = await texts(node, stream, before)
    # What the writer will take next: three events that continue its cursor, then a gap (first + 4
    # never reached the outbox), then the rest.
    queued = conn.outbox._events
    queued.remove(next(e for e in queued if isinstance(e, Encoded) and e.seq == first + 4))
    gate.opened.set()
    frames = await frames_until(ws, first + BURST - 1)
    # The contiguous prefix goes as one array; the gap is filled from the bus one event per frame,
    # which covers the rest of the run too (now at or below the cursor: skipped). Every seq once.
    assert frames == [expected[0], array(expected[1:4]), *expected[4:]]
    assert seqs(frames) == list(range(first, first + BURST))
    await ws.close()


@pytest.mark.parametrize("path", ["/ws/agent", "/ws/supervisor"])
@pytest.mark.parametrize("bad", ["2", "yes", "true", "", "01"])
async def test_a_bad_batch_is_refused(node: Node, path: str, bad: str) -> None:
    user = "agent05" if path == "/ws/agent" else "supervisor01"
    ws = await node.connect(user, path, batch=bad)
    assert await close_of(ws) == (1008, "batch must be 0 or 1")


async def test_a_refused_batch_does_not_use_up_the_ticket(node: Node) -> None:
    ticket = await node.ticket("agent05", api=True)
    refused = await node.open("/ws/agent", ticket=ticket, batch="yes")
    assert (await close_of(refused))[0] == 1008
    ws = await node.open("/ws/agent", ticket=ticket, batch=1)
    assert unpack(await asyncio.wait_for(ws.recv(), 5))[0]["type"] == "snapshot"
    await ws.close()


async def test_resume_with_batch_1_has_no_gap_and_no_duplicate(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = "agent:agent06"
    await publish(node.services, stream, 30)
    ws = await node.connect("agent06", last_seq=10, batch=1)

    async def produce() -> None:  # live events interleave with the replay
        for i in range(30, 100):
            await node.services.bus.publish(stream, "test.event", {"n": i}, node.services.clock.now_ms())
            await asyncio.sleep(0)

    producer = asyncio.create_task(produce())
    frames = await frames_until(ws, 100)
    await producer
    messages = [m for raw in frames for m in unpack(raw)]
    assert seqs(frames) == list(range(11, 101))
    assert not [m for m in messages if m["type"] in ("snapshot", "resync")]
    caught_up = next(i for i, raw in enumerate(frames) if unpack(raw)[0]["type"] == "heartbeat")
    assert not arrays(frames[:caught_up])  # the replay: one event per frame
    assert seqs(frames[:caught_up])[:20] == list(range(11, 31))

    conn = connection(node, "agent06")
    first, gate = await held_burst(node, conn, stream, monkeypatch)
    assert first == 101
    gate.opened.set()
    frames = await frames_until(ws, 100 + BURST)
    assert seqs(frames) == list(range(101, 101 + BURST))
    assert len(arrays(frames)) == 1
    await ws.close()


async def test_heartbeats_and_pongs_are_never_in_an_array(node: Node) -> None:
    ws, _ = await live(node, "agent07", "/ws/agent", batch=1)
    for i in range(3):
        await ws.send(json.dumps({"type": "ping", "id": i}))
    got = await recv_until(ws, lambda m: m["type"] == "pong" and m["data"]["id"] == 2)
    assert [m["data"]["id"] for m in got] == [0, 1, 2]
    await ws.close()


async def test_a_batch_1_wallboard_gathers_events_for_its_window_and_sends_them_as_one_frame(
    node: Node,
) -> None:
    ws, conn = await live(node, "admin", "/ws/supervisor", batch=1)
    assert conn.window_s == node.hub.options.wallboard_window_s == 0.05  # the production default
    conn.window_s = 2.0  # stretched, so that publishing the events one by one never races it
    before = conn.cursor
    last = 0
    for i in range(5):  # each published on its own, as the live view does when calls trickle in
        last = await publish(node.services, "supervisor", 1, start=i)
    frames = await frames_until(ws, last)
    expected = await texts(node, "supervisor", before)
    assert len(expected) >= 5
    assert frames == [array(expected)]  # one frame, every event once, in order
    await ws.close()


async def test_only_batch_1_wallboards_wait_agents_and_other_clients_are_sent_at_once(node: Node) -> None:
    agent_ws, agent = await live(node, "agent08", "/ws/agent", batch=1)
    plain_ws, plain = await live(node, "supervisor01", "/ws/supervisor")
    assert (agent.window_s, plain.window_s) == (0.0, 0.0)
    await agent_ws.close()
    await plain_ws.close()
