"""The screen-pop: who is calling and why the call came to this agent, as a JSON-ready summary.

Built from the state store (queue, priority, wait, IVR choices, routing decision) and the records
(candidates and their history, in one round trip: ``cti.records.context``). It never audits: it
is a summary; opening the record is a separate, audited request. A records failure does not stop the
pop (or the call): the caller part then says ``unavailable`` and asks identity questions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.exc import SQLAlchemyError

from cti.desktop.sources import PopSources
from cti.domain.errors import InvalidInput
from cti.domain.identifiers import display_phone
from cti.domain.model import Contact
from cti.records.context import CallerContext, PersonContext, caller_context

log = structlog.get_logger(__name__)

RULES = {
    "named_worker": "named worker",
    "longest_idle_agent": "longest idle",
    "first_waiting_contact": "first waiting contact",
}
PROMPTS = {
    "withheld": "Ask identity questions: withheld number",
    "unrecognised": "Ask identity questions: number not recognised",
    "unknown": "Ask identity questions: number not on record",
    "ambiguous": "Confirm identity: several records share this number",
    "unavailable": "Ask identity questions: caller records unavailable",
}
PATTERN_MONTHS = 12


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def national(raw: object) -> str | None:
    """A number as agents read it; what cannot be parsed is shown as given (never guessed)."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return display_phone(raw)
    except InvalidInput:
        return raw


