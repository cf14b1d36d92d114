"""What a handover tells the rest of the centre: events on the bus and rows in the audit.

Event catalogue
---------------
Stream ``centre`` (supervisors, live statistics, and the desktop feed, which shows each party theirs):

``handover.requested`` | ``handover.specialist_reserved`` | ``handover.consulting`` |
``handover.completed`` | ``handover.cancelled`` | ``handover.failed``
    ``{handover, contact, consult_contact, from_agent, specialist, target, worker, previous, event,
    state, reason, caller, expires_at, note}``; ``note`` is the summary only (reason,
    triage_outcome, risk_flags), ``caller`` where the caller is (held | with_first_agent |
    with_specialist | queued | gone).

Stream ``agent:{specialist}``:

``handover.note``
    Published when the specialist is reserved and before the consult connects (FR-25): ``{handover,
    contact, consult_contact, from_agent, note (in full), notes, caller (context summary)}``. Also sent
    to whoever answers a caller queued after the first agent left, so the story still travels.

Streams ``agent:{from_agent}`` and ``agent:{specialist}`` (the parties at the time):

``handover.state``
    On every transition: ``{handover, contact, consult_contact, from_agent, specialist, target,
    worker, previous, event, state, reason, caller, expires_at}`` (the centre event without the
    note's summary): each desktop follows the other side live.

``handover.note_added``
    ``{handover, note: {at, author, text}}``: a note written during the handover, live to both sides.
``handover.ended``
    ``{handover, state, reason, caller}``: each party learns at once that it is over and why.

Every transition is also one audit row: action ``handover_<event>``, subject the caller's contact.
Publishing and auditing never break a call: a failure is logged and the call flow goes on.
"""

from __future__ import annotations

from typing import Any

import structlog

from cti.bus.port import EventBus
from cti.domain.clock import Clock
from cti.domain.events import CENTRE_STREAM
from cti.handover.model import Handover, LiveNote, Transition
from cti.records.repository import Records

log = structlog.get_logger(__name__)


def agent_stream(agent_id: str) -> str:
    return f"agent:{agent_id}"


class HandoverNotifier:
    def __init__(self, bus: EventBus, records: Records, clock: Clock) -> None:
        self.bus = bus
        self.records = records
        self.clock = clock

    async def _publish(self, stream: str, type: str, data: dict[str, Any]) -> bool:
        try:
            await self.bus.publish(stream, type, data, self.clock.now_ms())
        except Exception:
            log.exception("handover.publish_failed", stream=stream, type=type, handover=data.get("handover"))
            return False
        return True

    async def audit(
        self, handover: Handover, actor: str, role: str, action: str, reason: str, **details: Any
    ) -> None:
        try:
            await self.records.audit_view(
                actor=actor,
                role=role,
                action=action,
                subject_type="contact",
                subject_id=handover.contact_id,
                reason=reason,
                details={"handover": handover.id, "consult_contact": handover.consult_contact_id, **details},
            )
        except Exception:
            log.exception("handover.audit_failed", handover=handover.id, action=action)

    async def transition(self, handover: Handover, step: Transition, role: str) -> None:
        data = {
            "handover": handover.id,
            "contact": handover.contact_id,
            "consult_contact": handover.consult_contact_id,
            "from_agent": handover.from_agent,
            "specialist": handover.specialist,
            "target": handover.target,
            "worker": handover.worker,
            "previous": step.previous,
            "event": step.event,
            "state": step.state,
            "reason": step.reason,
            "caller": handover.caller,
            "expires_at": handover.expires_at,
            "note": handover.note.summary(),
        }
        await self._publish(CENTRE_STREAM, f"handover.{step.state}", data)
        state = {k: v for k, v in data.items() if k != "note"}
        for agent in handover.parties():
            await self._publish(agent_stream(agent), "handover.state", state)
        await self.audit(
            handover,
            step.by,
            role,
            f"handover_{step.event}",
            f"warm handover {step.previous or 'new'} -> {step.event} -> {step.state}",
            target=handover.target,
            specialist=handover.specialist,
            outcome=step.reason,
            caller=handover.caller,
        )
        if not handover.active:
            ended = {
                "handover": handover.id,
                "state": step.state,
                "reason": step.reason,
                "caller": handover.caller,
            }
            for agent in handover.parties():
                await self._publish(agent_stream(agent), "handover.ended", ended)

    async def note_for(self, handover: Handover, agent_id: str, caller: dict[str, Any]) -> bool:
        """The handover note and the caller's context, to the agent about to speak to the caller."""
        data = {
            "handover": handover.id,
            "contact": handover.contact_id,
            "consult_contact": handover.consult_contact_id,
            "from_agent": handover.from_agent,
            "note": handover.note.to_json(),
            "notes": [n.to_json() for n in handover.notes],
            "caller": caller,
        }
        return await self._publish(agent_stream(agent_id), "handover.note", data)

    async def note_added(self, handover: Handover, note: LiveNote) -> None:
        data = {"handover": handover.id, "note": note.to_json()}
        for agent in handover.parties():
            await self._publish(agent_stream(agent), "handover.note_added", data)
