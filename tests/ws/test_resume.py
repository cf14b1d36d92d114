"""Snapshot first, replay by seq on resume, then live: no gap, no duplicate, on any node."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from cti.auth.service import Principal
from cti.bus.redis import stream_key
from cti.wiring import Services
from tests.conftest import until
from tests.ws.conftest import Node, close_of, events, publish, recv, recv_until, settings_for, start_node

STREAM = "agent:agent01"  # only in the tests with a node of their own

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def node(shared_node: Node) -> Node:
    """This module's tests share nodes; each test uses an agent (so a stream) of its own."""
    return shared_node


@pytest.fixture
def any_node(shared_any_node: Node) -> Node:
    return shared_any_node


def upto(seq: int) -> Any:
    return lambda m: m["type"] == "test.event" and m["seq"] >= seq


async def publish_slowly(services: Services, stream: str, count: int, start: int) -> None:
    for i in range(start, start + count):
        await services.bus.publish(stream, "test.event", {"n": i}, services.clock.now_ms())
        await asyncio.sleep(0)  # let the connection's replay and the live feed interleave with us


async def test_a_fresh_connection_gets_a_snapshot_then_live_events(any_node: Node) -> None:
    services = any_node.services
    stream = "agent:agent02"
    await publish(services, stream, 3)
    ws = await any_node.connect("agent02")
    snapshot = await recv(ws)
    assert snapshot["type"] == "snapshot"
    assert (snapshot["stream"], snapshot["seq"]) == (stream, 3)
    assert snapshot["data"]["agent"] == "agent02"
    assert snapshot["data"]["state"]["status"] == "logged_out"
    assert (await recv(ws))["type"] == "heartbeat"  # caught up
    await publish(services, stream, 2, start=3)
    got = await recv_until(ws, upto(5))
    assert events(got) == [4, 5]
    await ws.close()


async def test_resume_replays_what_was_missed_in_order_without_gaps_or_duplicates(any_node: Node) -> None:
    services = any_node.services
    stream = "agent:agent03"
    await publish(services, stream, 30)
    ws = await any_node.connect("agent03", last_seq=10)
    producer = asyncio.create_task(publish_slowly(services, stream, 70, start=30))
    got = await recv_until(ws, upto(100))
    await producer
    assert events(got) == list(range(11, 101))
    assert not [m for m in got if m["type"] in ("snapshot", "resync")]
    await ws.close()


async def test_resume_at_the_newest_seq_gets_only_live_events(any_node: Node) -> None:
    last = await publish(any_node.services, "agent:agent04", 5)
    ws = await any_node.connect("agent04", last_seq=last)
    assert (await recv(ws))["type"] == "heartbeat"
    await publish(any_node.services, "agent:agent04", 1, start=5)
    assert events(await recv_until(ws, upto(6))) == [6]
    await ws.close()


async def test_a_point_beyond_the_stream_gets_a_snapshot(node: Node) -> None:
    last = await publish(node.services, "agent:agent05", 4)
    ws = await node.connect("agent05", last_seq=last + 50)  # seen before the stream was reset
    snapshot = await recv(ws)
    assert (snapshot["type"], snapshot["seq"]) == ("snapshot", last)
    await publish(node.services, "agent:agent05", 1, start=4)
    assert events(await recv_until(ws, upto(last + 1))) == [last + 1]
    await ws.close()


async def test_a_resume_too_far_behind_gets_a_snapshot_instead_of_a_replay(node: Node) -> None:
    last = await publish(node.services, "agent:agent06", node.hub.options.max_replay + 10)
    ws = await node.connect("agent06", last_seq=1)
    snapshot = await recv(ws)
    assert (snapshot["type"], snapshot["seq"]) == ("snapshot", last)
    await ws.close()


