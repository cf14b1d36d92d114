"""Bare ceilings, measured in the same run as the product: no product code in the way.

* in-memory routing on per-skill heaps (what ``MemoryStateStore`` could reach at best);
* one Redis round trip (PING) from one Python connection;
* one Lua script per decision (pop a contact, move an agent, append a stream entry), the shape of the
  Redis store's work, from 1 and from N clients.
"""

from __future__ import annotations

import asyncio
import heapq
import random
import time
import tracemalloc
from typing import Any

import redis.asyncio as aioredis

from cti.bench.stats import Latency
from cti.bench.workload import QUEUES, SEED, T0, Workload
from cti.domain.model import order_score

Heap = list[tuple[int, int]]


def _waiting_heaps(wl: Workload) -> dict[str, Heap]:
    heaps: dict[str, Heap] = {q: [] for q in QUEUES}
    for i, contact in enumerate(wl.prefill):
        heaps[contact.queue].append((order_score(contact.priority, T0 + i), i))
    for heap in heaps.values():
        heapq.heapify(heap)
    return heaps


class HeapRouting:
    """The matching the store does when an agent becomes available, on bare heaps: index the agent in
    its skills' idle heaps, take the first waiting contact across those skills, unindex the agent (an
    epoch bump; stale entries are dropped lazily at the top) and let a new contact join the same queue,
    so the waiting population stays constant."""

    def __init__(self, wl: Workload, burst: int) -> None:
        self.burst = burst
        rng = random.Random(SEED)
        heaps = _waiting_heaps(wl)
        idle: dict[str, list[tuple[int, int, int]]] = {q: [] for q in QUEUES}
        self._skills = [[(heaps[q], idle[q]) for q in wl.skills[aid]] for aid in wl.agent_ids]
        self._epoch = [0] * len(self._skills)
        self._priorities = [rng.randint(0, 3) for _ in range(1024)]
        self._now = T0 + len(wl.prefill)
        self._next_id = len(wl.prefill)
        self._turn = 0

    async def measure(self, clients: int) -> float:
        return self.rate(self.burst)

    def rate(self, decisions: int) -> float:
        """Decisions/s over ``decisions`` iterations of a tight loop."""
        skills, epoch, priorities = self._skills, self._epoch, self._priorities
        heappop, heappush = heapq.heappop, heapq.heappush
        agents, now, next_id, turn = len(skills), self._now, self._next_id, self._turn
        started = time.perf_counter()
        for i in range(turn, turn + decisions):
            agent = i % agents
            now += 1
            epoch[agent] += 1
            mark = epoch[agent]
            best: Heap | None = None
            for waiting, idle_heap in skills[agent]:
                while idle_heap and idle_heap[0][2] != epoch[idle_heap[0][1]]:
                    heappop(idle_heap)
                heappush(idle_heap, (now, agent, mark))
                if waiting and (best is None or waiting[0] < best[0]):
                    best = waiting
            assert best is not None
            heappop(best)
            epoch[agent] += 1
            next_id += 1
            heappush(best, (order_score(priorities[i & 1023], now), next_id))
        elapsed = time.perf_counter() - started
        self._now, self._next_id, self._turn = now, next_id, turn + decisions
        return decisions / elapsed


def heap_offer_latency(wl: Workload, samples: int) -> Latency:
    """A contact arrives in a queue with idle agents: longest-idle agent via its skill's heap (lazy
    deletion by epoch, as agents serve several targets), then the agent is idle again."""
    idle: list[tuple[int, int, int]] = [(T0 + i, i, 0) for i in range(wl.sizes.free_agents)]
    epoch = [0] * wl.sizes.free_agents
    waiting: Heap = []
    heappop, heappush = heapq.heappop, heapq.heappush
    durations: list[int] = []
    clock = time.perf_counter_ns
    now = T0 + wl.sizes.free_agents
    started = time.perf_counter()
    for i in range(samples):
        now += 1
        t0 = clock()
        heappush(waiting, (order_score(i & 3, now), i))
        while idle[0][2] != epoch[idle[0][1]]:
            heappop(idle)
        _, agent, _ = heappop(idle)
        heappop(waiting)
        epoch[agent] += 1
        durations.append(clock() - t0)
        heappush(idle, (now, agent, epoch[agent]))  # the call ends: idle again, at the back
    return Latency.of(durations, time.perf_counter() - started)


