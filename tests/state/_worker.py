"""A router process for the multi-process test, and the audit both concurrency tests share.

Run as a script (``python tests/state/_worker.py URL PREFIX WORKER ...``) it acts as one router
process on a shared Redis prefix: it registers its agents, enqueues its contacts, drives its agents
(accept, reject, ignore, hold, hang up, finish wrap-up, take breaks) and fires timers with a fake clock
passed explicitly, then drains and exits by itself, printing a JSON report on stdout. Every loop is
bounded in steps and in wall time.

``replay`` and ``audit`` check a store against its event stream: no contact or agent ever had two
pending offers (or an agent an offer while handling another contact), and every contact is accounted
for, with the store and the events agreeing on its state.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from cti.bus.redis import RedisEventBus
from cti.domain.errors import FrontdoorError, NotFound
from cti.domain.events import CENTRE_STREAM, Event, Resync
from cti.domain.model import Policy, RoutingPlan, Stage, personal_target
from cti.domain.states import AgentStatus, ContactState, EngineState, OfferState
from cti.state.port import NewContact, StateStore
from cti.state.redis import RedisStateStore

T0 = 1_767_225_600_000
POLICY = Policy(offer_timeout_ms=20_000, wrap_up_timeout_ms=60_000, retention_ms=86_400_000)
STREAM_MAXLEN = 10_000_000  # keep every event: the audit replays the whole stream
QUEUES = ("q1", "q2", "q3")

OFFER_ENDS = {"offer.accepted", "offer.rejected", "offer.timed_out", "offer.cancelled", "offer.rescinded"}
CONTACT_AFTER = {
    "contact.queued": "queued",
    "contact.requeued": "queued",
    "offer.created": "offered",
    "offer.accepted": "connected",
    "contact.held": "held",
    "contact.resumed": "connected",
    "contact.wrap_up": "wrap_up",
    "contact.closed": "closed",
    "contact.abandoned": "abandoned",
}


# --- audit ------------------------------------------------------------------------------------
@dataclass
class Replay:
    violations: list[str] = field(default_factory=list)
    contact_state: dict[str, str] = field(default_factory=dict)
    offers_created: int = 0
    offers_ended: int = 0


def replay(events: Iterable[Event]) -> Replay:
    """Replay offers and contact states from the centre stream, noting every double offer."""
    out = Replay()
    by_contact: dict[str, str] = {}
    by_agent: dict[str, str] = {}
    engine: dict[str, str] = {}
    for e in events:
        d = e.data
        if e.type == "offer.created":
            out.offers_created += 1
            c, a, o = d["contact"], d["agent"], d["offer"]
            if c in by_contact:
                out.violations.append(f"#{e.seq} {o}: contact {c} already has offer {by_contact[c]}")
            if a in by_agent:
                out.violations.append(f"#{e.seq} {o}: agent {a} already has offer {by_agent[a]}")
            if engine.get(a, "idle") != "idle":
                out.violations.append(f"#{e.seq} {o}: agent {a} is {engine[a]}")
            by_contact[c], by_agent[a], engine[a] = o, o, "offered"
        elif e.type in OFFER_ENDS:
            out.offers_ended += 1
            c, a, o = d["contact"], d["agent"], d["offer"]
            if by_contact.pop(c, None) != o or by_agent.pop(a, None) != o:
                out.violations.append(f"#{e.seq} {e.type} {o}: it was not pending")
            if e.type == "offer.accepted":
                engine[a] = "busy"
        elif e.type == "contact.wrap_up":
            engine[d["agent"]] = "wrap_up"
        elif e.type == "agent.engine":
            engine[d["agent"]] = d["engine"]
        if e.type in CONTACT_AFTER:
            out.contact_state[d["contact"]] = CONTACT_AFTER[e.type]
    return out


async def read_all(bus: RedisEventBus) -> list[Event]:
    events: list[Event] = []
    while True:
        got = await bus.read_after(CENTRE_STREAM, len(events), limit=10_000)
        assert not isinstance(got, Resync), "the stream was trimmed"
        if not got:
            return events
        events.extend(got)


async def audit(store: StateStore, contact_ids: Iterable[str], seen: Replay) -> list[str]:
    """Everything wrong between the store's state and the replayed events (empty: all accounted for)."""
    problems = list(seen.violations)
    ids = set(contact_ids)
    if unknown := set(seen.contact_state) - ids:
        problems.append(f"contacts in the stream nobody enqueued: {sorted(unknown)[:5]}")
    waiting = await store.waiting()
    waiting_ids = {c.id for c in waiting}
    for cid in sorted(ids):
        try:
            c = await store.get_contact(cid)
        except NotFound:
            problems.append(f"{cid}: lost (not in the store)")
            continue
        if seen.contact_state.get(cid) != c.state:
            problems.append(f"{cid}: store says {c.state}, events say {seen.contact_state.get(cid)}")
        if (c.state is ContactState.QUEUED) != (cid in waiting_ids):
            problems.append(f"{cid}: {c.state} but waiting={cid in waiting_ids}")
        if c.state is ContactState.OFFERED:
            assert c.offer_id is not None and c.agent_id is not None
            offer = await store.get_offer(c.offer_id)
            agent = await store.get_agent(c.agent_id)
            if offer.state is not OfferState.PENDING or agent.offer_id != offer.id:
                problems.append(f"{cid}: offered, but offer {offer.state}, agent has {agent.offer_id}")
    agents = await store.agents()
    idle = [a for a in agents if a.status is AgentStatus.AVAILABLE and a.engine is EngineState.IDLE]
    for a in agents:
        if a.engine is EngineState.OFFERED and a.contact_id is not None:
            c = await store.get_contact(a.contact_id)
            if c.state is not ContactState.OFFERED or c.agent_id != a.id:
                problems.append(f"agent {a.id} offered {c.id}, which is {c.state} with {c.agent_id}")
    for c in waiting:  # matching is complete: no one waits while an idle agent could take them
        for a in idle:
            if set(a.targets) & set(c.targets):
                problems.append(f"{c.id} waits while {a.id} is idle and serves it")
    return problems


