"""Self-service progress ("Where's my nurse"): find the caller's service requests and say where they
are, and record the call as a contact resolved without an agent.

Only the status, the reference and the due date are spoken: never a name, so a caller who knows a
reference learns no more than that reference's progress.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from cti.domain.errors import Conflict, InvalidInput
from cti.domain.identifiers import normalise_cli
from cti.records.models import AuditEntry, CallerMatch, Contact, Person, ServiceRequest
from ivr.phrases import phrase, spoken_day, spoken_reference

LONDON = ZoneInfo("Europe/London")
MAX_SPOKEN = 2  # requests read out by number; more are left to an adviser
SELF_SERVICE_OUTCOME = "status_given"


class StatusRecords(Protocol):
    """The part of ``cti.records.Records`` self-service needs."""

    async def lookup_by_phone(self, raw_cli: str | None) -> CallerMatch: ...

    async def open_service_requests(self, person_id: int) -> list[ServiceRequest]: ...

    async def service_request_by_reference(self, reference: str) -> ServiceRequest | None: ...

    async def record_contact(
        self,
        contact_id: str,
        *,
        started_at: datetime,
        caller_e164: str | None = None,
        person_id: int | None = None,
        referrer_id: int | None = None,
        caller_type: str = "unknown",
        service: str | None = None,
        queue: str | None = None,
        agent_id: str | None = None,
        channel: str = "voice",
        direction: str = "inbound",
    ) -> Contact: ...

    async def update_contact(self, contact_id: str, **fields: object) -> Contact: ...

    async def get_person(self, person_id: int) -> Person | None: ...

    async def find_person_by_nhs(self, nhs: str) -> Person | None: ...

    async def audit_view(
        self,
        actor: str,
        role: str,
        subject_type: str,
        subject_id: str | int,
        reason: str,
        action: str = "view",
        *,
        details: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEntry: ...


@dataclass(frozen=True, slots=True)
class Found:
    requests: list[ServiceRequest]
    more: int = 0  # open requests not read out


async def by_number(records: StatusRecords, cli: str | None) -> Found | None:
    """The open requests of the one person known by ``cli``; None if nobody, several people or none open."""
    if cli is None:
        return None
    match = await records.lookup_by_phone(cli)
    if len(match.people) != 1:
        return None
    requests = await records.open_service_requests(match.people[0].id)
    if not requests:
        return None
    return Found(requests[:MAX_SPOKEN], max(0, len(requests) - MAX_SPOKEN))


async def by_reference(records: StatusRecords, reference: str) -> Found | None:
    found = await records.service_request_by_reference(reference)
    return None if found is None else Found([found])


async def is_their_number(records: StatusRecords, person_id: int, cli: str | None) -> bool:
    """Whether the caller rings from one of the person's own numbers."""
    try:
        number = normalise_cli(cli)
    except InvalidInput:
        return False
    person = await records.get_person(person_id)
    return number is not None and person is not None and any(p.e164 == number for p in person.phones)


async def born_on(records: StatusRecords, person_id: int, iso_date: str) -> bool:
    """Whether the person's recorded date of birth is ``iso_date``; False when none is recorded."""
    person = await records.get_person(person_id)
    return (
        person is not None
        and person.date_of_birth is not None
        and person.date_of_birth.isoformat() == iso_date
    )


def announcement(found: Found, language: str, now: datetime) -> list[str]:
    """What the caller hears about each request: status, then the next step and when it is due."""
    out: list[str] = []
    for request in found.requests:
        text = phrase(language, "sr.intro", reference=spoken_reference(request.reference))
        text += " " + phrase(language, f"sr.{request.status}")
        if request.is_open and request.due_at is not None:
            when = spoken_day(request.due_at.astimezone(LONDON), language)
            key = "sr.overdue" if request.is_overdue(now) else "sr.due"
            text += " " + phrase(language, key, when=when)
        out.append(text)
    if found.more:
        out.append(phrase(language, "sr.more", count=found.more))
    return out


async def record_self_service(
    records: StatusRecords,
    *,
    call_id: str,
    cli: str | None,
    caller_type: str,
    person_id: int | None,
    service: str | None,
    started_at: datetime,
    now: datetime,
    reason: str,
) -> Contact | None:
    """A contact resolved in the IVR: never queued, no agent, first-contact resolution, failure demand
    when the reason is one (``progress_chase``).

    Written once: the contact id is the call id, so a second attempt (a repeated webhook, a hang-up
    after the goodbye) is refused by the database and returns None, changing nothing."""
    if not await insert_once(
        records,
        call_id,
        started_at=started_at,
        caller_e164=cli,
        person_id=person_id,
        caller_type=caller_type,
        service=service,
    ):
        return None
    return await records.update_contact(
        call_id,
        ivr_ended_at=now,
        ended_at=now,
        outcome_code=SELF_SERVICE_OUTCOME,
        first_contact_resolution=True,
        reason_codes=[reason],
    )


async def insert_once(
    records: StatusRecords,
    call_id: str,
    *,
    started_at: datetime,
    caller_e164: str | None,
    person_id: int | None,
    caller_type: str,
    service: str | None,
    referrer_id: int | None = None,
) -> bool:
    """Insert the call's contact; False (nothing written) if the call already has one."""
    try:
        await records.record_contact(
            call_id,
            started_at=started_at,
            caller_e164=caller_e164,
            person_id=person_id,
            referrer_id=referrer_id,
            caller_type=caller_type if caller_type in ("professional", "public", "carer") else "unknown",
            service=service,
        )
    except Conflict as exc:
        if exc.error_id != "duplicate_contact":
            raise
        return False
    return True


def utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
