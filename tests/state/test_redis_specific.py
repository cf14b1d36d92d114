"""What only the Redis store has to show: identical behaviour to the memory store under random
operation sequences, timers that outlive the process, atomicity under concurrent clients, one round
trip per operation, and recovery when Redis loses the function library."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from cti.bus.memory import MemoryEventBus
from cti.bus.redis import RedisEventBus
from cti.domain.errors import Conflict, Forbidden, FrontdoorError, IllegalTransition, NotFound
from cti.domain.events import CENTRE_STREAM, Event
from cti.domain.model import Policy, RoutingPlan, Stage, personal_target
from cti.domain.states import AgentStatus, ContactState, EngineState, OfferState
from cti.state import redis_script
from cti.state.memory import MemoryStateStore
from cti.state.port import NewContact
from cti.state.redis import RedisStateStore
from tests.state._worker import POLICY as LONG_RETENTION
from tests.state._worker import Replay, audit, read_all, replay

T0 = 1_767_225_600_000
POLICY = Policy(
    offer_timeout_ms=20_000, wrap_up_timeout_ms=60_000, decision_log_per_contact=3, retention_ms=120_000
)
Env = tuple[aioredis.Redis, RedisStateStore, RedisEventBus]


@pytest.fixture
async def redis_env(redis_url: str, redis_prefix: str) -> AsyncIterator[Env]:
    client = aioredis.Redis.from_url(redis_url)
    store = RedisStateStore(client, prefix=redis_prefix, policy=POLICY, stream_maxlen=1_000_000)
    await store.setup()
    bus = RedisEventBus(client, prefix=redis_prefix)
    try:
        yield client, store, bus
    finally:
        await bus.close()
        await store.close()
        await client.aclose()


def simple(queue: str) -> RoutingPlan:
    return RoutingPlan((Stage(0, (queue,), "queue"),))


# --- differential: the same random operations on both stores give the same results and events ---
AGENTS = ["a1", "a2", "a3", "a4", "a5"]
QUEUES = ["q1", "q2", "q3"]
CONTACTS = [f"c{i}" for i in range(14)]


def random_plan(rng: random.Random) -> RoutingPlan:
    q = rng.choice(QUEUES)
    return rng.choice(
        [
            simple(q),
            RoutingPlan((Stage(0, (q,), "queue"), Stage(30_000, ("ov", q), "overflow"))),
            RoutingPlan(
                (
                    Stage(0, (personal_target(rng.choice(AGENTS)),), "named_worker"),
                    Stage(10_000, (q,), "queue"),
                )
            ),
            RoutingPlan(
                (Stage(0, (), "queue"), Stage(5_000, (q,), "queue"), Stage(50_000, ("ov",), "overflow"))
            ),
        ]
    )


async def _outcome(call: Awaitable[Any]) -> Any:
    try:
        return ("ok", await call)
    except FrontdoorError as exc:
        return ("error", type(exc).__name__, exc.error_id, exc.message, exc.details)


async def _random_step(rng: random.Random, mem: MemoryStateStore, now: int) -> tuple[str, tuple[Any, ...]]:
    """An operation and its arguments, chosen from the memory store's state (both stores agree)."""
    ops = {"register_agent": 1, "set_status": 4, "enqueue": 5, "offer": 8, "hangup": 2, "talk": 6, "move": 1}
    ops.update({"set_priority": 1, "fire_due": 3, "read": 3})
    (op,) = rng.choices(list(ops), weights=list(ops.values()))
    cid, aid = rng.choice(CONTACTS), rng.choice([*AGENTS, *AGENTS, "ghost"])
    if op == "register_agent":
        targets = [q for q in [*QUEUES, "ov"] if rng.random() < 0.6]
        return op, (aid, [*targets, personal_target(aid)], now)
    if op == "set_status":
        status = rng.choice([AgentStatus.AVAILABLE, AgentStatus.AVAILABLE, *AgentStatus])
        return op, (aid, status, rng.choice([None, "lunch", "break"]), now)
    if op == "enqueue":
        at = rng.choice([None, now - rng.randint(0, 60_000)])
        attrs = {"n": rng.randint(0, 10**12), "tags": [], "more": {"x": [1, "/"]}}
        return op, (NewContact(cid, rng.choice(QUEUES), rng.randint(0, 9), random_plan(rng), attrs, at), now)
    if op == "offer":
        agents = [a for a in await mem.agents() if a.offer_id is not None]
        offer_id = (
            rng.choice(agents).offer_id if agents and rng.random() < 0.8 else f"{cid}.o{rng.randint(1, 9)}"
        )
        if rng.random() < 0.85:  # mostly the offered agent, sometimes another
            aid = next((a.id for a in agents if a.offer_id == offer_id), aid)
        return rng.choice(["accept", "accept", "reject"]), (offer_id, aid, now)
    if op == "hangup":
        return op, (cid, now)
    if op == "talk":
        with_agents = [a for a in await mem.agents() if a.contact_id is not None]
        if with_agents and rng.random() < 0.85:
            a = rng.choice(with_agents)
            cid, aid = a.contact_id or cid, a.id
        return rng.choice(["hold", "resume", "end_call", "finish_wrap_up"]), (cid, aid, now)
    if op == "move":
        return op, (cid, rng.choice(QUEUES), random_plan(rng), now)
    if op == "set_priority":
        return op, (cid, rng.randint(0, 9), now)
    if op == "fire_due":
        return op, (now, rng.choice([1, 2, 100]))
    read = rng.choice(["get_contact", "get_agent", "get_offer", "agents", "waiting", "decisions", "next_due"])
    arg = {
        "get_contact": cid,
        "get_agent": aid,
        "decisions": cid,
        "get_offer": f"{cid}.o{rng.randint(1, 30)}",
    }
    if read == "waiting":
        return read, (rng.choice([None, *QUEUES, "ov", personal_target(aid)]),)
    return read, (arg[read],) if read in arg else ()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_same_results_and_events_as_the_memory_store(redis_env: Env, seed: int) -> None:
    _, store, bus = redis_env
    mem_bus = MemoryEventBus(1_000_000, json_roundtrip=True)
    mem = MemoryStateStore(mem_bus, POLICY)
    rng, now = random.Random(seed), T0
    for aid in AGENTS:
        for s in (mem, store):
            await s.register_agent(aid, [*QUEUES, personal_target(aid)], now)
            await s.set_status(aid, AgentStatus.AVAILABLE, None, now)
    for step in range(600):
        now += rng.choice([0, 0, 1, 700, 3_000, 10_000, 25_000, 130_000])
        op, args = await _random_step(rng, mem, now)
        expected = await _outcome(getattr(mem, op)(*args))
        got = await _outcome(getattr(store, op)(*args))
        assert got == expected, f"step {step}: {op}{args}"
    mine = await read_all(bus)
    theirs = await mem_bus.read_after(CENTRE_STREAM, 0, 1_000_000)
    assert isinstance(theirs, list) and len(theirs) > 300
    assert [(e.seq, e.type, e.at, e.data) for e in mine] == [(e.seq, e.type, e.at, e.data) for e in theirs]
    assert await mem.next_due() == await store.next_due()


