"""How a handover follows what happens to its two calls (from the centre stream) and to time.

- the consult is answered (``offer.accepted``): specialist reserved, note delivered, consult connected;
- the caller hangs up (``contact.wrap_up`` by the caller on the caller's contact): cancelled, the
  consult ended, the specialist told;
- the first agent hangs up (``contact.wrap_up`` by the agent): completed to the specialist if one is
  on the line, else the caller waits on the consult contact in the target queue, in their place;
- the specialist hangs up before the transfer: failed, the caller back with the first agent;
- nobody accepts within the timeout: failed, the caller back with the first agent.

A rejected or missed offer needs nothing here: the router offers the consult to the next specialist.

Only the handover's owner reacts (``cti.handover.store``): every node follows the centre stream,
the owner acts, the others skip. A node that finds an owner gone adopts the handover; every node
also sweeps now and then (``sweep``) for handovers whose owner died, and reconciles what it adopts.
"""

from __future__ import annotations

import asyncio

import structlog

from cti.domain.model import Contact
from cti.domain.states import ContactState
from cti.handover.base import TALKING, WAITING, HandoverBase
from cti.handover.model import Handover, requeued_contact_id
from cti.handover.states import HandoverState
from cti.sim.timing import sleep_until

log = structlog.get_logger(__name__)

CONSULTED = frozenset({HandoverState.SPECIALIST_RESERVED, HandoverState.CONSULTING})


