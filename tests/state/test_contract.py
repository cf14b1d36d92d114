"""The state-store contract: every adapter must route, time out and account for contacts identically."""

from __future__ import annotations

import pytest

from cti.domain.errors import Conflict, Forbidden, IllegalTransition
from cti.domain.model import RoutingPlan, Stage, personal_target
from cti.domain.states import AgentStatus, ContactState, EngineState, OfferState
from cti.state.port import NewContact
from tests.state.conftest import POLICY, StoreEnv

T0 = 1_767_225_600_000
AVAILABLE, NOT_READY, LOGGED_OUT = AgentStatus.AVAILABLE, AgentStatus.NOT_READY, AgentStatus.LOGGED_OUT


def plan(*targets: str, overflow: tuple[int, str] | None = None) -> RoutingPlan:
    stages = [Stage(0, targets, "queue")]
    if overflow:
        stages.append(Stage(overflow[0], (overflow[1],), "overflow"))
    return RoutingPlan(tuple(stages))


def call(cid: str, queue: str = "asc", priority: int = 0, **kw: object) -> NewContact:
    p = kw.pop("plan", None) or plan(queue)
    return NewContact(id=cid, queue=queue, priority=priority, plan=p, attrs={"caller_type": "public"}, **kw)  # type: ignore[arg-type]


async def agent(env: StoreEnv, aid: str, targets: list[str], now: int, available: bool = True) -> None:
    await env.store.register_agent(aid, [*targets, personal_target(aid)], now)
    if available:
        await env.store.set_status(aid, AVAILABLE, None, now)


async def test_longest_idle_eligible_agent_wins(env: StoreEnv) -> None:
    await agent(env, "a_recent", ["asc"], T0 + 500)
    await agent(env, "a_longest", ["asc"], T0)
    await agent(env, "a_other_skill", ["chs"], T0 - 1000)
    c = await env.store.enqueue(call("c1"), T0 + 1000)
    assert c.state is ContactState.OFFERED
    assert c.agent_id == "a_longest"
    offered = await env.store.get_agent("a_longest")
    assert offered.engine is EngineState.OFFERED
    assert (await env.store.get_agent("a_recent")).engine is EngineState.IDLE


async def test_one_global_order_priority_then_enqueue_time_across_queues(env: StoreEnv) -> None:
    await env.store.enqueue(call("old_low", "asc", 0), T0)
    await env.store.enqueue(call("mid_high", "chs", 5), T0 + 10)
    await env.store.enqueue(call("new_high", "asc", 5), T0 + 20)
    await agent(env, "a1", ["asc", "chs"], T0 + 30)
    served = []
    for i in range(3):
        a = await env.store.get_agent("a1")
        assert a.offer_id is not None
        served.append(a.contact_id)
        c = await env.store.accept(a.offer_id, "a1", T0 + 40 + i)
        await env.store.end_call(c.id, "a1", T0 + 50 + i)
        await env.store.finish_wrap_up(c.id, "a1", T0 + 60 + i)
    assert served == ["mid_high", "new_high", "old_low"]


async def test_waiting_lists_contacts_in_global_order(env: StoreEnv) -> None:
    await env.store.enqueue(call("b", "asc", 0), T0)
    await env.store.enqueue(call("a", "asc", 3), T0 + 5)
    await env.store.enqueue(call("c", "chs", 0), T0 + 1)
    assert [c.id for c in await env.store.waiting()] == ["a", "b", "c"]
    assert [c.id for c in await env.store.waiting("asc")] == ["a", "b"]