# --- errors --------------------------------------------------------------------------------------
async def test_function_errors_become_the_domain_errors(redis_env: Env) -> None:
    _, store, _ = redis_env
    with pytest.raises(NotFound) as nf:
        await store.hangup("nobody", T0)
    assert nf.value.error_id == "contact_not_found"
    with pytest.raises(NotFound) as nf:
        await store.accept("x.o1", "a1", T0)
    assert nf.value.error_id == "offer_not_found"
    with pytest.raises(NotFound) as nf:
        await store.set_status("ghost", AgentStatus.AVAILABLE, None, T0)
    assert nf.value.error_id == "agent_not_found"
    await store.register_agent("a1", ["q1", "@a1"], T0)
    await store.register_agent("a2", ["q2", "@a2"], T0)
    await store.set_status("a1", AgentStatus.AVAILABLE, None, T0)
    c = await store.enqueue(NewContact("c1", "q1", 0, simple("q1"), {}), T0 + 1)
    assert c.offer_id is not None
    with pytest.raises(Forbidden) as fb:
        await store.accept(c.offer_id, "a2", T0 + 2)
    assert fb.value.error_id == "not_your_offer"
    with pytest.raises(Conflict) as cf:
        await store.set_status("a1", AgentStatus.LOGGED_OUT, None, T0 + 2)
    assert cf.value.error_id == "agent_busy"
    with pytest.raises(Conflict) as cf:
        await store.move("c1", "q2", simple("q2"), T0 + 2)
    assert cf.value.error_id == "contact_not_waiting"
    with pytest.raises(IllegalTransition) as il:
        await store.hold("c1", "a1", T0 + 3)
    assert il.value.details == {"machine": "contact", "current": "offered", "event": "hold"}
    assert "allowed from: connected" in il.value.message
    # nothing was written by the refused operations
    assert (await store.get_contact("c1")).state is ContactState.OFFERED