# --- one router process ---------------------------------------------------------------------
def contact_plan(rng: random.Random, queue: str, agents: list[str]) -> RoutingPlan:
    roll = rng.random()
    if roll < 0.15:
        worker = rng.choice(agents)
        return RoutingPlan(
            (Stage(0, (personal_target(worker),), "named_worker"), Stage(10_000, (queue,), "queue"))
        )
    if roll < 0.35:
        return RoutingPlan((Stage(0, (queue,), "queue"), Stage(5_000, ("overflow",), "overflow")))
    return RoutingPlan((Stage(0, (queue,), "queue"),))


class Worker:
    def __init__(
        self, store: StateStore, worker: int, peers: int, contacts: int, agents: int, seed: int
    ) -> None:
        self.store = store
        self.rng = random.Random(seed * 1000 + worker)
        self.now = T0
        self.agents = [f"p{worker}-a{i:02d}" for i in range(agents)]
        self.all_agents = [f"p{w}-a{i:02d}" for w in range(peers) for i in range(agents)]
        self.to_enqueue = [f"p{worker}-c{i:04d}" for i in range(contacts)]
        self.enqueued: list[str] = []
        self.ops = 0
        self.races = 0

    async def _do(self, op: Any, *args: Any) -> Any:
        self.ops += 1
        try:
            return await op(*args, self.now)
        except FrontdoorError:  # the other process (or a timer) got there first
            self.races += 1
            return None

    async def start(self) -> None:
        for i, aid in enumerate(self.agents):
            serves = [q for q in QUEUES if self.rng.random() < 0.5] or [QUEUES[i % len(QUEUES)]]
            if i % 4 == 0:
                serves.append("overflow")
            await self.store.register_agent(aid, [*serves, personal_target(aid)], self.now)
            await self._do(self.store.set_status, aid, AgentStatus.AVAILABLE, None)

    async def step(self, draining: bool) -> None:
        self.now += 1_000
        rng, s = self.rng, self.store
        for _ in range(rng.randint(0, 8)):
            if self.to_enqueue:
                cid = self.to_enqueue.pop(0)
                queue = rng.choice(QUEUES)
                new = NewContact(
                    cid, queue, rng.randint(0, 9), contact_plan(rng, queue, self.all_agents), {"n": cid}
                )
                if await self._do(s.enqueue, new) is not None:
                    self.enqueued.append(cid)
        for aid in rng.sample(self.agents, k=len(self.agents) // 3):
            await self.drive(aid, draining)
        if self.enqueued and not draining and rng.random() < 0.4:
            await self._do(s.hangup, rng.choice(self.enqueued))
        for _ in range(100):  # timers due now, 50 at a time
            if await s.fire_due(self.now, limit=50) < 50:
                break

    async def drive(self, aid: str, draining: bool) -> None:
        s, r = self.store, self.rng.random()
        a = await s.get_agent(aid)
        if a.engine is EngineState.OFFERED and a.offer_id is not None:
            if draining or r < 0.6:
                await self._do(s.accept, a.offer_id, aid)
            elif r < 0.75:
                await self._do(s.reject, a.offer_id, aid)  # else: let it ring out
        elif a.engine is EngineState.BUSY and a.contact_id is not None:
            c = await s.get_contact(a.contact_id)
            if c.state is ContactState.HELD:
                await self._do(s.resume if r < 0.5 else s.end_call, c.id, aid)
            elif draining or r < 0.35:
                await self._do(s.end_call, c.id, aid)
            elif r < 0.55:
                await self._do(s.hangup, c.id)
            elif r < 0.65:
                await self._do(s.hold, c.id, aid)
        elif a.engine is EngineState.WRAP_UP and a.contact_id is not None:
            if draining or r < 0.5:
                await self._do(s.finish_wrap_up, a.contact_id, aid)
        elif a.status is not AgentStatus.AVAILABLE:
            if draining or r < 0.5:
                await self._do(s.set_status, aid, AgentStatus.AVAILABLE, None)
        elif r < 0.05:
            await self._do(s.set_status, aid, AgentStatus.NOT_READY, "break")
        elif r < 0.07:
            await self._do(s.set_status, aid, AgentStatus.LOGGED_OUT, None)

    async def finished(self) -> bool:
        """All its contacts ended: log its agents out (refused to one with a contact in hand)."""
        for cid in self.enqueued:
            c = await self.store.get_contact(cid)
            if c.state not in (ContactState.CLOSED, ContactState.ABANDONED):
                return False
        races = self.races
        for aid in self.agents:
            await self._do(self.store.set_status, aid, AgentStatus.LOGGED_OUT, None)
        return self.races == races


async def _main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("prefix")
    parser.add_argument("worker", type=int)
    parser.add_argument("--peers", type=int, default=2)
    parser.add_argument("--contacts", type=int, default=500)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=1_000)
    parser.add_argument("--deadline-s", type=float, default=60.0)
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.deadline_s
    client = aioredis.Redis.from_url(args.url, single_connection_client=True)
    try:
        store = RedisStateStore(client, prefix=args.prefix, policy=POLICY, stream_maxlen=STREAM_MAXLEN)
        await store.setup()
        w = Worker(store, args.worker, args.peers, args.contacts, args.agents, args.seed)
        await w.start()
        # Start together: poll (with a deadline) until every peer has registered its agents.
        await client.incr(f"{args.prefix}:test:ready")
        while int(await client.get(f"{args.prefix}:test:ready") or 0) < args.peers:
            if time.monotonic() > deadline:
                raise TimeoutError("peers did not start")
            await asyncio.sleep(0.01)
        steps, done = 0, False
        while steps < args.max_steps and time.monotonic() < deadline:
            draining = not w.to_enqueue  # all its contacts are in: let the calls finish
            await w.step(draining)
            steps += 1
            if draining and steps % 10 == 0 and await w.finished():
                done = True
                break
        return {
            "worker": args.worker,
            "enqueued": w.enqueued,
            "ops": w.ops,
            "races": w.races,
            "steps": steps,
            "done": done,
        }
    finally:
        await client.aclose()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_main(sys.argv[1:]))))
