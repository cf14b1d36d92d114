"""Local delivery: a node's own appends reach its subscriptions when the append returns, without a
bell-driven read, and exactly what a read would have given; other nodes' appends still come by read.

Buses here have a long sweep (60 s), so no read is the safety sweep's.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import redis.asyncio as aioredis

from cti.bus.port import Subscription
from cti.bus.redis import RedisEventBus
from cti.domain.events import CENTRE_STREAM, Event, Resync
from cti.domain.states import AgentStatus
from cti.state.redis import RedisStateStore
from tests.bus.test_redis_doorbell import SWEEP_S, next_item, only_new_after, ready, settled

AT = 1_767_225_600_000


def json_of(data: dict[str, Any]) -> Any:
    return json.loads(json.dumps(data))


async def settled_bus(
    client: aioredis.Redis, prefix: str, *streams: str
) -> tuple[RedisEventBus, list[Subscription]]:
    bus = RedisEventBus(client, prefix=prefix, sweep_s=SWEEP_S)
    subs = [bus.subscribe(stream) for stream in streams]
    await ready(*subs)
    await settled(bus)
    return bus, subs


async def test_own_appends_are_delivered_without_a_read(client: aioredis.Redis, redis_prefix: str) -> None:
    bus, (sub, marker_sub) = await settled_bus(client, redis_prefix, "agent:a1", "marker")
    reads = bus.reader.reads
    sent = [await bus.publish("agent:a1", "t", {"i": i}, AT) for i in range(3)]
    items = [(100 + i, "u", {"i": i}, AT) for i in range(2)]
    sent += [e for e in await bus.publish_once_many("agent:a1", items) if e is not None]
    once = await bus.publish_once("agent:a1", 200, "v", {"i": 9}, AT)
    assert once is not None
    sent.append(once)
    assert [await next_item(sub) for _ in range(6)] == sent
    # The bells of those appends come before this one's, on one connection: once the reader has
    # read this marker (another node's append), it has handled them, and read nothing for them.
    node_b = RedisEventBus(client, prefix=redis_prefix)
    marker = await node_b.publish("marker", "t", {}, AT)
    assert await next_item(marker_sub) == marker
    await settled(bus)
    assert bus.reader.reads - reads == 1
    assert bus.reader.last_read_streams == 1
    assert sub.pending == 0  # type: ignore[attr-defined]
    await bus.close()


async def test_a_local_event_equals_what_another_node_reads(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    node_a, (on_a,) = await settled_bus(client, redis_prefix, "s")
    node_b, (on_b,) = await settled_bus(client, redis_prefix, "s")
    published = await node_a.publish("s", "t", {"pair": (1, 2), "text": "é", "none": None}, AT)
    local, read = await next_item(on_a), await next_item(on_b)
    assert isinstance(local, Event)
    assert local == read
    assert local.data == {"pair": [1, 2], "text": "é", "none": None}  # decoded, as a read gives it
    assert published.data == {"pair": (1, 2), "text": "é", "none": None}  # the publisher's own dict
    await node_a.close()
    await node_b.close()


async def test_concurrent_appends_from_two_nodes_arrive_once_in_order(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    node_a, subs_a = await settled_bus(client, redis_prefix, "s", "s")
    node_b, subs_b = await settled_bus(client, redis_prefix, "s")
    # Concurrent appends on several pooled connections: their replies come back in any order, so
    # some of node A's own events cannot be delivered locally and must come by read instead.
    sent: list[Event] = []
    for burst in range(15):  # within the client's pool
        jobs = [node.publish("s", "t", {"i": (burst, i)}, AT) for i in range(5) for node in (node_a, node_b)]
        sent += await asyncio.gather(*jobs)
    sent.sort(key=lambda e: e.seq)
    assert [e.seq for e in sent] == list(range(1, 151))
    for sub in (*subs_a, *subs_b):
        got = [await next_item(sub) for _ in range(150)]
        assert [(e.seq, e.type, e.data) for e in got] == [(e.seq, e.type, json_of(e.data)) for e in sent]
    await only_new_after(node_b, "s", *subs_a, *subs_b)
    await node_a.close()
    await node_b.close()


async def test_a_full_inbox_is_told_to_resync_on_local_delivery(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    bus = RedisEventBus(client, prefix=redis_prefix, sweep_s=SWEEP_S)
    sub = bus.subscribe("s", max_pending=3)
    await ready(sub)
    sent = [await bus.publish("s", "t", {"i": i}, AT) for i in range(5)]
    first = await next_item(sub)
    assert first == Resync("s", 4, "overflow")  # the fourth found the inbox full
    after = await bus.publish("s", "t", {"i": 5}, AT)
    assert [await next_item(sub) for _ in range(2)] == [sent[4], after]
    await bus.close()


async def test_the_state_stores_events_reach_this_nodes_followers_without_a_read(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    bus, (centre, marker_sub) = await settled_bus(client, redis_prefix, CENTRE_STREAM, "marker")
    store = RedisStateStore(client, prefix=redis_prefix, on_appended=bus.deliver_appended)
    await store.setup()
    reads = bus.reader.reads
    agent = await store.register_agent("a1", ["q1"], AT)
    assert agent.id == "a1"  # the operation's own result still comes back
    await store.set_status("a1", AgentStatus.AVAILABLE, None, AT + 1)
    stored = await bus.read_after(CENTRE_STREAM, 0)
    assert isinstance(stored, list) and stored
    assert [await next_item(centre) for _ in stored] == stored  # exactly what a read gives
    assert stored[-1].type == "agent.status" and stored[-1].data["status"] == "available"
    node_b = RedisEventBus(client, prefix=redis_prefix)
    marker = await node_b.publish("marker", "t", {}, AT)
    assert await next_item(marker_sub) == marker
    await settled(bus)
    assert bus.reader.reads - reads == 1  # the marker's read only
    assert centre.pending == 0  # type: ignore[attr-defined]
    await bus.close()
