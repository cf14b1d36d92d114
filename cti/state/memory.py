"""In-memory state store: the embedded default and the reference for the Redis adapter's semantics.

Atomicity comes from asyncio: every operation runs to completion without awaiting, so no other
coroutine can observe or change state half-way.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from dataclasses import replace
from typing import Any, Protocol

from cti.domain.errors import Conflict, Forbidden, NotFound
from cti.domain.events import CENTRE_STREAM, Event
from cti.domain.model import Agent, Contact, Offer, Policy, RoutingPlan
from cti.domain.states import (
    CONTACT_TRANSITIONS,
    ENGINE_TRANSITIONS,
    OFFER_TRANSITIONS,
    STATUS_EVENT,
    STATUS_TRANSITIONS,
    TERMINAL_CONTACT,
    AgentStatus,
    ContactState,
    EngineState,
    OfferState,
    advance,
)
from cti.state.heaps import TargetHeaps
from cti.state.port import NewContact, StateStore


class EventAppender(Protocol):
    def append(self, stream: str, type: str, data: dict[str, Any], at: int) -> Event: ...


class MemoryStateStore(StateStore):
    def __init__(self, events: EventAppender, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self._events = events
        self._contacts: dict[str, Contact] = {}
        self._agents: dict[str, Agent] = {}
        self._offers: dict[str, Offer] = {}
        self._contact_epoch: dict[str, int] = {}
        self._agent_epoch: dict[str, int] = {}
        # Epochs are never reused (not even after un-indexing), so a stale heap entry cannot revive.
        self._epochs = itertools.count(1)
        self._waiting = TargetHeaps(self._contact_waits)
        self._idle = TargetHeaps(self._agent_idles)
        self._timers: dict[str, int] = {}  # "kind:id" -> due
        self._timer_heap: list[tuple[int, str]] = []
        self._decisions: dict[str, deque[dict[str, Any]]] = {}
        self._offer_seq = 0
        self._contact_offers: dict[str, list[str]] = {}

    # --- validity of heap entries --------------------------------------------------------------
    def _contact_waits(self, contact_id: str, epoch: int) -> bool:
        return self._contact_epoch.get(contact_id) == epoch

    def _agent_idles(self, agent_id: str, epoch: int) -> bool:
        return self._agent_epoch.get(agent_id) == epoch

    def _emit(self, type: str, at: int, **data: Any) -> None:
        self._events.append(CENTRE_STREAM, type, data, at)

    # --- indexing: a contact is in the waiting heaps iff queued; an agent in the idle heaps iff
    # available and idle. Leaving is just an epoch bump.
    def _index_contact(self, contact: Contact) -> None:
        epoch = next(self._epochs)
        self._contact_epoch[contact.id] = epoch
        for target in contact.targets:
            self._waiting.push(target, contact.score, contact.id, epoch)

    def _unindex_contact(self, contact_id: str) -> None:
        self._contact_epoch.pop(contact_id, None)

    def _index_agent(self, agent: Agent) -> None:
        epoch = next(self._epochs)
        self._agent_epoch[agent.id] = epoch
        for target in agent.targets:
            self._idle.push(target, agent.idle_since, agent.id, epoch)

    def _unindex_agent(self, agent_id: str) -> None:
        self._agent_epoch.pop(agent_id, None)

    # --- timers ----------------------------------------------------------------------------------
    def _set_timer(self, key: str, due: int) -> None:
        self._timers[key] = due
        heapq.heappush(self._timer_heap, (due, key))

    def _clear_timer(self, key: str) -> None:
        self._timers.pop(key, None)

    # --- lookups ---------------------------------------------------------------------------------
    def _contact(self, contact_id: str) -> Contact:
        try:
            return self._contacts[contact_id]
        except KeyError:
            raise NotFound(f"no contact {contact_id}", error_id="contact_not_found") from None

    def _agent(self, agent_id: str) -> Agent:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise NotFound(f"no agent {agent_id}", error_id="agent_not_found") from None

    def _offer(self, offer_id: str) -> Offer:
        try:
            return self._offers[offer_id]
        except KeyError:
            raise NotFound(f"no offer {offer_id}", error_id="offer_not_found") from None

    # --- matching --------------------------------------------------------------------------------
    def _offer_contact(
        self,
        contact: Contact,
        agent: Agent,
        target: str,
        rule: str,
        now: int,
        candidates: list[dict[str, Any]],
    ) -> Offer:
        contact.state = advance("contact", CONTACT_TRANSITIONS, contact.state, "offer")
        agent.engine = advance("agent", ENGINE_TRANSITIONS, agent.engine, "offer")
        self._unindex_contact(contact.id)
        self._unindex_agent(agent.id)
        self._offer_seq += 1
        offer = Offer(
            f"{contact.id}.o{self._offer_seq}",
            contact.id,
            agent.id,
            OfferState.PENDING,
            now,
            now + self.policy.offer_timeout_ms,
            rule,
        )
        self._offers[offer.id] = offer
        self._contact_offers.setdefault(contact.id, []).append(offer.id)
        contact.offer_id = offer.id
        contact.agent_id = agent.id
        agent.offer_id = offer.id
        agent.contact_id = contact.id
        self._set_timer("offer:" + offer.id, offer.expires_at)
        decision = {
            "at": now,
            "rule": rule,
            "target": target,
            "winner": agent.id,
            "offer": offer.id,
            "candidates": candidates,
        }
        log = self._decisions.get(contact.id)
        if log is None:
            log = self._decisions[contact.id] = deque(maxlen=self.policy.decision_log_per_contact)
        log.append(decision)
        self._emit(
            "offer.created",
            now,
            offer=offer.id,
            contact=contact.id,
            agent=agent.id,
            queue=contact.queue,
            expires_at=offer.expires_at,
            decision=decision,
        )
        return offer

    def _route_contact(self, contact: Contact, now: int) -> None:
        """A contact became routable: give it to the longest-idle agent serving one of its targets."""
        best, target, tops = self._idle.best(contact.targets)
        if best is None or target is None:
            return
        agent = self._agents[best[1]]
        rule = "named_worker" if target.startswith("@") else "longest_idle_agent"
        candidates = [{"target": t, "agent": e[1], "idle_since": e[0]} for t, e in tops]
        self._offer_contact(contact, agent, target, rule, now, candidates)

    def _route_agent(self, agent: Agent, now: int) -> bool:
        """An agent became routable: give it the first waiting contact in the global order."""
        best, target, tops = self._waiting.best(agent.targets)
        if best is None or target is None:
            return False
        contact = self._contacts[best[1]]
        rule = "named_worker" if target.startswith("@") else "first_waiting_contact"
        candidates = [{"target": t, "contact": e[1], "score": e[0]} for t, e in tops]
        self._offer_contact(contact, agent, target, rule, now, candidates)
        return True

    def _make_routable(self, agent: Agent, now: int) -> None:
        if agent.status is AgentStatus.AVAILABLE and agent.engine is EngineState.IDLE:
            agent.idle_since = now
            # Match first: an agent who takes a contact at once never needs indexing as idle.
            if not self._route_agent(agent, now):
                self._index_agent(agent)

    def _requeue(self, contact: Contact, now: int, reason: str) -> None:
        contact.state = advance("contact", CONTACT_TRANSITIONS, contact.state, "requeue")
        contact.offer_id = None
        contact.agent_id = None
        self._index_contact(contact)
        self._emit("contact.requeued", now, contact=contact.id, queue=contact.queue, reason=reason)
        self._route_contact(contact, now)

    def _release_agent(self, agent: Agent, now: int) -> None:
        agent.engine = advance("agent", ENGINE_TRANSITIONS, agent.engine, "release")
        agent.offer_id = None
        agent.contact_id = None
        self._emit("agent.engine", now, agent=agent.id, engine=agent.engine, status=agent.status)
        self._make_routable(agent, now)

    def _apply_stages(self, contact: Contact, now: int) -> list[str]:
        """Add the targets of every plan stage now due; schedule the next one. Returns the added."""
        added: list[str] = []
        stages = contact.plan.stages
        elapsed = now - contact.enqueued_at
        while contact.next_stage < len(stages) and stages[contact.next_stage].after_ms <= elapsed:
            for target in stages[contact.next_stage].targets:
                if target not in contact.targets:
                    contact.targets.append(target)
                    added.append(target)
            contact.next_stage += 1
        self._clear_timer("stage:" + contact.id)
        if contact.next_stage < len(stages):
            self._set_timer("stage:" + contact.id, contact.enqueued_at + stages[contact.next_stage].after_ms)
        return added

    def _terminate(self, contact: Contact, now: int) -> None:
        contact.ended_at = now
        self._unindex_contact(contact.id)
        self._clear_timer("stage:" + contact.id)
        self._set_timer("purge:" + contact.id, now + self.policy.retention_ms)

    def _agent_owns(self, contact: Contact, agent_id: str) -> None:
        if contact.agent_id != agent_id:
            raise Forbidden("this contact is not with this agent", error_id="not_your_contact")

    # --- agents ----------------------------------------------------------------------------------
    async def register_agent(self, agent_id: str, targets: list[str], now: int) -> Agent:
        agent = self._agents.get(agent_id)
        if agent is None:
            agent = Agent(id=agent_id, targets=list(targets), status_since=now)
            self._agents[agent_id] = agent
        else:
            agent.targets = list(targets)
            if agent.id in self._agent_epoch:
                self._index_agent(agent)  # re-index under the new targets, same idle_since
                self._route_agent(agent, now)
        return self._agent_copy(agent)

    async def set_status(
        self,
        agent_id: str,
        status: AgentStatus,
        reason: str | None,
        now: int,
        only_if: AgentStatus | None = None,
    ) -> Agent:
        agent = self._agent(agent_id)
        if only_if is not None and agent.status is not only_if:
            return self._agent_copy(agent)
        new = advance("agent status", STATUS_TRANSITIONS, agent.status, STATUS_EVENT[status])
        if new is AgentStatus.LOGGED_OUT and agent.engine is not EngineState.IDLE:
            raise Conflict("cannot log out with a contact in hand", error_id="agent_busy")
        changed = new is not agent.status or reason != agent.reason
        agent.status = new
        agent.reason = reason if new is AgentStatus.NOT_READY else None
        if changed:
            agent.status_since = now
            self._emit(
                "agent.status",
                now,
                agent=agent.id,
                status=agent.status,
                reason=agent.reason,
                engine=agent.engine,
            )
        if new is AgentStatus.AVAILABLE:
            if agent.id not in self._agent_epoch:
                self._make_routable(agent, now)
        else:
            self._unindex_agent(agent.id)
        return self._agent_copy(agent)

    # --- contacts --------------------------------------------------------------------------------
    async def enqueue(self, contact: NewContact, now: int) -> Contact:
        existing = self._contacts.get(contact.id)
        if existing is not None and existing.state not in TERMINAL_CONTACT:
            raise Conflict(f"contact {contact.id} is already in progress", error_id="contact_exists")
        enqueued_at = contact.enqueued_at if contact.enqueued_at is not None else now
        c = Contact(
            id=contact.id,
            queue=contact.queue,
            priority=contact.priority,
            enqueued_at=enqueued_at,
            state=ContactState.IVR,
            targets=list(contact.plan.stages[0].targets),
            plan=contact.plan,
            attrs=dict(contact.attrs),
        )
        c.state = advance("contact", CONTACT_TRANSITIONS, c.state, "enqueue")
        self._contacts[c.id] = c
        self._clear_timer("purge:" + c.id)
        self._apply_stages(c, now)
        self._index_contact(c)
        self._emit(
            "contact.queued",
            now,
            contact=c.id,
            queue=c.queue,
            priority=c.priority,
            enqueued_at=c.enqueued_at,
            targets=list(c.targets),
            attrs=c.attrs,
        )
        self._route_contact(c, now)
        return self._copy(c)

    async def accept(self, offer_id: str, agent_id: str, now: int) -> Contact:
        offer = self._offer(offer_id)
        if offer.agent_id != agent_id:
            raise Forbidden("this offer is for another agent", error_id="not_your_offer")
        offer.state = advance("offer", OFFER_TRANSITIONS, offer.state, "accept")
        contact = self._contacts[offer.contact_id]
        agent = self._agents[agent_id]
        contact.state = advance("contact", CONTACT_TRANSITIONS, contact.state, "connect")
        agent.engine = advance("agent", ENGINE_TRANSITIONS, agent.engine, "connect")
        agent.offer_id = None
        self._clear_timer("offer:" + offer.id)
        self._clear_timer("stage:" + contact.id)
        self._emit(
            "offer.accepted",
            now,
            offer=offer.id,
            contact=contact.id,
            agent=agent.id,
            queue=contact.queue,
            waited_ms=now - contact.enqueued_at,
        )
        return self._copy(contact)

    def _end_offer(self, offer: Offer, how: str, now: int) -> tuple[Contact, Agent]:
        offer.state = advance("offer", OFFER_TRANSITIONS, offer.state, how)
        self._clear_timer("offer:" + offer.id)
        contact = self._contacts[offer.contact_id]
        agent = self._agents[offer.agent_id]
        event = {
            "reject": "offer.rejected",
            "time_out": "offer.timed_out",
            "cancel": "offer.cancelled",
            "rescind": "offer.rescinded",
        }[how]
        self._emit(event, now, offer=offer.id, contact=contact.id, agent=agent.id, queue=contact.queue)
        return contact, agent

    def _not_ready_after_offer(self, agent: Agent, reason: str, now: int) -> None:
        agent.status = AgentStatus.NOT_READY
        agent.reason = reason
        agent.status_since = now
        self._emit(
            "agent.status", now, agent=agent.id, status=agent.status, reason=reason, engine=EngineState.IDLE
        )

    async def reject(self, offer_id: str, agent_id: str, now: int) -> Contact:
        offer = self._offer(offer_id)
        if offer.agent_id != agent_id:
            raise Forbidden("this offer is for another agent", error_id="not_your_offer")
        contact, agent = self._end_offer(offer, "reject", now)
        self._not_ready_after_offer(agent, "rejected", now)
        self._release_agent(agent, now)
        self._requeue(contact, now, "rejected")
        return self._copy(contact)

    async def hangup(self, contact_id: str, now: int) -> Contact:
        contact = self._contact(contact_id)
        state = contact.state
        if state in (ContactState.QUEUED, ContactState.OFFERED, ContactState.IVR):
            agent: Agent | None = None
            if state is ContactState.OFFERED and contact.offer_id is not None:
                _, agent = self._end_offer(self._offers[contact.offer_id], "cancel", now)
            contact.state = advance("contact", CONTACT_TRANSITIONS, state, "abandon")
            self._terminate(contact, now)
            self._emit(
                "contact.abandoned",
                now,
                contact=contact.id,
                queue=contact.queue,
                waited_ms=now - contact.enqueued_at,
                was=state,
            )
            if agent is not None:
                self._release_agent(agent, now)
            return self._copy(contact)
        if state in (ContactState.CONNECTED, ContactState.HELD, ContactState.CONSULTING):
            return self._to_wrap_up(contact, now, "caller")
        raise Conflict(f"contact is {state}: nothing to hang up", error_id="contact_not_active")

    def _to_wrap_up(self, contact: Contact, now: int, by: str) -> Contact:
        contact.state = advance("contact", CONTACT_TRANSITIONS, contact.state, "end_talk")
        assert contact.agent_id is not None
        agent = self._agents[contact.agent_id]
        agent.engine = advance("agent", ENGINE_TRANSITIONS, agent.engine, "wrap_up")
        self._set_timer("wrap:" + agent.id, now + self.policy.wrap_up_timeout_ms)
        self._emit(
            "contact.wrap_up",
            now,
            contact=contact.id,
            agent=agent.id,
            queue=contact.queue,
            by=by,
            wrap_up_until=now + self.policy.wrap_up_timeout_ms,
        )
        return self._copy(contact)

    async def hold(self, contact_id: str, agent_id: str, now: int) -> Contact:
        contact = self._contact(contact_id)
        self._agent_owns(contact, agent_id)
        contact.state = advance("contact", CONTACT_TRANSITIONS, contact.state, "hold")
        self._emit("contact.held", now, contact=contact.id, agent=agent_id)
        return self._copy(contact)

    async def resume(self, contact_id: str, agent_id: str, now: int) -> Contact:
        contact = self._contact(contact_id)
        self._agent_owns(contact, agent_id)
        contact.state = advance("contact", CONTACT_TRANSITIONS, contact.state, "resume")
        self._emit("contact.resumed", now, contact=contact.id, agent=agent_id)
        return self._copy(contact)

    async def end_call(self, contact_id: str, agent_id: str, now: int) -> Contact:
        contact = self._contact(contact_id)
        self._agent_owns(contact, agent_id)
        return self._to_wrap_up(contact, now, "agent")

    async def finish_wrap_up(self, contact_id: str, agent_id: str, now: int) -> Contact:
        contact = self._contact(contact_id)
        self._agent_owns(contact, agent_id)
        return self._close(contact, now, "agent")

    def _close(self, contact: Contact, now: int, by: str) -> Contact:
        contact.state = advance("contact", CONTACT_TRANSITIONS, contact.state, "close")
        assert contact.agent_id is not None
        agent = self._agents[contact.agent_id]
        self._clear_timer("wrap:" + agent.id)
        self._terminate(contact, now)
        self._emit("contact.closed", now, contact=contact.id, agent=agent.id, queue=contact.queue, by=by)
        self._release_agent(agent, now)
        return self._copy(contact)

    async def move(self, contact_id: str, queue: str, plan: RoutingPlan, now: int) -> Contact:
        contact = self._contact(contact_id)
        if contact.state is not ContactState.QUEUED:
            raise Conflict("only a waiting contact can be moved", error_id="contact_not_waiting")
        contact.queue = queue
        contact.plan = plan
        contact.targets = list(plan.stages[0].targets)
        contact.next_stage = 1
        self._apply_stages(contact, now)
        self._index_contact(contact)
        self._emit("contact.moved", now, contact=contact.id, queue=queue, targets=list(contact.targets))
        self._route_contact(contact, now)
        return self._copy(contact)

    async def set_priority(self, contact_id: str, priority: int, now: int) -> Contact:
        contact = self._contact(contact_id)
        if contact.state is not ContactState.QUEUED:
            raise Conflict("only a waiting contact can be reprioritised", error_id="contact_not_waiting")
        contact.priority = priority
        self._index_contact(contact)
        self._emit("contact.priority", now, contact=contact.id, priority=priority)
        self._route_contact(contact, now)
        return self._copy(contact)

    # --- timers ----------------------------------------------------------------------------------
    async def fire_due(self, now: int, limit: int = 100) -> int:
        fired = 0
        while self._timer_heap and self._timer_heap[0][0] <= now and fired < limit:
            due, key = heapq.heappop(self._timer_heap)
            if self._timers.get(key) != due:
                continue  # cleared or rescheduled
            del self._timers[key]
            fired += 1
            kind, _, ident = key.partition(":")
            self._fire(kind, ident, now)
        return fired

    def _fire(self, kind: str, ident: str, now: int) -> None:
        if kind == "offer":
            offer = self._offers[ident]
            contact, agent = self._end_offer(offer, "time_out", now)
            self._not_ready_after_offer(agent, "missed", now)
            self._release_agent(agent, now)
            self._requeue(contact, now, "offer_timed_out")
        elif kind == "wrap":
            agent = self._agents[ident]
            if agent.contact_id is not None:
                self._close(self._contacts[agent.contact_id], now, "timeout")
        elif kind == "stage":
            contact = self._contacts[ident]
            added = self._apply_stages(contact, now)
            if added and contact.state is ContactState.QUEUED:
                self._index_contact(contact)
                self._emit(
                    "contact.widened", now, contact=contact.id, added=added, targets=list(contact.targets)
                )
                self._route_contact(contact, now)
        elif kind == "purge":
            contact = self._contacts.pop(ident)
            self._decisions.pop(ident, None)
            for offer_id in self._contact_offers.pop(contact.id, ()):
                self._offers.pop(offer_id, None)

    async def next_due(self) -> int | None:
        while self._timer_heap:
            due, key = self._timer_heap[0]
            if self._timers.get(key) == due:
                return due
            heapq.heappop(self._timer_heap)
        return None

    # --- reads -----------------------------------------------------------------------------------
    # Callers get copies, so nothing outside the store can change its state. Built field by field:
    # dataclasses.replace() costs more than the routing decision itself.
    @staticmethod
    def _copy(c: Contact) -> Contact:
        return Contact(
            c.id,
            c.queue,
            c.priority,
            c.enqueued_at,
            c.state,
            list(c.targets),
            c.plan,
            c.next_stage,
            dict(c.attrs),
            c.offer_id,
            c.agent_id,
            c.ended_at,
        )

    @staticmethod
    def _agent_copy(a: Agent) -> Agent:
        return Agent(
            a.id,
            list(a.targets),
            a.status,
            a.reason,
            a.engine,
            a.idle_since,
            a.offer_id,
            a.contact_id,
            a.status_since,
        )

    async def get_contact(self, contact_id: str) -> Contact:
        return self._copy(self._contact(contact_id))

    async def get_agent(self, agent_id: str) -> Agent:
        return self._agent_copy(self._agent(agent_id))

    async def get_offer(self, offer_id: str) -> Offer:
        return replace(self._offer(offer_id))

    async def agents(self) -> list[Agent]:
        return [self._agent_copy(a) for a in sorted(self._agents.values(), key=lambda a: a.id)]

    async def waiting(self, target: str | None = None) -> list[Contact]:
        if target is not None:
            return [self._copy(self._contacts[e[1]]) for e in self._waiting.current(target)]
        queued = [c for c in self._contacts.values() if c.state is ContactState.QUEUED]
        return [self._copy(c) for c in sorted(queued, key=lambda c: (c.score, c.id))]

    async def decisions(self, contact_id: str) -> list[dict[str, Any]]:
        self._contact(contact_id)
        return list(self._decisions.get(contact_id, ()))

    async def close(self) -> None:
        return None
