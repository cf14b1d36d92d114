"""The Redis reader's doorbell: a publish rings its stream's channel and only rung streams are read.

Every bus here has a long sweep (60 s), so what is delivered was delivered by a bell, an admission
or a reconnection, never by the safety sweep. Bells are for other nodes' events: a node's own
appends reach its subscriptions directly (local delivery), so the bell tests publish from a second
bus, as another node would.
"""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from cti.bus.port import Subscription
from cti.bus.redis import RedisEventBus
from cti.domain.events import CENTRE_STREAM, Event, Resync
from cti.domain.states import AgentStatus
from cti.state.redis import RedisStateStore
from tests.conftest import until

AT = 1_767_225_600_000
SWEEP_S = 60.0


async def next_item(sub: Subscription) -> Event | Resync:
    return await asyncio.wait_for(anext(aiter(sub)), 5)


async def only_new_after(publisher: RedisEventBus, stream: str, *subs: Subscription) -> None:
    """Append a marker to ``stream``: each subscription's next item must be it (nothing before it
    was delivered twice, nothing is left over)."""
    marker = await publisher.publish(stream, "t", {"i": "marker"}, AT)
    for sub in subs:
        assert await next_item(sub) == marker


async def ready(*subs: Subscription) -> None:
    for sub in subs:
        await asyncio.wait_for(sub.ready(), 5)  # type: ignore[attr-defined]


async def settled(bus: RedisEventBus) -> None:
    """Wait until the reader has read everything it was asked to (it is then idle)."""
    await until(lambda: bus.reader.rung == 0 and bus.reader.reads > 0, message="the reader to settle")


async def idle_bus(client: aioredis.Redis, prefix: str, stream: str) -> RedisEventBus:
    """A bus whose reader follows one stream, ``stream``, and has settled: nothing rings."""
    bus = RedisEventBus(client, prefix=prefix, sweep_s=SWEEP_S)
    await ready(bus.subscribe(stream))
    await settled(bus)
    return bus


async def test_a_read_names_only_the_streams_that_rang(client: aioredis.Redis, redis_prefix: str) -> None:
    bus = RedisEventBus(client, prefix=redis_prefix, sweep_s=SWEEP_S)
    subs = [bus.subscribe(f"agent:a{i}") for i in range(500)]
    await ready(*subs)
    await settled(bus)
    assert bus.reader.streams == 500
    reads = bus.reader.reads
    chosen = [7, 250, 499]
    node_b = RedisEventBus(client, prefix=redis_prefix)
    sent = {i: await node_b.publish(f"agent:a{i}", "t", {"i": i}, AT) for i in chosen}
    for i in chosen:
        assert await next_item(subs[i]) == sent[i]
    await settled(bus)
    assert 1 <= bus.reader.reads - reads <= 3
    assert bus.reader.last_read_streams <= 3
    assert all(sub.pending == 0 for sub in subs)  # type: ignore[attr-defined]
    await bus.close()


@pytest.mark.parametrize("protocol", [2, 3])
async def test_entries_published_while_the_bells_are_down_arrive_once_in_order(
    redis_url: str, redis_prefix: str, protocol: int
) -> None:
    client = aioredis.Redis.from_url(redis_url, protocol=protocol)
    bus = RedisEventBus(client, prefix=redis_prefix, sweep_s=SWEEP_S)
    sub = bus.subscribe("s", after_seq=0)
    await ready(sub)
    node_b = RedisEventBus(client, prefix=redis_prefix)
    sent = [await node_b.publish("s", "t", {"i": 0}, AT)]
    assert await next_item(sub) == sent[0]

    async def bell_ids() -> list[str]:
        return [c["id"] for c in await client.client_list() if c.get("name") == bus.reader.bell_name]

    ids = await bell_ids()
    assert len(ids) == 1
    connects = bus.reader.connects
    await client.client_kill_filter(_id=ids[0])
    # Nobody hears these bells: the reader finds them when it reconnects and re-reads every stream.
    sent += [await node_b.publish("s", "t", {"i": i}, AT) for i in range(1, 4)]
    await until(lambda: bus.reader.connects > connects, message="the reader to reconnect")
    now = await bell_ids()
    assert len(now) == 1
    assert now != ids
    sent += [await node_b.publish("s", "t", {"i": i}, AT) for i in range(4, 7)]
    assert [await next_item(sub) for _ in range(6)] == sent[1:]
    await only_new_after(node_b, "s", sub)
    await bus.close()
    await client.aclose()


async def test_a_subscription_from_an_older_point_gets_its_backlog_without_a_new_publish(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    bus = await idle_bus(client, redis_prefix, "other")
    sent = [await bus.publish("s", "t", {"i": i}, AT) for i in range(5)]
    late = bus.subscribe("s", after_seq=2)
    assert [await next_item(late) for _ in range(3)] == sent[2:]
    await bus.close()


async def test_a_subscription_is_admitted_promptly_while_no_bells_ring(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    bus = await idle_bus(client, redis_prefix, "first")
    late = bus.subscribe("late")
    await asyncio.wait_for(late.ready(), 1)  # type: ignore[attr-defined]
    assert bus.reader.streams == 2
    event = await bus.publish("late", "t", {}, AT)
    assert await next_item(late) == event
    await bus.close()


async def test_a_stream_with_more_than_read_count_new_entries_is_read_to_the_end(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    bus = RedisEventBus(client, prefix=redis_prefix, sweep_s=SWEEP_S, read_count=10)
    sent = [await bus.publish("s", "t", {"i": i}, AT) for i in range(35)]
    other = bus.subscribe("other")
    await ready(other)
    await settled(bus)
    reads = bus.reader.reads
    sub = bus.subscribe("s", after_seq=0)  # rung once, at admission: 35 entries need 4 reads
    assert [await next_item(sub) for _ in range(35)] == sent
    assert bus.reader.reads - reads >= 4
    await bus.close()


async def test_the_state_stores_functions_ring_the_bell(client: aioredis.Redis, redis_prefix: str) -> None:
    store = RedisStateStore(client, prefix=redis_prefix)
    await store.setup()
    bus = RedisEventBus(client, prefix=redis_prefix, sweep_s=SWEEP_S)
    sub = bus.subscribe(CENTRE_STREAM)
    await ready(sub)
    await settled(bus)
    await store.register_agent("a1", ["q1"], AT)
    await store.set_status("a1", AgentStatus.AVAILABLE, None, AT + 1)
    item = await next_item(sub)
    assert isinstance(item, Event)
    assert (item.type, item.data["agent"], item.data["status"]) == ("agent.status", "a1", "available")
    await bus.close()
    await store.close()


async def test_sweep_and_read_count_must_be_positive(client: aioredis.Redis) -> None:
    with pytest.raises(ValueError, match="sweep_s"):
        RedisEventBus(client, sweep_s=0)
    with pytest.raises(ValueError, match="read_count"):
        RedisEventBus(client, read_count=0)