# --- timers outlive the process --------------------------------------------------------------------
async def test_timers_survive_a_restart(redis_url: str, redis_prefix: str) -> None:
    first = aioredis.Redis.from_url(redis_url)
    store = RedisStateStore(first, prefix=redis_prefix, policy=POLICY)
    await store.setup()
    await store.register_agent("a1", ["q1", "@a1"], T0)
    await store.set_status("a1", AgentStatus.AVAILABLE, None, T0)
    c = await store.enqueue(NewContact("c1", "q1", 0, simple("q1"), {}), T0 + 100)
    assert c.offer_id is not None
    await store.close()
    await first.aclose()  # the process is gone

    second = aioredis.Redis.from_url(redis_url)
    again = RedisStateStore(second, prefix=redis_prefix, policy=POLICY)
    await again.setup()
    bus = RedisEventBus(second, prefix=redis_prefix)
    try:
        due = T0 + 100 + POLICY.offer_timeout_ms
        assert await again.next_due() == due
        assert await again.fire_due(due - 1) == 0
        assert await again.fire_due(due) == 1
        assert await again.fire_due(due) == 0  # exactly once
        assert (await again.get_offer(c.offer_id)).state is OfferState.TIMED_OUT
        a1 = await again.get_agent("a1")
        assert (a1.status, a1.reason, a1.engine) == (AgentStatus.NOT_READY, "missed", EngineState.IDLE)
        assert (await again.get_contact("c1")).state is ContactState.QUEUED
        assert [e.type for e in await read_all(bus)][-4:] == [
            "offer.timed_out",
            "agent.status",
            "agent.engine",
            "contact.requeued",
        ]
    finally:
        await bus.close()
        await again.close()
        await second.aclose()


# --- round trips and the function library ------------------------------------------------------------
def _count_commands(client: aioredis.Redis) -> list[str]:
    sent: list[str] = []
    original: Callable[..., Awaitable[Any]] = client.execute_command

    async def counting(*args: Any, **kwargs: Any) -> Any:
        sent.append(str(args[0]))
        return await original(*args, **kwargs)

    client.execute_command = counting  # type: ignore[method-assign]
    return sent


async def test_becoming_available_and_being_offered_is_one_round_trip(redis_env: Env) -> None:
    client, store, _ = redis_env
    await store.register_agent("a1", ["q1", "@a1"], T0)
    await store.enqueue(NewContact("c1", "q1", 0, simple("q1"), {}), T0)
    sent = _count_commands(client)
    agent = await store.set_status("a1", AgentStatus.AVAILABLE, None, T0 + 1)
    assert agent.engine is EngineState.OFFERED
    assert sent == ["FCALL"]