@pytest.mark.redis
async def test_a_trimmed_point_gets_a_snapshot_then_live(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    settings = settings_for(tmp_path, backend="redis", redis_url=redis_url, redis_prefix=redis_prefix)
    async with start_node(settings) as node:
        await publish(node.services, STREAM, 10)
        client = aioredis.Redis.from_url(redis_url)
        try:
            await client.xtrim(stream_key(redis_prefix, STREAM), maxlen=3, approximate=False)
        finally:
            await client.aclose()
        ws = await node.connect("agent01", last_seq=2)
        snapshot = await recv(ws)
        assert (snapshot["type"], snapshot["seq"]) == ("snapshot", 10)
        await publish(node.services, STREAM, 2, start=10)
        assert events(await recv_until(ws, upto(12))) == [11, 12]
        await ws.close()


@pytest.mark.redis
async def test_a_client_resumes_on_another_node_with_exactly_the_missed_events(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    def settings(name: str) -> Any:
        return settings_for(tmp_path, name, backend="redis", redis_url=redis_url, redis_prefix=redis_prefix)

    async with start_node(settings("a")) as a, start_node(settings("b")) as b:
        await publish(a.services, STREAM, 5)
        ws = await a.connect("agent01", last_seq=0)
        got = await recv_until(ws, lambda m: m["type"] == "heartbeat")
        assert events(got) == [1, 2, 3, 4, 5]
        await ws.close()
        await publish(b.services, STREAM, 4, start=5)  # missed while away
        ticket = await a.ticket("agent01", api=True)  # any node's ticket works on any node, once
        ws = await b.open("/ws/agent", ticket=ticket, last_seq=5)
        got = await recv_until(ws, lambda m: m["type"] == "heartbeat")
        assert events(got) == [6, 7, 8, 9]
        await publish(a.services, STREAM, 1, start=9)  # live, published through the other node
        assert events(await recv_until(ws, upto(10))) == [10]
        again = await a.open("/ws/agent", ticket=ticket)
        assert (await close_of(again))[0] == 1008
        await ws.close()


async def test_snapshot_providers_are_pluggable_and_a_client_can_ask_for_one(node: Node) -> None:
    calls: list[Principal] = []

    async def provider(services: Services, principal: Principal) -> dict[str, Any]:
        calls.append(principal)
        return {"desk": principal.username, "n": len(calls)}

    stream = "agent:agent07"
    saved = dict(node.hub.snapshot_providers)
    node.hub.snapshot_providers["agent"] = provider
    try:
        await publish(node.services, stream, 2)
        ws = await node.connect("agent07")
        assert (await recv(ws))["data"] == {"desk": "agent07", "n": 1}
        await publish(node.services, stream, 2, start=2)
        await recv_until(ws, upto(4))
        await ws.send('{"type":"snapshot"}')  # reload, e.g. after a resync
        snapshot = (await recv_until(ws, lambda m: m["type"] == "snapshot"))[-1]
        assert (snapshot["seq"], snapshot["data"]) == (4, {"desk": "agent07", "n": 2})
        assert calls == [Principal("agent07", "agent")] * 2
        await publish(node.services, stream, 1, start=4)
        assert events(await recv_until(ws, upto(5))) == [5]
        await ws.close()
    finally:
        node.hub.snapshot_providers.clear()
        node.hub.snapshot_providers.update(saved)


async def test_supervisors_get_the_supervisor_stream_and_agents_only_their_own(node: Node) -> None:
    sup = await node.connect("supervisor01", "/ws/supervisor")
    snapshot = await recv(sup)
    assert snapshot["stream"] == "supervisor"
    assert {a["agent"] for a in snapshot["data"]["agents"]} >= {"agent01", "agent02"}
    other = await node.connect("agent08")
    await recv(other)
    await publish(node.services, "agent:agent09", 1)
    await publish(node.services, "supervisor", 1)
    await publish(node.services, "agent:agent08", 1)
    got = await recv_until(sup, upto(1))
    assert [(m["stream"], m["seq"]) for m in got if m["type"] == "test.event"] == [("supervisor", 1)]
    got = await recv_until(other, upto(1))
    assert [(m["stream"], m["seq"]) for m in got if m["type"] == "test.event"] == [("agent:agent08", 1)]
    await sup.close()
    await other.close()


async def test_one_subscription_per_stream_per_node(node: Node) -> None:
    first = await node.connect("agent10")
    second = await node.connect("agent10")
    await recv(first)
    await recv(second)
    feed = node.hub.feeds.get("agent:agent10")
    assert feed is not None
    assert len(feed.members) == 2
    assert len(node.hub.feeds) == 1
    await first.close()
    await second.close()
    await until(lambda: len(node.hub.feeds) == 0, message="the feed to stop with its last connection")
