"""The caller's context that travels with a handover: who is calling, from where, how long they waited.

A summary, like a screen-pop (information governance): identity to confirm who is on the line, flags
and communication needs to speak to them well; the full record is opened on demand (and audited
there). Handing the person's identity to a specialist is itself audited here.
"""

from __future__ import annotations

from typing import Any

import structlog

from cti.domain.clock import Clock
from cti.domain.errors import NotFound
from cti.handover.model import Handover
from cti.records.repository import Records
from cti.state.port import StateStore

log = structlog.get_logger(__name__)


async def caller_context(
    handover: Handover, recipient: str, role: str, store: StateStore, records: Records, clock: Clock
) -> dict[str, Any]:
    context: dict[str, Any] = {"contact": handover.contact_id, "person": None, "referrer": None}
    try:
        contact = await store.get_contact(handover.contact_id)
        context.update(
            queue=contact.queue,
            service=contact.attrs.get("service"),
            caller_type=contact.attrs.get("caller_type"),
            withheld=contact.attrs.get("withheld"),
            waited_ms=clock.now_ms() - contact.enqueued_at,
        )
    except NotFound:
        pass  # the store forgets finished contacts; the records still know the caller
    try:
        record = await records.get_contact(handover.contact_id)
        if record is not None and record.person_id is not None:
            person = await records.get_person(record.person_id)
            if person is not None:
                context["person"] = {
                    "id": person.id,
                    "display_name": person.display_name,
                    "nhs_number": person.nhs_number,
                    "date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else None,
                    "flags": list(person.flags),
                    "communication_needs": dict(person.communication_needs),
                }
                await records.audit_view(
                    actor=recipient,
                    role=role,
                    action="handover_context",
                    subject_type="person",
                    subject_id=person.id,
                    reason=f"warm handover {handover.id}",
                    details={"contact": handover.contact_id, "from_agent": handover.from_agent},
                )
        if record is not None and record.referrer_id is not None:
            referrer = await records.get_referrer(record.referrer_id)
            if referrer is not None:
                context["referrer"] = {
                    "id": referrer.id,
                    "name": referrer.name,
                    "role": referrer.role,
                    "organisation": referrer.organisation,
                }
    except Exception:
        # The note must still go out: a records hiccup costs the context, not the handover.
        log.exception("handover.context_failed", handover=handover.id)
    return context
