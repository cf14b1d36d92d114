"""One fixture that gives the contract suite a state store of each kind, with a way to read its events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from cti.bus.port import EventBus
from cti.domain.events import CENTRE_STREAM, Event, Resync
from cti.domain.model import Policy
from cti.state.port import StateStore

POLICY = Policy(offer_timeout_ms=20_000, wrap_up_timeout_ms=60_000, retention_ms=600_000)


@dataclass
class StoreEnv:
    kind: str
    store: StateStore
    bus: EventBus

    async def events(self, after: int = 0) -> list[Event]:
        got = await self.bus.read_after(CENTRE_STREAM, after, limit=100_000)
        assert not isinstance(got, Resync)
        return got

    async def event_types(self, after: int = 0) -> list[str]:
        return [e.type for e in await self.events(after)]


@pytest.fixture(params=["memory", "redis"])
async def env(request: pytest.FixtureRequest) -> AsyncIterator[StoreEnv]:
    if request.param == "memory":
        from cti.bus.memory import MemoryEventBus
        from cti.state.memory import MemoryStateStore

        bus = MemoryEventBus()
        yield StoreEnv("memory", MemoryStateStore(bus, POLICY), bus)
        return
    import redis.asyncio as aioredis

    from cti.bus.redis import RedisEventBus
    from cti.state.redis import RedisStateStore

    url = request.getfixturevalue("redis_url")
    prefix = request.getfixturevalue("redis_prefix")
    client = aioredis.Redis.from_url(url)
    store = RedisStateStore(client, prefix=prefix, policy=POLICY)
    await store.setup()
    rbus = RedisEventBus(client, prefix=prefix)
    try:
        yield StoreEnv("redis", store, rbus)
    finally:
        await rbus.close()
        await store.close()
        await client.aclose()