def heap_bytes_per_contact(wl: Workload) -> float:
    """Bytes per waiting contact of the bare structure: one heap entry with an id string."""
    # The ids are shared with the NewContact objects, as in the store: only the entries are counted.
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        heap = [(order_score(c.priority, T0 + i), c.id) for i, c in enumerate(wl.prefill)]
        heapq.heapify(heap)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / len(heap)


async def redis_ping(client: aioredis.Redis, count: int) -> Latency:
    await client.ping()  # connect outside the timing
    durations: list[int] = []
    clock = time.perf_counter_ns
    started = time.perf_counter()
    for _ in range(count):
        t0 = clock()
        await client.ping()
        durations.append(clock() - t0)
    return Latency.of(durations, time.perf_counter() - started)


# KEYS: waiting contacts (zset), idle agents (zset), busy agents (zset), stream. ARGV: now, the score of
# the contact that joins the back of the queue in place of the one taken (the population stays put).
DECISION_LUA = """
local contact = redis.call('ZPOPMIN', KEYS[1])
if contact[1] == nil then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], contact[1])
if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('RENAME', KEYS[3], KEYS[2]) end
local agent = redis.call('ZPOPMIN', KEYS[2])
redis.call('ZADD', KEYS[3], ARGV[1], agent[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', '10000', '*', 'type', 'offer.created', 'at', ARGV[1],
  'data', '{"contact":"' .. contact[1] .. '","agent":"' .. agent[1] .. '"}')
return 1
"""


class LuaDecision:
    """The bare Lua decision on keys ``{prefix}:*``, measured in bursts between the product's rounds so
    both see the same load on a shared machine; one-client bursts also time each call."""

    def __init__(self, prefix: str, wl: Workload, clients: list[aioredis.Redis], burst: int) -> None:
        self.keys = [f"{prefix}:{name}" for name in ("waiting", "idle", "busy", "stream")]
        self.wl = wl
        self.burst = burst
        self.client = clients[0]
        self.scripts: list[Any] = [c.register_script(DECISION_LUA) for c in clients]
        self.durations: list[int] = []  # one-client calls, ns
        self.bytes_per_contact = 0.0  # MEMORY USAGE of the waiting zset / members
        self._now = T0

    async def setup(self) -> None:
        """Fill the keys with the workload's waiting contacts and agents; load the script."""
        client = self.client
        waiting = {c.id: order_score(c.priority, T0 + i) for i, c in enumerate(self.wl.prefill)}
        await client.zadd(self.keys[0], waiting)
        usage = await client.memory_usage(self.keys[0], samples=0)
        self.bytes_per_contact = float(usage or 0) / len(waiting)
        await client.zadd(self.keys[1], {aid: T0 + i for i, aid in enumerate(self.wl.agent_ids)})
        for script in self.scripts:  # load the script and open each connection outside the timing
            await self._call(script)

    async def _call(self, script: Any) -> None:
        self._now += 1
        await script(keys=self.keys, args=[self._now, order_score(3, self._now)])

    async def measure(self, clients: int) -> float:
        """Decisions/s of one burst from ``clients`` connections at once."""
        if clients == 1:
            script, clock = self.scripts[0], time.perf_counter_ns
            started = time.perf_counter()
            for _ in range(self.burst):
                t0 = clock()
                await self._call(script)
                self.durations.append(clock() - t0)
            return self.burst / (time.perf_counter() - started)

        async def worker(script: Any) -> None:
            for _ in range(share):
                await self._call(script)

        share = self.burst * 2 // clients
        started = time.perf_counter()
        await asyncio.gather(*(worker(s) for s in self.scripts[:clients]))
        return share * clients / (time.perf_counter() - started)

    def latency(self) -> Latency:
        return Latency.of(self.durations, sum(self.durations) / 1e9)
