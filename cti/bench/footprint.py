"""Memory per waiting contact, and the Redis keys of a benchmark run.

Both stores are measured on state only: the event stream is bounded (a ring in memory, MAXLEN on
Redis) and does not grow with the number of waiting contacts.
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import redis.asyncio as aioredis

from cti.bench.workload import Clock, Workload
from cti.domain.events import Event
from cti.state.memory import MemoryStateStore

_EVENT = Event("bench", 0, "bench", 0, {})


class _DiscardedEvents:
    """An event appender that keeps nothing, so only the store's own structures are counted."""

    def append(self, stream: str, type: str, data: dict[str, Any], at: int) -> Event:
        return _EVENT


async def memory_bytes_per_contact(wl: Workload) -> float:
    """Traced bytes held by a fresh ``MemoryStateStore`` after enqueuing the workload's contacts."""
    store = MemoryStateStore(_DiscardedEvents())
    clock = Clock()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for contact in wl.prefill:
            await store.enqueue(contact, clock())
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / len(wl.prefill)


def _is_state_key(key: bytes, prefix: str, others: tuple[str, ...]) -> bool:
    skip = (f"{prefix}:stream:", f"{prefix}:seq:", *others)  # the bus's keys, and not the store's
    return not key.decode(errors="replace").startswith(skip)


async def prefix_keys(client: aioredis.Redis, prefix: str) -> list[bytes]:
    """Every key of the run: ``{prefix}:...`` and any hash-tagged ``{{prefix}}...`` form."""
    keys: list[bytes] = []
    async for key in client.scan_iter(match=f"*{prefix}*", count=1_000):
        keys.append(key if isinstance(key, bytes) else str(key).encode())
    return keys


async def redis_bytes_per_contact(
    client: aioredis.Redis, prefix: str, contacts: int, others: tuple[str, ...] = ()
) -> float:
    """``MEMORY USAGE`` (exact: SAMPLES 0) summed over the store's keys (not those starting with one of
    ``others``), per waiting contact."""
    keys = [k for k in await prefix_keys(client, prefix) if _is_state_key(k, prefix, others)]
    total = 0
    for start in range(0, len(keys), 1_000):
        async with client.pipeline(transaction=False) as pipe:
            for key in keys[start : start + 1_000]:
                pipe.memory_usage(key, samples=0)
            total += sum(int(n or 0) for n in await pipe.execute())
    return total / contacts


async def delete_prefix(client: aioredis.Redis, prefix: str) -> int:
    keys = await prefix_keys(client, prefix)
    for start in range(0, len(keys), 500):
        await client.unlink(*keys[start : start + 500])
    return len(keys)
