"""The `bus` fixture: every contract test runs against the memory and the Redis adapter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from cti.bus.memory import MemoryEventBus
from cti.bus.port import EventBus
from cti.bus.redis import RedisEventBus


class Buses:
    """Makes buses of one kind; ``peer`` is another bus over the same storage (for Redis: another
    client, i.e. other connections, as another process would have)."""

    def __init__(self, kind: str, redis_url: str = "", prefix: str = "") -> None:
        self.kind = kind
        self._url = redis_url
        self._prefix = prefix
        self._buses: list[EventBus] = []
        self._clients: list[aioredis.Redis] = []
        self._maxlen: dict[int, int] = {}

    def new(self, maxlen: int = 10_000) -> EventBus:
        bus: EventBus
        if self.kind == "memory":
            bus = MemoryEventBus(maxlen_per_stream=maxlen, json_roundtrip=True)
        else:
            client = aioredis.Redis.from_url(self._url)
            self._clients.append(client)
            # Exact trimming so tests about trimmed history are deterministic.
            bus = RedisEventBus(client, prefix=self._prefix, maxlen=maxlen, exact_trim=True, block_ms=200)
        self._buses.append(bus)
        self._maxlen[id(bus)] = maxlen
        return bus

    def peer(self, bus: EventBus) -> EventBus:
        return bus if self.kind == "memory" else self.new(self._maxlen[id(bus)])

    async def close(self) -> None:
        for bus in self._buses:
            await bus.close()
        for client in self._clients:
            await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def buses(request: pytest.FixtureRequest) -> AsyncIterator[Buses]:
    if request.param == "memory":
        made = Buses("memory")
    else:
        made = Buses("redis", request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix"))
    try:
        yield made
    finally:
        await made.close()
    # Closing the buses must leave nothing running (reader tasks, connections).
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert others == [], f"tasks left running: {others}"


@pytest.fixture
def bus(buses: Buses) -> EventBus:
    return buses.new()


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A Redis client of the test's own (the Redis bus tests build their buses on it)."""
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()
