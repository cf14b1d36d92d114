"""Warm handover use cases: ask, complete, cancel, write notes, read.

Only the agent who asked acts on a handover; both parties read it and write notes; supervisors read.
Anyone else is told it does not exist (information governance: ids are not probes).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import structlog

from cti.domain.errors import Conflict, Forbidden, FrontdoorError, InvalidInput, NotFound
from cti.domain.model import Contact, RoutingPlan, Stage, personal_target
from cti.domain.states import AgentStatus
from cti.handover.base import TALKING
from cti.handover.model import (
    LIVE_NOTE_MAX,
    Handover,
    LiveNote,
    Note,
    Transition,
    consult_contact_id,
    note_text,
)
from cti.handover.reactions import HandoverReactions
from cti.handover.states import HandoverState, next_state
from cti.records.base import utc_from_ms
from cti.tasks import stop_task

log = structlog.get_logger(__name__)

CONTACT_ID_MAX = 64  # the records' contact id column
READERS = ("supervisor", "admin")


def stages_later(plan: RoutingPlan, offset_ms: int) -> RoutingPlan:
    """The plan with every stage after the first moved ``offset_ms`` later: a consult keeps the caller's
    enqueue time (its place) while its stages (named worker first, overflow) count from the request."""
    first, *rest = plan.stages
    return RoutingPlan((first, *(replace(stage, after_ms=stage.after_ms + offset_ms) for stage in rest)))


class HandoverService(HandoverReactions):
    _sweeper: asyncio.Task[None] | None = None

    # --- reading ----------------------------------------------------------------------------------
    async def visible(self, username: str, role: str, handover_id: str) -> Handover:
        handover = await self.handovers.get(handover_id)
        if role not in READERS and username not in handover.parties():
            raise NotFound(f"no handover {handover_id}", error_id="handover_not_found")
        return handover

    async def _owned(self, username: str, role: str, handover_id: str) -> Handover:
        handover = await self.visible(username, role, handover_id)
        if handover.from_agent != username:
            raise Forbidden(
                "only the agent who asked for the handover can do this", error_id="not_your_handover"
            )
        return handover

    # --- asking -----------------------------------------------------------------------------------
    async def request(
        self, agent_id: str, contact_id: str, note: Note, *, target: str | None, worker: str | None
    ) -> Handover:
        parent = await self.store.get_contact(contact_id)
        if parent.agent_id != agent_id:
            raise NotFound(f"no contact {contact_id}", error_id="contact_not_found")  # not a probe
        if parent.state not in TALKING:
            raise Conflict("the caller is not on the line with you", error_id="contact_not_connected")
        earlier = await self.handovers.by_consult(contact_id)
        if earlier is not None and not earlier.consult_carries_caller:
            raise Conflict(
                "this is a consult call: hand over the caller's contact", error_id="consult_not_transferable"
            )
        queue, plan, named = await self._route(parent, agent_id, target, worker)
        number = await self.handovers.claim(contact_id)
        try:
            return await self._start(parent, agent_id, number, queue, plan, named, note)
        finally:
            await self.handovers.release(contact_id)

    async def _start(
        self,
        parent: Contact,
        agent_id: str,
        number: int,
        queue: str,
        plan: RoutingPlan,
        named: str | None,
        note: Note,
    ) -> Handover:
        consult_id = consult_contact_id(parent.id, number)
        if len(consult_id) + 1 > CONTACT_ID_MAX:  # room for the "q" of a requeue
            raise Conflict(
                "this call has been handed over too many times", error_id="handover_chain_too_long"
            )
        now = self.clock.now_ms()
        handover = Handover(
            id="ho-" + uuid.uuid4().hex,
            contact_id=parent.id,
            consult_contact_id=consult_id,
            from_agent=agent_id,
            target=queue,
            worker=named,
            note=note,
            state=HandoverState.REQUESTED,
            created_at=now,
            updated_at=now,
            expires_at=now + int(self.policy.timeout_s * 1000),
            consults=[consult_id],
            plan=plan,
            owner=self.handovers.node_id,
        )
        await self._hold_caller(handover)  # refused (e.g. the caller just hung up): nothing to undo
        async with self.handovers.lock(handover.id):
            step = Transition(now, None, "request", HandoverState.REQUESTED, agent_id)
            handover.history.append(step)
            log.info("handover.transition", handover=handover.id, transition="None -> request -> requested")
            await self.handovers.save(handover)
            await self.notifier.transition(handover, step, self._role(agent_id))
            try:
                await self._open_consult(handover, parent, consult_id)
            except Exception as exc:
                log.exception("handover.not_started", handover=handover.id)
                await self._fail(handover, "not_started", agent_id)
                cause = exc.error_id if isinstance(exc, FrontdoorError) else "internal_error"
                raise Conflict(
                    "the handover could not be started: the caller is back with you",
                    error_id="handover_not_started",
                    handover=handover.id,
                    cause=cause,
                ) from exc
            self._start_timer(handover)
            await self.handovers.save(handover)
        return handover

    async def _route(
        self, parent: Contact, agent_id: str, target: str | None, worker: str | None
    ) -> tuple[str, RoutingPlan, str | None]:
        """The queue the consult enters, its routing plan and the worker offered first (if any)."""
        if worker is not None:
            await self._check_worker(worker, agent_id)
        if target is None:
            if worker is None:
                raise InvalidInput("say who to hand over to: a target queue or a worker", field="target")
            # A worker by name, and only them: the consult counts in the caller's queue.
            return parent.queue, RoutingPlan((Stage(0, (personal_target(worker),), "named_worker"),)), worker
        if target not in self.centre.queues:
            raise InvalidInput(f"unknown queue '{target}'", error_id="unknown_queue", field="target")
        now = self.clock.now_ms()
        destination = self.centre.destination(target, utc_from_ms(now))
        if destination.queue is None:
            raise Conflict(f"'{target}' is closed now", error_id="target_closed", target=target)
        queue = destination.queue
        if worker is None:
            worker = await self._allocated_worker(parent.id, queue, agent_id)
        plan = self.centre.plan_for(queue, worker)
        return queue, stages_later(plan, max(0, now - parent.enqueued_at)), worker

    async def _check_worker(self, worker: str, agent_id: str) -> None:
        user = self.centre.users.get(worker)
        if user is None or user.role not in ("agent", "specialist"):
            raise InvalidInput(
                f"no agent or specialist '{worker}'", error_id="unknown_worker", field="worker"
            )
        if worker == agent_id:
            raise InvalidInput(
                "you cannot hand over to yourself", error_id="handover_to_self", field="worker"
            )
        if (await self.store.get_agent(worker)).status is AgentStatus.LOGGED_OUT:
            raise Conflict(f"'{worker}' is not signed in", error_id="worker_unavailable", worker=worker)

    async def _allocated_worker(self, contact_id: str, queue: str, agent_id: str) -> str | None:
        """Allocated worker first: the person's worker in the target's service, if signed in."""
        record = await self.records.get_contact(contact_id)
        if record is None or record.person_id is None:
            return None
        allocation = await self.records.allocated_worker(record.person_id, self.centre.queues[queue].service)
        if (
            allocation is None
            or allocation.worker_id == agent_id
            or allocation.worker_id not in self.centre.users
        ):
            return None
        try:
            worker = await self.store.get_agent(allocation.worker_id)
        except NotFound:
            return None
        return None if worker.status is AgentStatus.LOGGED_OUT else worker.id

    # --- acting -----------------------------------------------------------------------------------
    async def complete(self, username: str, role: str, handover_id: str) -> Handover:
        """The caller goes to the specialist; the first agent goes to wrap-up."""
        await self._owned(username, role, handover_id)
        async with self._locked(handover_id) as handover:
            next_state(handover.state, "complete")  # refuse early: nothing done yet
            consult = await self._contact(handover.consult_contact_id)
            specialist = handover.specialist
            if (
                specialist is None
                or consult is None
                or consult.state not in TALKING
                or consult.agent_id != specialist
            ):
                raise Conflict("the specialist is no longer on the line", error_id="specialist_gone")
            parent = await self._contact(handover.contact_id)
            if parent is None or parent.state not in TALKING:
                raise Conflict("the caller is no longer on the line", error_id="caller_gone")
            try:
                await self.telephony.complete_transfer(
                    handover.contact_id, handover.consult_contact_id, handover.from_agent, specialist
                )
            except Exception as exc:
                log.exception("handover.transfer_failed", handover=handover.id)
                await self._fail(handover, "telephony_failed", username)
                raise Conflict(
                    "the transfer failed: the caller is back with you", error_id="transfer_failed"
                ) from exc
            handover.caller = "with_specialist"
            await self._step(handover, "end_call", self.router.end_call(handover.contact_id, username))
            await self._transition(handover, "complete", username)
            # The consult contact carries on as the caller's: audit links the two segments.
            await self.notifier.audit(
                handover, username, role, "handover_segment", "caller moved to the consult contact"
            )
        return handover

    async def cancel(self, username: str, role: str, handover_id: str) -> Handover:
        """The first agent takes the caller back: the consult is dropped, the caller taken off hold."""
        await self._owned(username, role, handover_id)
        async with self._locked(handover_id) as handover:
            await self._give_back(handover, "cancel", "cancelled_by_agent", username)
        return handover

    async def add_note(self, username: str, role: str, handover_id: str, text: str) -> LiveNote:
        if username not in (await self.visible(username, role, handover_id)).parties():
            raise Forbidden("only the two parties write notes", error_id="not_your_handover")
        body = note_text(text, "text", LIVE_NOTE_MAX, required=True)
        assert body is not None
        async with self._locked(handover_id) as handover:
            if not handover.active:
                raise Conflict(f"the handover is {handover.state}", error_id="handover_over")
            if len(handover.notes) >= self.policy.max_live_notes:
                raise Conflict("this handover has all the notes it can take", error_id="too_many_notes")
            note = LiveNote(self.clock.now_ms(), username, body)
            handover.notes.append(note)
            await self.notifier.note_added(handover, note)
            await self.notifier.audit(
                handover, username, role, "handover_note", "note written during handover"
            )
        return note

    # --- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        """Take this node's lease and sweep for handovers left by nodes that are gone, now and then."""
        await self.handovers.heartbeat()
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="handover-sweep")

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.policy.sweep_s)
            try:
                await self.sweep()
            except Exception:
                log.exception("handover.sweep_failed")

    async def stop(self) -> None:
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            await stop_task(sweeper)
        timers = list(self._timers.values())
        self._timers.clear()
        for task in timers:
            await stop_task(task)
        await self.handovers.close()