class HandoverReactions(HandoverBase):
    async def ours(self, contact_id: str) -> bool:
        """Whether this node reacts to events of the contact: it takes part in a handover this node
        owns, or whose owner is gone (then this node adopts it)."""
        handover_id = await self.handovers.which(contact_id)
        if handover_id is None:
            return False
        handover = await self.handovers.find(handover_id)
        if handover is None:
            return False
        if handover.owner == self.handovers.node_id:
            return True
        if await self.handovers.alive(handover.owner):
            return False
        return await self.adopt(handover_id)

    async def adopt(self, handover_id: str) -> bool:
        """Take over a handover whose owner is gone: its reactions and its timeout are this node's."""
        async with self._locked(handover_id) as handover:
            if handover.owner != self.handovers.node_id:
                if await self.handovers.alive(handover.owner):
                    return False
                log.warning("handover.adopted", handover=handover.id, previous_owner=handover.owner)
                handover.owner = self.handovers.node_id
        if handover.state is HandoverState.REQUESTED and handover.id not in self._timers:
            self._start_timer(handover)
        return True

    async def consult_offered(self, consult_id: str, agent_id: str) -> None:
        handover = await self.handovers.by_consult(consult_id)
        if handover is not None and handover.caller == "queued" and handover.consult_contact_id == consult_id:
            # The caller waits on this contact (the first agent left): the story travels with them.
            await self._send_note(handover, agent_id)

    async def specialist_answered(self, consult_id: str, specialist: str) -> None:
        found = await self.handovers.by_consult(consult_id)
        if found is None:
            return
        async with self._locked(found.id) as handover:
            if handover.consult_contact_id != consult_id:
                return
            if handover.caller == "queued":
                # The caller waits on this consult (the first agent left): make sure they reach the one
                # who answered, even if the answer raced the move (a no-op when already there).
                await self._step(
                    handover,
                    "complete_transfer",
                    self.telephony.complete_transfer(
                        handover.contact_id, consult_id, handover.from_agent, specialist
                    ),
                )
                return
            if handover.state is not HandoverState.REQUESTED:
                return
            handover.specialist = specialist
            self._stop_timer(handover)
            await self._transition(handover, "reserve", specialist)
            # The note and the caller's context reach the specialist before anyone is put through.
            await self._send_note(handover, specialist)
            try:
                await self._hold_caller(handover)  # the agent may have taken the caller off hold meanwhile
                await self.telephony.consult(handover.contact_id, consult_id, handover.from_agent, specialist)
            except Exception:
                log.exception("handover.consult_failed", handover=handover.id)
                await self._fail(handover, "telephony_failed", "system")
                return
            await self._transition(handover, "connect", specialist)

    async def contact_wrapped_up(self, contact_id: str, by: str) -> None:
        found = await self.handovers.active_for(contact_id)
        if found is not None:
            async with self._locked(found.id) as handover:
                if not handover.active:
                    return
                if by == "caller":
                    await self._step(handover, "end_consult", self._end_consult(handover))
                    handover.caller = "gone"
                    await self._transition(handover, "cancel", "caller", "caller_hung_up")
                else:
                    await self._first_agent_left(handover)
            return
        found = await self.handovers.by_consult(contact_id)
        if found is None or found.consult_contact_id != contact_id:
            return
        async with self._locked(found.id) as handover:
            if handover.consult_contact_id == contact_id and handover.state in (
                HandoverState.SPECIALIST_RESERVED,
                HandoverState.CONSULTING,
            ):
                await self._fail(handover, "specialist_left", handover.specialist or "system")

    async def consult_abandoned(self, consult_id: str) -> None:
        found = await self.handovers.by_consult(consult_id)
        if found is None:
            return
        async with self._locked(found.id) as handover:
            if handover.state is HandoverState.REQUESTED and handover.consult_contact_id == consult_id:
                await self._fail(handover, "consult_ended", "system")

    async def expire(self, handover_id: str) -> None:
        if await self.handovers.find(handover_id) is None:
            return
        async with self._locked(handover_id) as handover:
            if handover.state is HandoverState.REQUESTED:
                await self._fail(handover, "no_specialist", "system")

    # --- the first agent left -------------------------------------------------------------------------
    async def _first_agent_left(self, handover: Handover) -> None:
        consult = await self._contact(handover.consult_contact_id)
        specialist = handover.specialist
        if (
            specialist is not None
            and consult is not None
            and consult.state in TALKING
            and consult.agent_id == specialist
        ):
            done = await self._step(
                handover,
                "complete_transfer",
                self.telephony.complete_transfer(
                    handover.contact_id, handover.consult_contact_id, handover.from_agent, specialist
                ),
            )
            if done:
                handover.caller = "with_specialist"
                await self._transition(handover, "complete", handover.from_agent, "first_agent_left")
                return
        # Nobody (or nobody reachable) on the consult: the caller waits for the target, in their place.
        handover.caller = "queued"
        await self._queue_caller(handover, consult)
        await self._transition(handover, "fail", handover.from_agent, "first_agent_left")

    async def _queue_caller(self, handover: Handover, consult: Contact | None) -> None:
        if consult is None or consult.state not in WAITING:
            # The consult contact is over (its specialist left at the same moment): a fresh one.
            await self._step(handover, "end_consult", self._end_consult(handover))
            parent = await self._contact(handover.contact_id)
            if parent is None:
                handover.caller = "gone"
                return
            fresh = requeued_contact_id(handover.consult_contact_id)
            handover.consult_contact_id = fresh
            handover.consults.append(fresh)
            await self.handovers.save(handover)  # known as this handover's before its first event
            if not await self._step(handover, "requeue", self._open_consult(handover, parent, fresh)):
                handover.caller = "gone"
                return
            consult = await self._contact(fresh)
        await self._step(
            handover,
            "complete_transfer",
            self.telephony.complete_transfer(
                handover.contact_id, handover.consult_contact_id, handover.from_agent, None
            ),
        )
        if consult is not None and consult.state is ContactState.OFFERED and consult.agent_id is not None:
            await self._send_note(handover, consult.agent_id)  # already being rung

    # --- the timeout ----------------------------------------------------------------------------------
    def _start_timer(self, handover: Handover) -> None:
        # On the centre's clock, like the router's own time-outs (an accelerated demo keeps its pace).
        due = handover.expires_at or handover.created_at + int(self.policy.timeout_s * 1000)
        self._timers[handover.id] = asyncio.create_task(
            self._expire_at(handover.id, due), name=f"handover-timeout-{handover.id}"
        )

    async def _expire_at(self, handover_id: str, due_ms: int) -> None:
        await sleep_until(self.clock, due_ms)
        self._timers.pop(handover_id, None)
        try:
            await self.expire(handover_id)
        except Exception:
            log.exception("handover.expire_failed", handover=handover_id)

    # --- after a gap in the centre stream -----------------------------------------------------------
    async def reconcile(self) -> None:
        """Catch up from the store's state when events were missed (a resync of the follower)."""
        for handover in await self.handovers.active():
            if await self.handovers.mine(handover) and await self.adopt(handover.id):
                await self.reconcile_one(handover.id)

    async def sweep(self) -> None:
        """Renew this node's lease; adopt and reconcile the handovers of nodes that are gone."""
        await self.handovers.heartbeat()
        for handover in await self.handovers.active():
            theirs = handover.owner != self.handovers.node_id
            if theirs and await self.handovers.mine(handover) and await self.adopt(handover.id):
                await self.reconcile_one(handover.id)

    async def reconcile_one(self, handover_id: str) -> None:
        handover = await self.handovers.find(handover_id)
        if handover is not None and handover.active:
            consult = await self._contact(handover.consult_contact_id)
            parent = await self._contact(handover.contact_id)
            if parent is None or parent.state not in TALKING:
                # Whoever ended it, the caller must not be left parked: treat it as the agent leaving.
                await self.contact_wrapped_up(handover.contact_id, "agent")
            elif consult is None or consult.state not in (*WAITING, *TALKING):
                await self.consult_abandoned(handover.consult_contact_id)
                await self.contact_wrapped_up(handover.consult_contact_id, "agent")
            elif handover.state is HandoverState.REQUESTED and consult.agent_id and consult.state in TALKING:
                await self.specialist_answered(handover.consult_contact_id, consult.agent_id)
