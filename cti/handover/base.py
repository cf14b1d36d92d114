"""What every part of the handover service shares: its ports, the registry, and the moves that each
use case and each reaction is made of (transition, hold, resume, open and end the consult).

Order inside a move: the side effects first, each on its own so that one failing cannot stop the
next (whatever fails, the caller goes back to someone), then the transition (saved, published and
audited): a handover that reads as over has its caller where it says. Everything about one handover
runs under its lock (``_locked``: across nodes in Redis) on a fresh copy saved when the lock is
released, so the use cases (HTTP), the reactions (centre stream) and the timeout never interleave
on it, whichever node they run on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import structlog

from cti.calls.service import CallService
from cti.config.centre import CentreConfig
from cti.domain.clock import Clock
from cti.domain.errors import NotFound
from cti.domain.model import MAX_PRIORITY, Contact
from cti.domain.states import ContactState
from cti.handover.context import caller_context
from cti.handover.model import Handover, Transition
from cti.handover.notifier import HandoverNotifier
from cti.handover.states import HandoverEvent, Reason, next_state
from cti.handover.store import HandoverStore
from cti.records.base import utc_from_ms
from cti.records.repository import Records
from cti.router.service import Router
from cti.state.port import NewContact
from cti.telephony.port import Telephony

log = structlog.get_logger(__name__)

WAITING = frozenset({ContactState.QUEUED, ContactState.OFFERED})
TALKING = frozenset({ContactState.CONNECTED, ContactState.HELD, ContactState.CONSULTING})


@dataclass(frozen=True, slots=True)
class HandoverPolicy:
    timeout_s: float = 60.0  # nobody accepted the consult by then: failed, the caller back with the agent
    max_live_notes: int = 50  # notes written during one handover
    keep_finished: int = 1000  # finished handovers kept readable (memory; Redis keeps them a day)
    sweep_s: float = 1.0  # how often a node renews its lease and looks for handovers of nodes gone


class HandoverBase:
    def __init__(
        self,
        router: Router,
        calls: CallService,
        telephony: Telephony,
        records: Records,
        notifier: HandoverNotifier,
        centre: CentreConfig,
        clock: Clock,
        policy: HandoverPolicy,
        handovers: HandoverStore,
    ) -> None:
        self.router = router
        self.store = router.store
        self.calls = calls
        self.telephony = telephony
        self.records = records
        self.notifier = notifier
        self.centre = centre
        self.clock = clock
        self.policy = policy
        self.handovers = handovers
        self._timers: dict[str, asyncio.Task[None]] = {}

    def _role(self, username: str) -> str:
        """For the audit: a user's role, or what else acted ("caller", "system")."""
        user = self.centre.users.get(username)
        return user.role if user is not None else username

    async def _contact(self, contact_id: str) -> Contact | None:
        try:
            return await self.store.get_contact(contact_id)
        except NotFound:
            return None

    @asynccontextmanager
    async def _locked(self, handover_id: str) -> AsyncIterator[Handover]:
        """The handover, fresh, under its lock; saved when the lock is released (``NotFound`` if none)."""
        async with self.handovers.lock(handover_id):
            handover = await self.handovers.get(handover_id)
            try:
                yield handover
            finally:
                await self.handovers.save(handover)

    async def _step(self, handover: Handover, what: str, action: Awaitable[Any]) -> bool:
        """Run one side effect; a failure is logged, never raised (the next step must still run)."""
        try:
            await action
        except Exception:
            log.exception("handover.step_failed", handover=handover.id, step=what)
            return False
        return True

    # --- the state machine ------------------------------------------------------------------------
    async def _transition(
        self, handover: Handover, event: HandoverEvent, by: str, reason: Reason | None = None
    ) -> None:
        previous = handover.state
        handover.state = next_state(previous, event)
        now = self.clock.now_ms()
        handover.updated_at = now
        if reason is not None:
            handover.reason = reason
        step = Transition(now, previous, event, handover.state, by, reason)
        handover.history.append(step)
        log.info(
            "handover.transition",
            handover=handover.id,
            transition=f"{previous} -> {event} -> {handover.state}",
            reason=reason,
        )
        if not handover.active:
            self._stop_timer(handover)
        await self.handovers.save(handover)  # whoever hears of the transition reads it as it is
        await self.notifier.transition(handover, step, self._role(by))

    def _stop_timer(self, handover: Handover) -> None:
        task = self._timers.pop(handover.id, None)
        # The timeout itself may be what ends the handover: never cancel the task running this.
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    # --- the caller ---------------------------------------------------------------------------------
    async def _hold_caller(self, handover: Handover) -> None:
        parent = await self._contact(handover.contact_id)
        if parent is not None and parent.state is ContactState.CONNECTED:
            await self.calls.hold(handover.from_agent, handover.contact_id)

    async def _resume_caller(self, handover: Handover) -> None:
        """Back to the first agent: off hold if still on the line with them."""
        parent = await self._contact(handover.contact_id)
        if parent is None or parent.agent_id != handover.from_agent or parent.state not in TALKING:
            handover.caller = "gone"
            return
        if parent.state is not ContactState.CONNECTED:
            await self._step(handover, "resume", self.calls.resume(handover.from_agent, handover.contact_id))
        handover.caller = "with_first_agent"

    # --- the consult --------------------------------------------------------------------------------
    async def _open_consult(self, handover: Handover, parent: Contact, consult_id: str) -> None:
        """Record the consult contact, open its call and put it in the router, in the caller's place
        (transfers keep their place) and at the top priority."""
        now = self.clock.now_ms()
        queue = handover.target
        service = self.centre.queues[queue].service
        record = await self.records.get_contact(handover.contact_id)
        await self.records.record_contact(
            consult_id,
            started_at=utc_from_ms(now),
            caller_e164=record.caller_e164 if record else None,
            person_id=record.person_id if record else None,
            referrer_id=record.referrer_id if record else None,
            caller_type=record.caller_type if record else "unknown",
            service=service,
            queue=queue,
            channel="consult",
            direction="outbound",
        )
        await self.records.update_contact(consult_id, queued_at=utc_from_ms(now))
        await self.telephony.open_consult(handover.contact_id, consult_id, handover.from_agent, queue)
        attrs = {
            "kind": "consult",
            "parent": handover.contact_id,
            "handover": handover.id,
            "from_agent": handover.from_agent,
            "service": service,
            "caller_type": parent.attrs.get("caller_type", "public"),
        }
        if handover.worker is not None:
            attrs["named_worker"] = handover.worker
        plan = handover.plan or self.centre.plan_for(queue, handover.worker)
        contact = NewContact(consult_id, queue, MAX_PRIORITY, plan, attrs, enqueued_at=parent.enqueued_at)
        await self.store.enqueue(contact, now)

    async def _end_consult(self, handover: Handover) -> None:
        """Drop the consult call; take its contact out of the router (or send its specialist to wrap-up)."""
        consult_id = handover.consult_contact_id
        await self._step(
            handover, "cancel_consult", self.telephony.cancel_consult(handover.contact_id, consult_id)
        )
        consult = await self._contact(consult_id)
        if consult is None:
            return
        if consult.state in WAITING:
            await self._step(handover, "hangup_consult", self.router.hangup(consult_id))
        elif consult.state in TALKING and consult.agent_id is not None:
            await self._step(handover, "end_consult", self.router.end_call(consult_id, consult.agent_id))

    async def _fail(self, handover: Handover, reason: Reason, by: str) -> None:
        """The handover failed: the consult goes, the caller goes back to the first agent."""
        await self._give_back(handover, "fail", reason, by)

    async def _give_back(self, handover: Handover, event: HandoverEvent, reason: Reason, by: str) -> None:
        """End the consult and give the caller back to the first agent, then take the transition: once
        a handover reads as over, its caller is where it says."""
        next_state(handover.state, event)  # legal before anything is done
        await self._step(handover, "end_consult", self._end_consult(handover))
        await self._step(handover, "resume_caller", self._resume_caller(handover))
        await self._transition(handover, event, by, reason)

    async def _send_note(self, handover: Handover, agent_id: str) -> None:
        role = self._role(agent_id)
        context = await caller_context(handover, agent_id, role, self.store, self.records, self.clock)
        await self.notifier.note_for(handover, agent_id, context)
