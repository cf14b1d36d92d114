"""A node's Redis client queues a burst of commands for its pool instead of failing them."""

from __future__ import annotations

import asyncio

from cti.wiring import REDIS_CONNECTIONS, redis_client


async def test_a_burst_beyond_the_pool_waits_for_connections_and_loses_nothing(
    redis_url: str, redis_prefix: str
) -> None:
    client = redis_client(redis_url)
    key = f"{redis_prefix}:presence"
    burst = REDIS_CONNECTIONS * 8  # e.g. every agent's websocket closing at the same moment
    try:
        await asyncio.gather(*(client.zadd(key, {f"agent{i}": i}) for i in range(burst)))
        assert await client.zcard(key) == burst
        in_use = len(client.connection_pool._in_use_connections)  # type: ignore[attr-defined]
        assert in_use == 0
    finally:
        await client.aclose()