async def test_ring_no_answer_rescinds_offer_agent_missed_contact_keeps_place(env: StoreEnv) -> None:
    await agent(env, "a1", ["asc"], T0)
    await env.store.enqueue(call("first"), T0 + 100)
    await env.store.enqueue(call("second"), T0 + 200)
    first = await env.store.get_contact("first")
    assert first.agent_id == "a1"
    offer_id = first.offer_id
    assert offer_id is not None
    assert await env.store.next_due() == T0 + 100 + POLICY.offer_timeout_ms
    assert await env.store.fire_due(T0 + 100 + POLICY.offer_timeout_ms - 1) == 0
    assert await env.store.fire_due(T0 + 100 + POLICY.offer_timeout_ms) == 1
    assert (await env.store.get_offer(offer_id)).state is OfferState.TIMED_OUT
    a1 = await env.store.get_agent("a1")
    assert (a1.status, a1.reason, a1.engine) == (NOT_READY, "missed", EngineState.IDLE)
    # The missed contact is still ahead of the newer one when the next agent comes.
    await agent(env, "a2", ["asc"], T0 + 30_000)
    assert (await env.store.get_contact("first")).agent_id == "a2"
    assert (await env.store.get_contact("second")).state is ContactState.QUEUED
    types = await env.event_types()
    assert "offer.timed_out" in types and "contact.requeued" in types


async def test_reject_puts_agent_not_ready_and_routes_contact_elsewhere(env: StoreEnv) -> None:
    await agent(env, "a1", ["asc"], T0)
    await agent(env, "a2", ["asc"], T0 + 10)
    c = await env.store.enqueue(call("c1"), T0 + 100)
    assert c.agent_id == "a1" and c.offer_id is not None
    after = await env.store.reject(c.offer_id, "a1", T0 + 200)
    assert after.state is ContactState.OFFERED and after.agent_id == "a2"
    a1 = await env.store.get_agent("a1")
    assert (a1.status, a1.reason) == (NOT_READY, "rejected")


async def test_caller_hangup_cancels_pending_offer_and_frees_agent(env: StoreEnv) -> None:
    await agent(env, "a1", ["asc"], T0)
    c = await env.store.enqueue(call("c1"), T0 + 100)
    await env.store.enqueue(call("c2"), T0 + 150)
    assert c.offer_id is not None
    gone = await env.store.hangup("c1", T0 + 200)
    assert gone.state is ContactState.ABANDONED
    assert (await env.store.get_offer(c.offer_id)).state is OfferState.CANCELLED
    with pytest.raises(IllegalTransition):
        await env.store.accept(c.offer_id, "a1", T0 + 201)
    # the agent, still available, is offered the next caller at once
    assert (await env.store.get_contact("c2")).agent_id == "a1"
    assert (await env.store.get_agent("a1")).engine is EngineState.OFFERED
    assert await env.store.fire_due(T0 + 100 + POLICY.offer_timeout_ms) == 0  # old offer timer is gone


async def test_caller_hangup_while_queued_is_abandoned_and_never_offered(env: StoreEnv) -> None:
    await env.store.enqueue(call("c1"), T0)
    await env.store.hangup("c1", T0 + 5_000)
    await agent(env, "a1", ["asc"], T0 + 6_000)
    assert (await env.store.get_agent("a1")).engine is EngineState.IDLE
    assert await env.store.waiting() == []
    abandoned = [e for e in await env.events() if e.type == "contact.abandoned"]
    assert abandoned[0].data["waited_ms"] == 5_000


async def test_full_call_lifecycle_is_published_as_numbered_events(env: StoreEnv) -> None:
    await agent(env, "a1", ["asc"], T0)
    c = await env.store.enqueue(call("c1"), T0 + 1)
    assert c.offer_id is not None
    await env.store.accept(c.offer_id, "a1", T0 + 2)
    await env.store.hold("c1", "a1", T0 + 3)
    await env.store.resume("c1", "a1", T0 + 4)
    await env.store.end_call("c1", "a1", T0 + 5)
    closed = await env.store.finish_wrap_up("c1", "a1", T0 + 6)
    assert closed.state is ContactState.CLOSED
    events = await env.events()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.type for e in events] == [
        "agent.status",
        "contact.queued",
        "offer.created",
        "offer.accepted",
        "contact.held",
        "contact.resumed",
        "contact.wrap_up",
        "contact.closed",
        "agent.engine",
    ]


