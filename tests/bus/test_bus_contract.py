"""The event bus contract, run against every adapter (see conftest: memory and Redis)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cti.bus.port import EventBus, Subscription
from cti.domain.events import Event, Resync
from tests.bus.conftest import Buses
from tests.conftest import until

AT = 1_767_225_600_000
TIMEOUT = 5.0


async def publish_n(bus: EventBus, stream: str, n: int, type: str = "t") -> list[Event]:
    return [await bus.publish(stream, type, {"i": i}, AT + i) for i in range(n)]


async def next_item(sub: Subscription) -> Event | Resync:
    return await asyncio.wait_for(anext(aiter(sub)), TIMEOUT)


async def take_until(sub: Subscription, seq: int) -> list[Event | Resync]:
    """Items from ``sub`` up to and including the one that covers ``seq`` (an event or a Resync)."""
    items: list[Event | Resync] = []
    while True:
        item = await next_item(sub)
        items.append(item)
        if (item.seq if isinstance(item, Event) else item.last_seq) >= seq:
            return items


def seqs(items: list[Event] | list[Event | Resync]) -> list[int]:
    assert all(isinstance(i, Event) for i in items), items
    return [i.seq for i in items if isinstance(i, Event)]


async def test_seqs_are_dense_per_stream_and_streams_are_independent(bus: EventBus) -> None:
    assert await bus.last_seq("a") == 0
    a = await publish_n(bus, "a", 3)
    b = await publish_n(bus, "b", 2)
    a += await publish_n(bus, "a", 2)
    assert [e.seq for e in a] == [1, 2, 3, 4, 5]
    assert [e.seq for e in b] == [1, 2]
    assert {e.stream for e in a} == {"a"}
    assert await bus.last_seq("a") == 5
    assert await bus.last_seq("b") == 2
    assert await bus.last_seq("never") == 0


async def test_read_after_returns_published_events_in_order(bus: EventBus) -> None:
    published = await publish_n(bus, "s", 10)
    assert await bus.read_after("s", 0) == published
    assert await bus.read_after("s", 6) == published[6:]
    assert await bus.read_after("s", 2, limit=3) == published[2:5]
    assert await bus.read_after("s", 10) == []
    assert await bus.read_after("empty", 0) == []


async def test_payload_round_trips_json_values(bus: EventBus) -> None:
    data: dict[str, Any] = {
        "s": "Zoë ✓",
        "i": -12,
        "big": 2**53,
        "f": 1.5,
        "t": True,
        "n": None,
        "l": [1, "x", None, [False]],
        "d": {"nested": {"k": []}},
    }
    sent = await bus.publish("s", "contact.created", data, AT)
    got = await bus.read_after("s", 0)
    assert got == [Event("s", 1, "contact.created", AT, data)]
    assert sent == got[0]


async def test_reading_a_trimmed_point_gives_resync(buses: Buses) -> None:
    bus = buses.new(maxlen=5)
    published = await publish_n(bus, "s", 12)  # 8..12 retained
    assert await bus.read_after("s", 7) == published[7:]
    assert await bus.read_after("s", 6) == Resync("s", 12, "trimmed")
    assert await bus.read_after("s", 0) == Resync("s", 12, "trimmed")


async def test_reading_beyond_the_newest_gives_resync(bus: EventBus) -> None:
    # e.g. a client that saw an earlier incarnation of the stream: silence would lose events.
    await publish_n(bus, "s", 3)
    assert await bus.read_after("s", 9) == Resync("s", 3, "trimmed")
    assert await bus.read_after("empty", 1) == Resync("empty", 0, "trimmed")


async def test_subscribe_receives_new_events_in_order(bus: EventBus) -> None:
    await publish_n(bus, "s", 3)
    sub = bus.subscribe("s")
    await sub.ready()  # type: ignore[attr-defined]
    await bus.publish("other", "t", {}, AT)
    published = await publish_n(bus, "s", 5)
    assert await take_until(sub, 8) == published
    await sub.close()


async def test_subscribe_after_seq_replays_then_continues_live(bus: EventBus) -> None:
    await publish_n(bus, "s", 10)
    sub = bus.subscribe("s", after_seq=4)
    await publish_n(bus, "s", 3)  # before the first read
    first = await take_until(sub, 6)
    await publish_n(bus, "s", 3)  # while replaying
    middle = await take_until(sub, 14)
    writer = asyncio.create_task(publish_n(bus, "s", 20))  # while live
    rest = await take_until(sub, 36)
    await writer
    assert seqs(first + middle + rest) == list(range(5, 37))
    await sub.close()


async def test_subscribe_from_the_newest_seq_misses_nothing(bus: EventBus) -> None:
    await publish_n(bus, "s", 2)
    sub = bus.subscribe("s", after_seq=await bus.last_seq("s"))
    published = await publish_n(bus, "s", 3)
    assert await take_until(sub, 5) == published
    await sub.close()


async def test_subscribe_from_a_trimmed_point_resyncs_then_continues(buses: Buses) -> None:
    bus = buses.new(maxlen=5)
    await publish_n(bus, "s", 12)
    sub = bus.subscribe("s", after_seq=2)
    assert await next_item(sub) == Resync("s", 12, "trimmed")
    published = await publish_n(bus, "s", 2)
    assert await take_until(sub, 14) == published
    await sub.close()


async def test_subscribe_beyond_the_newest_resyncs(bus: EventBus) -> None:
    await publish_n(bus, "s", 3)
    sub = bus.subscribe("s", after_seq=50)
    assert await next_item(sub) == Resync("s", 3, "trimmed")
    published = await publish_n(bus, "s", 1)
    assert await take_until(sub, 4) == published
    await sub.close()


async def test_slow_subscriber_gets_one_overflow_resync_and_never_delays_others(bus: EventBus) -> None:
    start = await bus.last_seq("s")
    fast = bus.subscribe("s", after_seq=start)
    slow = bus.subscribe("s", after_seq=start, max_pending=3)
    published = await publish_n(bus, "s", 30)
    assert await take_until(fast, 30) == published
    await until(lambda: slow.position == 30, message="the slow reader to reach 30")  # type: ignore[attr-defined]
    assert slow.pending <= 3  # type: ignore[attr-defined]

    items = await take_until(slow, 30)
    resync, events = items[0], items[1:]
    assert isinstance(resync, Resync)
    assert (resync.stream, resync.reason) == ("s", "overflow")
    assert seqs(events) == list(range(resync.last_seq + 1, 31))  # exactly one Resync, then no gap

    more = await publish_n(bus, "s", 2)
    assert await take_until(slow, 32) == more
    assert await take_until(fast, 32) == more
    await fast.close()
    await slow.close()


async def test_concurrent_publishers_get_unique_dense_seqs(buses: Buses) -> None:
    first = buses.new()
    second = buses.peer(first)  # Redis: another client, as another process would be

    async def writer(bus: EventBus, name: str) -> list[Event]:
        return [await bus.publish("s", "t", {"w": name, "i": i}, AT) for i in range(50)]

    results = await asyncio.gather(
        *(writer(b, f"{n}{k}") for n, b in (("a", first), ("b", second)) for k in range(4))
    )
    got = sorted(e.seq for events in results for e in events)
    assert got == list(range(1, 401))
    stored = await first.read_after("s", 0)
    assert not isinstance(stored, Resync)
    assert seqs(stored) == list(range(1, 401))
    by_seq = {e.seq: e.data for events in results for e in events}
    assert all(by_seq[e.seq] == e.data for e in stored)
    assert await second.last_seq("s") == 400


async def test_close_ends_iteration_and_stops_delivery(bus: EventBus) -> None:
    sub = bus.subscribe("s", after_seq=0)
    await bus.publish("s", "t", {}, AT)
    assert seqs(await take_until(sub, 1)) == [1]

    async def drain() -> list[Event | Resync]:
        return [item async for item in sub]

    consumer = asyncio.create_task(drain())
    await sub.close()
    assert await asyncio.wait_for(consumer, TIMEOUT) == []
    await bus.publish("s", "t", {}, AT)
    with pytest.raises(StopAsyncIteration):
        await next_item(sub)
    await sub.close()  # idempotent


async def test_closing_the_bus_closes_its_subscriptions(buses: Buses) -> None:
    bus = buses.new()
    subs = [bus.subscribe("s"), bus.subscribe("s", after_seq=0)]
    await bus.close()
    for sub in subs:
        with pytest.raises(StopAsyncIteration):
            await next_item(sub)
    with pytest.raises(RuntimeError):
        await bus.publish("s", "t", {}, AT)


@pytest.mark.parametrize("bad", [{"after_seq": -1}, {"after_seq": 0, "limit": 0}])
async def test_read_after_rejects_bad_arguments(bus: EventBus, bad: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must"):
        await bus.read_after("s", **bad)
