"""The benchmark's centre: seeded, so every run routes the same contacts to the same agents."""

from __future__ import annotations

import random
from dataclasses import dataclass

from cti.domain.model import RoutingPlan, Stage, personal_target
from cti.state.port import NewContact

SEED = 20_260_101
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z

# Twelve queues of a single point of access, with how often a contact picks each one.
QUEUES: tuple[str, ...] = (
    "adult_social_care",
    "childrens_services",
    "mental_health",
    "safeguarding",
    "district_nursing",
    "occupational_therapy",
    "reablement",
    "carers",
    "sensory",
    "blue_badge",
    "housing",
    "professionals",
)
WEIGHTS: tuple[int, ...] = (20, 14, 12, 10, 8, 8, 7, 6, 5, 4, 3, 3)
# Served only by the agents kept free for the latency phase; nothing else waits in it.
FREE_QUEUE = "bench_direct"


@dataclass(frozen=True, slots=True)
class Sizes:
    waiting: int  # contacts waiting throughout
    agents: int
    free_agents: int  # of ``agents``, kept idle in FREE_QUEUE for the latency phase
    samples: int  # enqueue-to-offer latency samples
    memory_rounds: int  # rounds of "every agent becomes available" (median reported)
    redis_rounds: int
    memory_steady: int  # decisions in the steady-state loop
    redis_steady: int
    heap_burst: int  # ceiling: tight heap loop iterations per burst
    pings: int
    lua_burst: int  # ceiling: Lua script calls per one-client burst (twice that from N clients)
    clients: int  # concurrent Redis clients


FULL = Sizes(
    waiting=10_000,
    agents=2_000,
    free_agents=100,
    samples=2_000,
    memory_rounds=9,
    redis_rounds=3,
    memory_steady=20_000,
    redis_steady=2_000,
    heap_burst=50_000,
    pings=5_000,
    lua_burst=2_000,
    clients=8,
)
QUICK = Sizes(
    waiting=1_000,
    agents=200,
    free_agents=20,
    samples=200,
    memory_rounds=2,
    redis_rounds=1,
    memory_steady=1_000,
    redis_steady=200,
    heap_burst=5_000,
    pings=200,
    lua_burst=200,
    clients=8,
)


class Clock:
    """Epoch milliseconds that advance by one on every read: distinct, ordered, reproducible."""

    def __init__(self, start: int = T0) -> None:
        self._now = start

    def __call__(self) -> int:
        self._now += 1
        return self._now


class Workload:
    """Agents with 1-4 queues each, contacts with priorities 0-3 spread over the queues by weight."""

    def __init__(self, sizes: Sizes, seed: int = SEED) -> None:
        self.sizes = sizes
        self._rng = random.Random(seed)
        self.plans = {q: RoutingPlan((Stage(0, (q,), "queue"),)) for q in (*QUEUES, FREE_QUEUE)}
        self.agent_ids = [f"bench-a{i:05d}" for i in range(sizes.agents)]
        self.skills = {aid: self._skills() for aid in self.agent_ids}
        self.queue_of: dict[str, str] = {}
        self._seq = 0
        self.prefill = [self.new_contact() for _ in range(sizes.waiting)]

    def _skills(self) -> list[str]:
        count = self._rng.randint(1, 4)
        chosen: list[str] = []
        while len(chosen) < count:
            q = self._rng.choices(QUEUES, WEIGHTS)[0]
            if q not in chosen:
                chosen.append(q)
        return chosen

    def targets(self, agent_id: str) -> list[str]:
        return [*self.skills[agent_id], personal_target(agent_id)]

    def free_targets(self, agent_id: str) -> list[str]:
        return [FREE_QUEUE, personal_target(agent_id)]

    def new_contact(self, queue: str | None = None) -> NewContact:
        self._seq += 1
        q = queue or self._rng.choices(QUEUES, WEIGHTS)[0]
        cid = f"bench-c{self._seq:07d}"
        self.queue_of[cid] = q
        return NewContact(
            id=cid,
            queue=q,
            priority=self._rng.randint(0, 3),
            plan=self.plans[q],
            attrs={"caller_type": "public", "cli": f"+44700900{self._seq % 10_000:04d}"},
        )

    @property
    def free_agent_ids(self) -> list[str]:
        return self.agent_ids[-self.sizes.free_agents :]