async def test_wrap_up_belongs_to_the_agent_and_times_out(env: StoreEnv) -> None:
    await agent(env, "a1", ["asc", "chs"], T0)
    c = await env.store.enqueue(call("c1", "asc"), T0 + 1)
    assert c.offer_id is not None
    await env.store.accept(c.offer_id, "a1", T0 + 2)
    await env.store.hangup("c1", T0 + 10)  # caller ends the call
    assert (await env.store.get_agent("a1")).engine is EngineState.WRAP_UP
    await env.store.enqueue(call("c2", "chs"), T0 + 20)  # another queue: still not routed during wrap-up
    assert (await env.store.get_contact("c2")).state is ContactState.QUEUED
    await env.store.fire_due(T0 + 10 + POLICY.wrap_up_timeout_ms)
    assert (await env.store.get_contact("c1")).state is ContactState.CLOSED
    assert (await env.store.get_contact("c2")).agent_id == "a1"


async def test_only_the_agent_with_the_contact_may_act_on_it(env: StoreEnv) -> None:
    await agent(env, "a1", ["asc"], T0)
    await agent(env, "a2", ["chs"], T0)
    c = await env.store.enqueue(call("c1"), T0 + 1)
    assert c.offer_id is not None
    with pytest.raises(Forbidden):
        await env.store.accept(c.offer_id, "a2", T0 + 2)
    await env.store.accept(c.offer_id, "a1", T0 + 2)
    with pytest.raises(Forbidden):
        await env.store.hold("c1", "a2", T0 + 3)
    with pytest.raises(IllegalTransition):
        await env.store.accept(c.offer_id, "a1", T0 + 4)
    with pytest.raises(Conflict):
        await env.store.set_status("a1", LOGGED_OUT, None, T0 + 5)


async def test_overflow_widens_targets_after_wait_and_keeps_place(env: StoreEnv) -> None:
    await agent(env, "duty", ["asc_duty"], T0)
    await agent(env, "busy", ["asc_duty"], T0 - 10)
    blocker = await env.store.enqueue(call("blocker", "asc_duty"), T0)  # occupies 'busy'
    assert blocker.agent_id == "busy" and blocker.offer_id is not None
    await env.store.accept(blocker.offer_id, "busy", T0 + 1)
    await env.store.set_status("duty", NOT_READY, "lunch", T0 + 2)
    c = await env.store.enqueue(call("c1", "asc", plan=plan("asc", overflow=(180_000, "asc_duty"))), T0 + 100)
    assert c.state is ContactState.QUEUED and c.targets == ["asc"]
    assert await env.store.next_due() == T0 + 100 + 180_000
    await env.store.set_status("duty", AVAILABLE, None, T0 + 1_000)  # serves asc_duty, not asc
    await env.store.fire_due(T0 + 100 + 179_999)
    assert (await env.store.get_contact("c1")).state is ContactState.QUEUED
    await env.store.fire_due(T0 + 100 + 180_000)
    after = await env.store.get_contact("c1")
    assert after.targets == ["asc", "asc_duty"]
    assert after.enqueued_at == T0 + 100
    assert after.agent_id == "duty"


async def test_named_worker_first_then_queue(env: StoreEnv) -> None:
    await agent(env, "worker", ["asc"], T0, available=False)
    await agent(env, "duty", ["asc"], T0)
    named = RoutingPlan(
        (Stage(0, (personal_target("worker"),), "named_worker"), Stage(30_000, ("asc",), "queue"))
    )
    c = await env.store.enqueue(call("c1", plan=named), T0 + 10)
    assert c.state is ContactState.QUEUED  # duty is idle, but the named worker comes first
    await env.store.set_status("worker", AVAILABLE, None, T0 + 5_000)
    got = await env.store.get_contact("c1")
    assert got.agent_id == "worker"
    decisions = await env.store.decisions("c1")
    assert decisions[-1]["rule"] == "named_worker" and decisions[-1]["winner"] == "worker"


async def test_named_worker_unavailable_falls_back_to_queue(env: StoreEnv) -> None:
    await agent(env, "worker", ["asc"], T0, available=False)
    await agent(env, "duty", ["asc"], T0)
    named = RoutingPlan(
        (Stage(0, (personal_target("worker"),), "named_worker"), Stage(30_000, ("asc",), "queue"))
    )
    await env.store.enqueue(call("c1", plan=named), T0 + 10)
    await env.store.fire_due(T0 + 10 + 30_000)
    assert (await env.store.get_contact("c1")).agent_id == "duty"


