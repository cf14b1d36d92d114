"""The product's figures, driven through the ``StateStore`` port so that the memory and the Redis store
run the very same seeded workload.

Phases, in order, on one population (``sizes.waiting`` contacts waiting throughout):

1. *available*: every agent (not ready) becomes available; each ``set_status`` makes one decision (one
   ``offer.created``). Untimed, every offer is then declined: the contacts keep their place, the agents
   are not ready again, and the next round starts from the same state. Median of the rounds.
2. *steady*: every agent holds an offer; each cycle is accept, end call, a new contact joins the same
   queue (the waiting count stays put), finish wrap-up (the next decision), read the agent's new offer:
   five store calls per decision, as a live centre makes them.
3. *latency*: a few agents serve only a queue in which nothing waits; time ``enqueue`` of a contact for
   that queue, which is offered at once; the caller then hangs up (untimed), freeing the agent.

Each timed block is split in chunks and a burst of the bare ceiling runs before each chunk: on a shared
machine the load drifts, and interleaving gives product and ceiling the same conditions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from cti.bench.stats import Latency, median, settle_gc
from cti.bench.workload import FREE_QUEUE, Clock, Workload
from cti.domain.states import AgentStatus, ContactState
from cti.state.port import NewContact, StateStore

T = TypeVar("T")
AVAILABLE, NOT_READY = AgentStatus.AVAILABLE, AgentStatus.NOT_READY
STEADY_CALLS = 5  # store calls per decision in the steady-state loop
CHUNKS = 3  # steady-state and latency blocks are timed in this many chunks, each after a ceiling burst


class Ceiling(Protocol):
    async def measure(self, clients: int) -> float:
        """Decisions/s of one burst of the bare ceiling from ``clients`` clients."""


@dataclass
class StoreFigures:
    available: dict[int, float] = field(default_factory=dict)  # clients -> decisions/s (median)
    steady: dict[int, float] = field(default_factory=dict)
    ceiling: dict[int, float] = field(default_factory=dict)  # clients -> median of interleaved bursts
    latency: Latency | None = None
    bytes_per_contact: float | None = None
    no_offer: int = 0  # decisions expected but not made (should stay 0)
    unrouted: int = 0  # latency samples not offered at once (should stay 0)
    waiting_at_end: int | None = None


class RouterBench:
    def __init__(self, stores: Sequence[StateStore], wl: Workload, ceiling: Ceiling) -> None:
        self.stores = list(stores)
        self.wl = wl
        self.ceiling = ceiling
        self._bursts: dict[int, list[float]] = {}
        self._rotation = 0
        self.clock = Clock()
        self.figures = StoreFigures()
        self._offers: dict[str, str] = {}  # agent -> the offer it holds (steady state)
        self._topped_up = False

    async def _split(
        self, items: Sequence[T], clients: int, work: Callable[[StateStore, Sequence[T]], Awaitable[None]]
    ) -> float:
        """Run ``work`` on ``clients`` stores at once, each over its share of ``items``; seconds taken."""
        started = time.perf_counter()
        await asyncio.gather(*(work(self.stores[k], items[k::clients]) for k in range(clients)))
        return time.perf_counter() - started

    # --- set-up ----------------------------------------------------------------------------------------
    async def prefill(self) -> None:
        async def work(store: StateStore, chunk: Sequence[NewContact]) -> None:
            for contact in chunk:
                await store.enqueue(contact, self.clock())

        # One client, so that the enqueue times follow the workload's order exactly.
        await self._split(self.wl.prefill, 1, work)

    async def register(self) -> None:
        async def work(store: StateStore, chunk: Sequence[str]) -> None:
            for aid in chunk:
                await store.register_agent(aid, self.wl.targets(aid), self.clock())
                await store.set_status(aid, NOT_READY, "bench", self.clock())

        await self._split(self.wl.agent_ids, len(self.stores), work)

    async def _make_available(self, clients: int) -> tuple[dict[str, str], float]:
        offers: dict[str, str] = {}

        async def work(store: StateStore, chunk: Sequence[str]) -> None:
            for aid in chunk:
                agent = await store.set_status(aid, AVAILABLE, None, self.clock())
                if agent.offer_id is not None:
                    offers[aid] = agent.offer_id

        elapsed = await self._split(self.wl.agent_ids, clients, work)
        self.figures.no_offer += len(self.wl.agent_ids) - len(offers)
        return offers, elapsed

    async def _burst(self, clients: int) -> None:
        rates = self._bursts.setdefault(clients, [])
        rates.append(await self.ceiling.measure(clients))
        self.figures.ceiling[clients] = median(rates)

    # --- 1. every agent becomes available ----------------------------------------------------------------
    async def available(self, clients: int, rounds: int) -> float:
        async def decline(store: StateStore, chunk: Sequence[tuple[str, str]]) -> None:
            for aid, offer_id in chunk:
                await store.reject(offer_id, aid, self.clock())

        rates = []
        for _ in range(rounds):
            settle_gc()
            await self._burst(clients)
            offers, elapsed = await self._make_available(clients)
            rates.append(len(offers) / elapsed)
            await self._split(list(offers.items()), len(self.stores), decline)
        rate = median(rates)
        self.figures.available[clients] = rate
        return rate

    # --- 2. steady state ---------------------------------------------------------------------------------
    async def steady(self, clients: int, decisions: int) -> float:
        if not self._topped_up:
            self._offers, _ = await self._make_available(len(self.stores))
            await self._split(list(self._offers), len(self.stores), self._replace_offered)
            self._topped_up = True
        quota = max(1, decisions // clients // CHUNKS)
        rates = []
        for _ in range(CHUNKS):
            settle_gc()
            await self._burst(clients)
            rates.append(await self._steady_chunk(clients, quota))
        rate = median(rates)
        self.figures.steady[clients] = rate
        return rate

    async def _steady_chunk(self, clients: int, quota: int) -> float:
        done = 0

        async def work(store: StateStore, agent_ids: Sequence[str]) -> None:
            nonlocal done
            ring = [aid for aid in agent_ids if aid in self._offers]
            for i in range(quota):
                if not ring:
                    return
                aid = ring[i % len(ring)]
                contact = await store.accept(self._offers[aid], aid, self.clock())
                await store.end_call(contact.id, aid, self.clock())
                await store.enqueue(self.wl.new_contact(contact.queue), self.clock())
                await store.finish_wrap_up(contact.id, aid, self.clock())
                offer_id = (await store.get_agent(aid)).offer_id
                if offer_id is None:
                    self.figures.no_offer += 1
                    del self._offers[aid]
                    ring.remove(aid)
                else:
                    self._offers[aid] = offer_id
                    done += 1

        # Each client starts with a different agent: the ring turns over the whole population.
        elapsed = await self._split(self._rotated(), clients, work)
        return done / elapsed

    def _rotated(self) -> list[str]:
        ids = self.wl.agent_ids
        self._rotation = (self._rotation + 257) % len(ids)
        return ids[self._rotation :] + ids[: self._rotation]

    async def _replace_offered(self, store: StateStore, agent_ids: Sequence[str]) -> None:
        """Top the waiting population back up after every agent took a contact."""
        for aid in agent_ids:
            contact_id = (await store.get_agent(aid)).contact_id
            assert contact_id is not None
            await store.enqueue(self.wl.new_contact(self.wl.queue_of[contact_id]), self.clock())

    # --- 3. enqueue-to-offer latency -----------------------------------------------------------------------
    async def free_agents(self) -> None:
        """The last few agents finish their call and then serve only FREE_QUEUE (nothing waits in it)."""
        store = self.stores[0]
        for aid in self.wl.free_agent_ids:
            offer_id = self._offers.pop(aid, None)
            if offer_id is not None:
                contact = await store.accept(offer_id, aid, self.clock())
                await store.end_call(contact.id, aid, self.clock())
                await store.register_agent(aid, self.wl.free_targets(aid), self.clock())
                await store.finish_wrap_up(contact.id, aid, self.clock())
            else:
                await store.register_agent(aid, self.wl.free_targets(aid), self.clock())
                await store.set_status(aid, AVAILABLE, None, self.clock())

    async def offer_latency(self, samples: int) -> Latency:
        store = self.stores[0]
        durations: list[int] = []
        clock = time.perf_counter_ns
        for chunk in range(CHUNKS):
            settle_gc()
            await self._burst(1)
            for _ in range(samples // CHUNKS + (chunk < samples % CHUNKS)):
                new = self.wl.new_contact(FREE_QUEUE)
                now = self.clock()
                t0 = clock()
                contact = await store.enqueue(new, now)
                durations.append(clock() - t0)
                if contact.state is not ContactState.OFFERED:
                    self.figures.unrouted += 1
                await store.hangup(contact.id, self.clock())  # the offer is cancelled, the agent idle
        latency = Latency.of(durations, sum(durations) / 1e9)
        self.figures.latency = latency
        return latency

    async def count_waiting(self) -> int:
        self.figures.waiting_at_end = len(await self.stores[0].waiting())
        return self.figures.waiting_at_end

    async def run(self, client_counts: Sequence[int], rounds: int, steady: int, samples: int) -> StoreFigures:
        """Phases 1-3 after ``prefill`` and ``register``."""
        for clients in client_counts:
            await self.available(clients, rounds)
        for clients in client_counts:
            await self.steady(clients, steady if clients == 1 else steady * 2)
        await self.free_agents()
        await self.offer_latency(samples)
        await self.count_waiting()
        return self.figures
