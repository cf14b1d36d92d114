"""What only the Redis adapter has: the publish step other scripts embed, client shapes, reconnects."""

from __future__ import annotations

import asyncio
import json

import redis.asyncio as aioredis

from cti.bus.redis import PUBLISH_LUA, RedisEventBus, counter_key, encode_data, stream_key
from cti.domain.events import Event
from tests.conftest import until

AT = 1_767_225_600_000


async def test_layout_is_the_documented_one(client: aioredis.Redis, redis_prefix: str) -> None:
    bus = RedisEventBus(client, prefix=redis_prefix)
    await bus.publish("centre", "agent.updated", {"agent": "a1"}, AT)
    assert await client.get(f"{redis_prefix}:seq:centre") == b"1"
    entries = await client.xrange(f"{redis_prefix}:stream:centre")
    fields = {b"type": b"agent.updated", b"at": str(AT).encode(), b"data": b'{"agent":"a1"}'}
    assert entries == [(b"1-0", fields)]
    await bus.close()


async def test_embedded_publish_step_numbers_events_with_the_state_change(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    bus = RedisEventBus(client, prefix=redis_prefix)
    await bus.publish("centre", "first", {}, AT)
    sub = bus.subscribe("centre", after_seq=1)
    script = client.register_script(
        PUBLISH_LUA
        + """
        redis.call('SET', KEYS[3], 'busy')
        local a = fd_publish(KEYS[1], KEYS[2], 1000, '~', 'agent.updated', ARGV[1], ARGV[2])
        local b = fd_publish(KEYS[1], KEYS[2], 1000, '~', 'offer.created', ARGV[1], ARGV[3])
        return {a, b}
        """
    )
    keys = [counter_key(redis_prefix, "centre"), stream_key(redis_prefix, "centre"), f"{redis_prefix}:agent"]
    seqs = await script(keys=keys, args=[AT, encode_data({"agent": "a1"}), encode_data({"offer": "o1"})])
    assert seqs == [2, 3]
    expected = [
        Event("centre", 2, "agent.updated", AT, {"agent": "a1"}),
        Event("centre", 3, "offer.created", AT, {"offer": "o1"}),
    ]
    assert await bus.read_after("centre", 1) == expected
    assert [await asyncio.wait_for(anext(aiter(sub)), 5) for _ in range(2)] == expected
    await bus.close()


async def test_works_with_resp2_and_decoded_responses(redis_url: str, redis_prefix: str) -> None:
    client = aioredis.Redis.from_url(redis_url, protocol=2, decode_responses=True)
    bus = RedisEventBus(client, prefix=redis_prefix)
    sub = bus.subscribe("s", after_seq=0)
    sent = [await bus.publish("s", "t", {"i": i, "s": "é"}, AT) for i in range(3)]
    assert await bus.read_after("s", 0) == sent
    assert [await asyncio.wait_for(anext(aiter(sub)), 5) for _ in range(3)] == sent
    await bus.close()
    await client.aclose()


async def test_from_url_owns_its_client(redis_url: str, redis_prefix: str) -> None:
    bus = RedisEventBus.from_url(redis_url, prefix=redis_prefix, maxlen=10)
    event = await bus.publish("s", "t", {"nested": [1, {"x": None}]}, AT)
    assert await bus.read_after("s", 0) == [event]
    await bus.close()


async def test_subscriber_survives_a_killed_connection(client: aioredis.Redis, redis_prefix: str) -> None:
    bus = RedisEventBus(client, prefix=redis_prefix)
    sub = bus.subscribe("s", after_seq=0)
    await sub.ready()  # type: ignore[attr-defined]
    name = sub.client_name  # type: ignore[attr-defined]

    async def reader_ids() -> list[str]:
        return [c["id"] for c in await client.client_list() if c.get("name") == name]

    ids = await reader_ids()
    assert len(ids) == 1
    await client.client_kill_filter(_id=ids[0])
    # The XREAD connection is idle between bells: the next read finds it dead and reconnects. The
    # events come from another node (a bus of its own), so they can only arrive by a read.
    other = RedisEventBus(client, prefix=redis_prefix)
    sent = [await other.publish("s", "t", {"i": i}, AT) for i in range(3)]
    assert [await asyncio.wait_for(anext(aiter(sub)), 5) for _ in range(3)] == sent
    now = await reader_ids()
    assert len(now) == 1
    assert now != ids
    await bus.close()


def test_publish_script_contract_is_documented() -> None:
    assert "local function fd_publish(counter_key, stream_key, maxlen, trim, type, at, data)" in PUBLISH_LUA
    assert json.loads(encode_data({"a": [1, None]})) == {"a": [1, None]}


async def test_one_reader_connection_serves_every_subscription(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    bus = RedisEventBus(client, prefix=redis_prefix, block_ms=200)
    subs = [bus.subscribe(f"agent:a{i}", after_seq=0) for i in range(50)]
    for sub in subs:
        await sub.ready()  # type: ignore[attr-defined]
    names = [c.get("name") for c in await client.client_list()]
    assert names.count(subs[0].client_name) == 1  # type: ignore[attr-defined]
    sent = {
        i: [await bus.publish(f"agent:a{i}", "t", {"i": i, "n": n}, AT) for n in range(2)] for i in range(50)
    }
    for i, sub in enumerate(subs):
        assert [await asyncio.wait_for(anext(aiter(sub)), 5) for _ in range(2)] == sent[i]
    await bus.close()
    assert subs[0].client_name not in [c.get("name") for c in await client.client_list()]  # type: ignore[attr-defined]


async def test_a_new_subscription_does_not_wait_for_the_idle_reader(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    bus = RedisEventBus(client, prefix=redis_prefix, sweep_s=60)
    first = bus.subscribe("first", after_seq=0)
    await first.ready()  # type: ignore[attr-defined]
    await until(lambda: bus.reader.reads >= 1, message="the reader to read once and go idle")
    late = bus.subscribe("late", after_seq=0)
    event = await bus.publish("late", "t", {}, AT)
    assert await asyncio.wait_for(anext(aiter(late)), 5) == event  # not after the 60 s sweep
    await bus.close()


async def test_subscriptions_of_one_stream_at_different_points_each_get_their_own_sequence(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    bus = RedisEventBus(client, prefix=redis_prefix, block_ms=200)
    sent = [await bus.publish("s", "t", {"i": i}, AT) for i in range(6)]
    live = bus.subscribe("s", after_seq=6)
    await live.ready()  # type: ignore[attr-defined]
    replaying = bus.subscribe("s", after_seq=2)
    sent += [await bus.publish("s", "t", {"i": i}, AT) for i in range(6, 8)]
    assert [await asyncio.wait_for(anext(aiter(replaying)), 5) for _ in range(6)] == sent[2:]
    assert [await asyncio.wait_for(anext(aiter(live)), 5) for _ in range(2)] == sent[6:]
    await bus.close()
