"""``publish_once``: the idempotent fan-out step, run against every adapter (see conftest)."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from cti.bus.port import EventBus
from cti.bus.redis import RedisEventBus
from cti.domain.events import Event, Resync
from tests.bus.conftest import Buses
from tests.bus.test_bus_contract import AT, next_item

SOURCES = 200


async def test_appends_only_for_a_newer_source_seq(bus: EventBus) -> None:
    first = await bus.publish_once("s", 5, "t", {"n": 1}, AT)
    assert first == Event("s", 1, "t", AT, {"n": 1})
    assert await bus.publish_once("s", 5, "t", {"n": 2}, AT) is None  # the same source seq
    assert await bus.publish_once("s", 3, "t", {"n": 3}, AT) is None  # an older one
    second = await bus.publish_once("s", 9, "t", {"n": 4}, AT + 1)
    assert second == Event("s", 2, "t", AT + 1, {"n": 4})
    assert await bus.read_after("s", 0) == [first, second]
    assert await bus.last_seq("s") == 2


async def test_source_seqs_are_per_stream_and_publish_ignores_them(bus: EventBus) -> None:
    assert await bus.publish_once("a", 7, "t", {}, AT) is not None
    assert await bus.publish_once("b", 7, "t", {}, AT) is not None  # another stream: its own
    plain = await bus.publish("a", "t", {}, AT)  # no source seq: appended, records none
    assert plain.seq == 2
    assert await bus.publish_once("a", 7, "t", {}, AT) is None
    assert (await bus.publish_once("a", 8, "t", {}, AT)) == Event("a", 3, "t", AT, {})


async def test_subscribers_see_once_published_events(bus: EventBus) -> None:
    sub = bus.subscribe("s", after_seq=0)
    await bus.publish_once("s", 1, "t", {"i": 1}, AT)
    await bus.publish_once("s", 1, "t", {"i": 1}, AT)
    await bus.publish_once("s", 2, "t", {"i": 2}, AT)
    assert [await next_item(sub), await next_item(sub)] == [
        Event("s", 1, "t", AT, {"i": 1}),
        Event("s", 2, "t", AT, {"i": 2}),
    ]
    await sub.close()


@pytest.mark.parametrize("bad", [0, -1, True])
async def test_source_seq_must_be_positive(bus: EventBus, bad: int) -> None:
    with pytest.raises(ValueError, match="source_seq"):
        await bus.publish_once("s", bad, "t", {}, AT)
    assert await bus.last_seq("s") == 0


async def test_two_nodes_publishing_the_same_sources_append_each_exactly_once(buses: Buses) -> None:
    # Two nodes follow the same source and derive the same events from it, racing each other.
    first = buses.new()
    second = buses.peer(first)  # Redis: another client, as another node would be

    async def node(bus: EventBus, name: str) -> list[Event]:
        won = []
        for source in range(1, SOURCES + 1):
            event = await bus.publish_once("agent:a1", source, "t", {"source": source, "node": name}, AT)
            if event is not None:
                won.append(event)
        return won

    a, b = await asyncio.gather(node(first, "a"), node(second, "b"))
    stored = await first.read_after("agent:a1", 0)
    assert not isinstance(stored, Resync)
    assert [e.data["source"] for e in stored] == list(range(1, SOURCES + 1))  # each once, in order
    assert [e.seq for e in stored] == list(range(1, SOURCES + 1))  # dense seqs of its own
    assert len(a) + len(b) == SOURCES
    assert sorted(e.seq for e in a + b) == [e.seq for e in stored]
    assert all(e.data["node"] == ("a" if e in a else "b") for e in stored)


async def test_concurrent_publish_once_calls_for_one_source_seq_let_one_win(buses: Buses) -> None:
    first = buses.new()
    second = buses.peer(first)
    results = await asyncio.gather(
        *(b.publish_once("s", 1, "t", {"k": k}, AT) for k in range(8) for b in (first, second))
    )
    assert sum(r is not None for r in results) == 1
    assert await second.last_seq("s") == 1


async def test_redis_records_the_source_seq_at_the_documented_key(redis_url: str, redis_prefix: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    bus = RedisEventBus(client, prefix=redis_prefix)
    try:
        await bus.publish_once("agent:a1", 41, "t", {}, AT)
        assert await client.get(f"{redis_prefix}:src:agent:a1") == b"41"
        assert await client.get(f"{redis_prefix}:seq:agent:a1") == b"1"
        assert await bus.publish_once("agent:a1", 41, "t", {}, AT) is None
        assert await client.xlen(f"{redis_prefix}:stream:agent:a1") == 1
    finally:
        await bus.close()
        await client.aclose()


async def test_publish_once_many_is_publish_once_for_each_in_order(bus: EventBus) -> None:
    assert await bus.publish_once_many("s", []) == []
    await bus.publish_once("s", 4, "t", {"n": 0}, AT)
    got = await bus.publish_once_many(
        "s",
        [
            (3, "t", {"n": 1}, AT),
            (5, "u", {"n": 2}, AT + 1),
            (5, "t", {"n": 3}, AT),
            (7, "t", {"n": 4}, AT + 2),
        ],
    )
    assert got == [None, Event("s", 2, "u", AT + 1, {"n": 2}), None, Event("s", 3, "t", AT + 2, {"n": 4})]
    assert await bus.publish_once_many("s", [(7, "t", {}, AT)]) == [None]  # the last source seq is 7
    assert (await bus.publish_once("s", 8, "t", {}, AT)) == Event("s", 4, "t", AT, {})
    stored = await bus.read_after("s", 0)
    assert not isinstance(stored, Resync)
    assert [e.data.get("n") for e in stored] == [0, 2, 4, None]


async def test_publish_once_many_refuses_a_bad_source_seq_before_appending(bus: EventBus) -> None:
    with pytest.raises(ValueError, match="source_seq"):
        await bus.publish_once_many("s", [(1, "t", {}, AT), (0, "t", {}, AT)])
    if isinstance(bus, RedisEventBus):  # checked before the one round trip: nothing appended
        assert await bus.last_seq("s") == 0


async def test_two_nodes_publishing_runs_of_the_same_sources_append_each_exactly_once(buses: Buses) -> None:
    first = buses.new()
    second = buses.peer(first)

    async def node(bus: EventBus, name: str) -> int:
        won = 0
        for start in range(1, SOURCES + 1, 10):
            run = [(s, "t", {"source": s, "node": name}, AT) for s in range(start, start + 10)]
            won += sum(e is not None for e in await bus.publish_once_many("agent:a1", run))
        return won

    a, b = await asyncio.gather(node(first, "a"), node(second, "b"))
    stored = await first.read_after("agent:a1", 0)
    assert not isinstance(stored, Resync)
    assert [e.data["source"] for e in stored] == list(range(1, SOURCES + 1))
    assert [e.seq for e in stored] == list(range(1, SOURCES + 1))
    assert a + b == SOURCES