async def test_decision_records_rule_candidates_and_winner(env: StoreEnv) -> None:
    await agent(env, "a1", ["asc"], T0)
    await agent(env, "a2", ["asc", "chs"], T0 + 5)
    await env.store.enqueue(call("c1", plan=plan("asc", "chs")), T0 + 10)
    (decision,) = await env.store.decisions("c1")
    assert decision["rule"] == "longest_idle_agent"
    assert decision["winner"] == "a1"
    assert {c["agent"] for c in decision["candidates"]} == {"a1", "a2"}
    offered = [e for e in await env.events() if e.type == "offer.created"]
    assert offered[0].data["decision"]["winner"] == "a1"


async def test_move_and_priority_keep_original_enqueue_time(env: StoreEnv) -> None:
    await env.store.enqueue(call("c1", "asc"), T0)
    await env.store.enqueue(call("c2", "chs"), T0 + 10)
    moved = await env.store.move("c1", "chs", plan("chs"), T0 + 20)
    assert moved.enqueued_at == T0 and moved.queue == "chs"
    assert [c.id for c in await env.store.waiting("chs")] == ["c1", "c2"]
    await env.store.set_priority("c2", 7, T0 + 30)
    assert [c.id for c in await env.store.waiting("chs")] == ["c2", "c1"]
    assert await env.store.waiting("asc") == []


async def test_status_changes_and_illegal_ones(env: StoreEnv) -> None:
    await agent(env, "a1", ["asc"], T0, available=False)
    a = await env.store.set_status("a1", NOT_READY, "training", T0 + 1)
    assert (a.status, a.reason) == (NOT_READY, "training")
    await env.store.enqueue(call("c1"), T0 + 2)
    assert (await env.store.get_contact("c1")).state is ContactState.QUEUED
    await env.store.set_status("a1", AVAILABLE, None, T0 + 3)
    assert (await env.store.get_contact("c1")).agent_id == "a1"
    # not ready while offered: the offer stands, and after the call the agent is not routed
    await env.store.set_status("a1", NOT_READY, "break", T0 + 4)
    c = await env.store.get_contact("c1")
    assert c.offer_id is not None
    await env.store.accept(c.offer_id, "a1", T0 + 5)
    await env.store.end_call("c1", "a1", T0 + 6)
    await env.store.finish_wrap_up("c1", "a1", T0 + 7)
    await env.store.enqueue(call("c2"), T0 + 8)
    assert (await env.store.get_contact("c2")).state is ContactState.QUEUED
    out = await env.store.set_status("a1", LOGGED_OUT, None, T0 + 9)
    assert out.status is LOGGED_OUT


async def test_finished_contacts_are_purged_after_retention(env: StoreEnv) -> None:
    await env.store.enqueue(call("c1"), T0)
    await env.store.hangup("c1", T0 + 1)
    await env.store.fire_due(T0 + 1 + POLICY.retention_ms)
    from cti.domain.errors import NotFound

    with pytest.raises(NotFound):
        await env.store.get_contact("c1")


async def test_enqueue_twice_is_refused(env: StoreEnv) -> None:
    await env.store.enqueue(call("c1"), T0)
    with pytest.raises(Conflict):
        await env.store.enqueue(call("c1"), T0 + 1)


async def test_a_conditional_status_change_applies_only_from_that_status(env: StoreEnv) -> None:
    await agent(env, "a1", ["asc"], T0)
    marked = await env.store.set_status("a1", NOT_READY, "unreachable", T0 + 1, only_if=AVAILABLE)
    assert (marked.status, marked.reason) == (NOT_READY, "unreachable")
    await env.store.set_status("a1", NOT_READY, "break", T0 + 2)
    seen = len(await env.events())
    unchanged = await env.store.set_status("a1", NOT_READY, "unreachable", T0 + 3, only_if=AVAILABLE)
    assert (unchanged.status, unchanged.reason) == (NOT_READY, "break")
    assert len(await env.events()) == seen  # nothing happened, so nothing was published