async def screen_pop(
    services: PopSources, contact_id: str, *, decision: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The summary shown when ``contact_id`` is offered (``decision``: the routing decision of the
    offer; by default the contact's latest). Raises ``NotFound`` if the store has no such contact."""
    live = await services.store.get_contact(contact_id)
    if decision is None:
        decisions = await services.store.decisions(contact_id)
        decision = decisions[-1] if decisions else None
    now_ms = services.clock.now_ms()
    policy = services.centre.routing
    context: CallerContext | None
    try:
        context = await caller_context(
            services.records.engine,
            contact_id,
            now=datetime.fromtimestamp(now_ms / 1000, tz=UTC),
            window_days=policy.repeat_window_days,
            months=PATTERN_MONTHS,
        )
    except (SQLAlchemyError, OSError) as exc:  # operational (database down): a warning per pop, no trace
        log.warning("desktop.caller_context_failed", contact=contact_id, error=type(exc).__name__)
        context = None
    service = _service(services, live, context)
    return {
        "contact": contact_part(services, live, context, decision, now_ms, service),
        "caller": caller_part(services, live, context, service, now_ms),
        "built_at": now_ms,
    }


def _service(services: PopSources, live: Contact, context: CallerContext | None) -> str | None:
    """The service the call is for: what the IVR chose, else the record's, else the queue's."""
    chosen = live.attrs.get("service")
    if isinstance(chosen, str) and chosen:
        return chosen
    if context is not None and context.contact is not None and context.contact.service:
        return context.contact.service
    queue = services.centre.queues.get(live.queue)
    return queue.service if queue is not None else None


def routing_part(services: PopSources, decision: dict[str, Any] | None) -> dict[str, Any] | None:
    if not decision or not isinstance(decision.get("rule"), str):
        return None
    rule, target = decision["rule"], str(decision.get("target") or "")
    name: str | None = None
    if target.startswith("@"):
        user = services.centre.users.get(target[1:])
        name = user.display_name if user is not None else None
    elif target in services.centre.queues:
        name = services.centre.queues[target].name
    return {
        "rule": rule,
        "why": RULES.get(rule, rule.replace("_", " ")),
        "target": target,
        "target_name": name,
    }


def contact_part(
    services: PopSources,
    live: Contact,
    context: CallerContext | None,
    decision: dict[str, Any] | None,
    now_ms: int,
    service: str | None,
) -> dict[str, Any]:
    attrs = live.attrs
    withheld = bool(attrs.get("withheld"))
    record = context.contact if context is not None else None
    queue = services.centre.queues.get(live.queue)
    ivr = attrs.get("ivr")
    return {
        "id": live.id,
        "number": None if withheld or record is None else national(record.caller_e164),
        "withheld": withheld,
        "dialled": national(attrs.get("dialled")),
        "caller_type": attrs.get("caller_type") or (record.caller_type if record is not None else None),
        "ivr": {str(k): str(v) for k, v in ivr.items()} if isinstance(ivr, dict) else {},
        "queue": live.queue,
        "queue_name": queue.name if queue is not None else None,
        "service": service,
        "priority": live.priority,
        "waited_s": max(0, (now_ms - live.enqueued_at) // 1000),
        "routing": routing_part(services, decision),
    }


def caller_part(
    services: PopSources, live: Contact, context: CallerContext | None, service: str | None, now_ms: int
) -> dict[str, Any]:
    if context is None:
        return _caller("unavailable", None, [], [], more=False)
    people, referrers, record = context.people, context.referrers, context.contact
    linked = record is not None and (record.person_id is not None or record.referrer_id is not None)
    matched_by: str | None = None
    if linked and record is not None:
        # The records already identified the caller (a number only they have, or an NHS number from
        # the IVR): show who was identified, not everyone else on a shared number.
        people = [p for p in people if p.person.id == record.person_id]
        referrers = [r for r in referrers if r.id == record.referrer_id]
        on_phone = any(p.person.phone_kind is not None for p in people) or bool(referrers)
        matched_by = "phone" if on_phone else "nhs_number"
    found = len(people) + len(referrers)
    if found == 0:
        if bool(live.attrs.get("withheld")):
            outcome = "withheld"
        else:
            outcome = "unrecognised" if record is not None and record.caller_e164 is None else "unknown"
    elif linked or (found == 1 and not context.more):
        outcome, matched_by = "matched", matched_by or "phone"
    else:
        outcome, matched_by = "ambiguous", "phone"
    policy = services.centre.routing
    shown_people = [
        person_part(p, service, policy.repeat_window_days, policy.repeat_threshold, now_ms) for p in people
    ]
    shown_referrers = [
        {"id": r.id, "name": r.name, "role": r.role, "organisation": r.organisation} for r in referrers
    ]
    return _caller(outcome, matched_by, shown_people, shown_referrers, more=context.more and not linked)


def _caller(
    outcome: str,
    matched_by: str | None,
    people: list[dict[str, Any]],
    referrers: list[dict[str, Any]],
    *,
    more: bool,
) -> dict[str, Any]:
    return {
        "match": outcome,
        "matched_by": matched_by,
        "prompt": PROMPTS.get(outcome),
        "people": people,
        "referrers": referrers,
        "more": more,
    }


def person_part(
    found: PersonContext, service: str | None, window_days: int, threshold: int, now_ms: int
) -> dict[str, Any]:
    p = found.person
    try:
        nhs = p.nhs_display
    except InvalidInput:  # a source system's number that fails the check: show it as it came
        nhs = p.nhs_number
    now = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    allocations = [
        {"service": a.service, "worker_id": a.worker_id, "worker_name": a.worker_name, "since": _iso(a.since)}
        for a in found.allocations
    ]
    return {
        "id": p.id,
        "name": p.display_name,
        "nhs_number": nhs,
        "date_of_birth": p.date_of_birth.isoformat() if p.date_of_birth else None,
        "flags": list(p.flags),
        "communication_needs": {str(k): str(v) for k, v in p.communication_needs.items()},
        "phone_kind": p.phone_kind,
        "repeat_caller": {
            "repeat": found.contacts_in_window >= threshold,
            "contacts": found.contacts_in_window,
            "days": window_days,
            "threshold": threshold,
        },
        "recent_contacts": [
            {"date": _iso(c.started_at), "service": c.service, "outcome": c.outcome_code}
            for c in found.recent
        ],
        "open_service_requests": [
            {
                "reference": r.reference,
                "service": r.service,
                "status": r.status,
                "due_at": _iso(r.due_at),
                "overdue": r.due_at is not None and r.due_at < now,
            }
            for r in found.open_requests
        ],
        "referral_pattern": {
            "months": PATTERN_MONTHS,
            "contacts": sum(a.contacts for a in found.activity),
            "referrals": sum(a.referrals for a in found.activity),
            "services": [
                {"service": a.service, "contacts": a.contacts, "referrals": a.referrals}
                for a in found.activity
            ],
        },
        "allocated_worker": next((a for a in allocations if a["service"] == service), None),
        "allocations": allocations,
    }


def fallback_pop(contact_id: str, queue: str | None, now_ms: int) -> dict[str, Any]:
    """What is offered when the pop cannot be built in time: the call must still ring."""
    contact: dict[str, Any] = {
        "id": contact_id,
        "number": None,
        "withheld": False,
        "dialled": None,
        "caller_type": None,
        "ivr": {},
        "queue": queue,
        "queue_name": None,
        "service": None,
        "priority": None,
        "waited_s": None,
        "routing": None,
    }
    return {
        "contact": contact,
        "caller": _caller("unavailable", None, [], [], more=False),
        "built_at": now_ms,
    }