async def test_a_lost_function_library_is_loaded_again(
    redis_env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, store, _ = redis_env
    name = f"fdstate_test_{uuid.uuid4().hex[:12]}"  # a library this Redis has never seen
    monkeypatch.setattr(redis_script, "SOURCE", redis_script.SOURCE.replace(redis_script.FUNCTION, name))
    monkeypatch.setattr(redis_script, "FUNCTION", name)
    sent = _count_commands(client)
    try:
        await store.register_agent("a1", ["q1"], T0)
        assert sent == ["FCALL", "FUNCTION LOAD", "FCALL"]
        assert (await store.get_agent("a1")).targets == ["q1"]
    finally:
        await client.function_delete(name)


# --- concurrency: 4 connections, many tasks, one prefix ------------------------------------------
def test_the_audit_sees_double_offers() -> None:
    def created(seq: int, offer: str, contact: str, agent: str) -> Event:
        return Event(
            CENTRE_STREAM, seq, "offer.created", T0, {"offer": offer, "contact": contact, "agent": agent}
        )

    seen: Replay = replay([created(1, "c1.o1", "c1", "a1"), created(2, "c2.o2", "c2", "a1")])
    assert len(seen.violations) == 2  # a1 holds two offers, and is not idle
    assert len(replay([created(1, "c1.o1", "c1", "a1"), created(2, "c1.o2", "c1", "a2")]).violations) == 1


async def test_concurrent_clients_never_double_offer_or_lose_a_contact(
    redis_url: str, redis_prefix: str
) -> None:
    clients = [aioredis.Redis.from_url(redis_url, single_connection_client=True) for _ in range(4)]
    stores = [
        RedisStateStore(c, prefix=redis_prefix, policy=LONG_RETENTION, stream_maxlen=1_000_000)
        for c in clients
    ]
    await stores[0].setup()
    agents = [f"a{i}" for i in range(12)]
    for i, aid in enumerate(agents):
        await stores[0].register_agent(aid, [QUEUES[i % 3], QUEUES[(i + 1) % 3], personal_target(aid)], T0)
    clock = [T0]
    enqueued: list[str] = []

    async def worker(n: int) -> None:
        rng = random.Random(n)
        for i in range(120):
            store = rng.choice(stores)
            clock[0] += rng.randint(0, 2_000)
            now = clock[0]
            aid = rng.choice(agents)
            try:
                roll = rng.random()
                if roll < 0.25:
                    cid = f"t{n}-{i}"
                    await store.enqueue(
                        NewContact(
                            cid, rng.choice(QUEUES), rng.randint(0, 9), simple(rng.choice(QUEUES)), {}
                        ),
                        now,
                    )
                    enqueued.append(cid)
                elif roll < 0.4:
                    await store.set_status(
                        aid, rng.choice([AgentStatus.AVAILABLE] * 3 + list(AgentStatus)), None, now
                    )
                elif roll < 0.65:
                    a = await store.get_agent(aid)
                    if a.offer_id is not None:
                        await (store.accept if rng.random() < 0.7 else store.reject)(a.offer_id, aid, now)
                    elif a.contact_id is not None and a.engine is EngineState.WRAP_UP:
                        await store.finish_wrap_up(a.contact_id, aid, now)
                    elif a.contact_id is not None:
                        await store.end_call(a.contact_id, aid, now)
                elif roll < 0.8 and enqueued:
                    await store.hangup(rng.choice(enqueued), now)
                else:
                    await store.fire_due(now)
            except FrontdoorError:
                pass  # another task got there first: the store refused, atomically

    try:
        await asyncio.gather(*(worker(n) for n in range(16)))
        bus = RedisEventBus(clients[0], prefix=redis_prefix)
        try:
            seen = replay(await read_all(bus))
        finally:
            await bus.close()
        assert seen.offers_created > 100
        assert await audit(stores[0], enqueued, seen) == []
    finally:
        for c in clients:
            await c.aclose()
