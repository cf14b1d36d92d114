"""``frontdoor bench``: the ceilings and the product's figures in one run, printed as one table."""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from collections.abc import Callable
from importlib.metadata import version
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from rich.console import Console

from cti.bench.ceilings import (
    HeapRouting,
    LuaDecision,
    heap_bytes_per_contact,
    heap_offer_latency,
    redis_ping,
)
from cti.bench.footprint import delete_prefix, memory_bytes_per_contact, redis_bytes_per_contact
from cti.bench.report import Results, print_report
from cti.bench.router_bench import RouterBench, StoreFigures
from cti.bench.stats import GC_THRESHOLDS, settle_gc
from cti.bench.workload import FULL, QUICK, Sizes, Workload
from cti.bus.memory import MemoryEventBus
from cti.state.memory import MemoryStateStore

if TYPE_CHECKING:
    from cti.state.redis import RedisStateStore

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def _loop_factory() -> tuple[Callable[[], asyncio.AbstractEventLoop] | None, str]:
    try:
        import uvloop
    except ImportError:
        return None, "asyncio"
    return uvloop.new_event_loop, f"uvloop {version('uvloop')}"


async def _memory(sizes: Sizes) -> StoreFigures:
    wl = Workload(sizes)
    bus = MemoryEventBus()  # a bounded ring: memory stays flat however long the run
    store = MemoryStateStore(bus)
    bench = RouterBench([store], wl, HeapRouting(Workload(sizes), sizes.heap_burst))
    await bench.prefill()
    await bench.register()
    figures = await bench.run([1], sizes.memory_rounds, sizes.memory_steady, sizes.samples)
    figures.bytes_per_contact = await memory_bytes_per_contact(Workload(sizes))
    await store.close()
    await bus.close()
    return figures


async def _redis(url: str, sizes: Sizes, res: Results) -> None:
    try:
        from cti.state.redis import RedisStateStore
    except ImportError as exc:
        res.redis_skipped = f"the Redis state store is not importable ({exc})"
        return
    admin = aioredis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        await admin.ping()
    except (RedisError, OSError) as exc:
        await admin.aclose()
        res.redis_skipped = f"Redis is not reachable at {url} ({exc.__class__.__name__}: {exc})"
        return
    prefix = f"fdbench-{uuid.uuid4().hex[:12]}"
    clients = [aioredis.Redis.from_url(url) for _ in range(sizes.clients)]
    stores: list[RedisStateStore] = []
    try:
        await _redis_run(RedisStateStore, clients, stores, admin, prefix, sizes, res)
    except (RedisError, OSError) as exc:
        # Keep the memory figures: report the failure in place of the Redis column.
        res.redis = None
        res.redis_failed = True
        res.redis_skipped = f"the Redis run failed ({exc.__class__.__name__}: {exc})"
    finally:
        try:
            await delete_prefix(admin, prefix)
        finally:
            for store in stores:
                await store.close()
            for client in clients:
                await client.aclose()
            await admin.aclose()


async def _redis_run(
    store_type: type[RedisStateStore],
    clients: list[aioredis.Redis],
    stores: list[RedisStateStore],
    admin: aioredis.Redis,
    prefix: str,
    sizes: Sizes,
    res: Results,
) -> None:
    wl = Workload(sizes)
    settle_gc()
    res.ping = await redis_ping(clients[0], sizes.pings)
    ceiling_prefix = f"{prefix}:ceiling"
    ceiling = LuaDecision(ceiling_prefix, wl, clients, sizes.lua_burst)
    await ceiling.setup()
    for client in clients:  # one store per connection: N clients really run N requests at once
        store = store_type(client, prefix=prefix)
        await store.setup()
        stores.append(store)
    bench = RouterBench(stores, wl, ceiling)
    await bench.prefill()
    bench.figures.bytes_per_contact = await redis_bytes_per_contact(
        admin, prefix, sizes.waiting, (ceiling_prefix,)
    )
    await bench.register()
    res.redis = await bench.run([1, sizes.clients], sizes.redis_rounds, sizes.redis_steady, sizes.samples)
    res.lua_latency = ceiling.latency()
    res.lua_bytes = ceiling.bytes_per_contact


def _check(res: Results, side: str, figures: StoreFigures | None) -> None:
    if figures is None:
        return
    expected = res.sizes.waiting
    if figures.no_offer:
        res.notes.append(f"{side}: {figures.no_offer} agents became available without a decision")
    if figures.unrouted:
        res.notes.append(f"{side}: {figures.unrouted} latency samples were not offered at once")
    if figures.waiting_at_end is not None and figures.waiting_at_end != expected:
        res.notes.append(f"{side}: {figures.waiting_at_end} waiting at the end, not {expected}")


async def _bench(redis_url: str, sizes: Sizes, quick: bool, loop: str) -> Results:
    started = time.perf_counter()
    wl = Workload(sizes)
    settle_gc()
    res = Results(sizes, quick, loop, heap_offer_latency(wl, sizes.samples), heap_bytes_per_contact(wl))
    res.memory = await _memory(sizes)
    gc.unfreeze()
    gc.collect()
    await _redis(redis_url, sizes, res)
    _check(res, "memory", res.memory)
    _check(res, "redis", res.redis)
    res.elapsed_s = time.perf_counter() - started
    return res


def run_bench(redis_url: str = DEFAULT_REDIS_URL, quick: bool = False, websockets: bool = True) -> int:
    """Run the benchmark and print the tables (routing, knowledge search, then the desktop channel unless
    ``websockets`` is False). Exit code 0; 1 when the Redis run failed part-way or a full (not quick)
    run misses a target. An unreachable Redis only skips the Redis column."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=170)
    sizes = QUICK if quick else FULL
    factory, loop = _loop_factory()
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            res = runner.run(_bench(redis_url, sizes, quick, loop))
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    found = print_report(console, res)
    from cti.bench.kb_report import run_kb_section

    found += run_kb_section(console, quick)
    if websockets:
        from cti.bench.ws_bench import run_ws_bench
        from cti.bench.ws_report import print_ws_report

        found += print_ws_report(console, run_ws_bench(redis_url, quick))
    missed = [t for t in found if t.met is False]
    return 1 if res.redis_failed or (missed and not quick) else 0
