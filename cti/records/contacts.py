"""Contacts (calls) with their segment times; repeat-caller and referral-pattern queries."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from cti.domain.errors import Conflict, InvalidInput, NotFound
from cti.domain.identifiers import normalise_cli
from cti.records.base import RecordsBase, aware_utc, optional_text, required_text
from cti.records.models import (
    CALLER_TYPES,
    DIRECTIONS,
    FAILURE_DEMAND_CODES,
    Contact,
    ReferralPattern,
    ServiceActivity,
)
from cti.records.tables import contact, service_request

SEGMENT_FIELDS = (
    "ivr_ended_at",
    "queued_at",
    "offered_at",
    "answered_at",
    "talk_ended_at",
    "wrap_up_ended_at",
    "ended_at",
)
_TEXT_FIELDS = {"service": 50, "queue": 100, "agent_id": 100, "outcome_code": 50}
_ID_FIELDS = ("person_id", "referrer_id")
UPDATABLE_FIELDS = frozenset(
    {
        *SEGMENT_FIELDS,
        *_TEXT_FIELDS,
        *_ID_FIELDS,
        "caller_type",
        "hold_ms",
        "first_contact_resolution",
        "reason_codes",
        "failure_demand",
    }
)
UNASSIGNED_SERVICE = "unassigned"
# Built once: every call inserts a contact and the recorder updates it a few times, and a statement
# made per call costs SQLAlchemy more than SQLite takes to run it.
_INSERT = contact.insert().returning(*contact.c)
_SET_BY_ID = contact.update().where(contact.c.id == sa.bindparam("match_id"))


def _field_error(name: str, problem: str) -> InvalidInput:
    return InvalidInput(f"contact field '{name}' {problem}", error_id="invalid_contact_field", field=name)


def _unknown_link() -> InvalidInput:
    return InvalidInput("the person or referrer does not exist", error_id="unknown_person_or_referrer")


def _check_field(name: str, value: object) -> object:
    """The stored value of one ``update_contact`` field, or ``InvalidInput`` naming the field."""
    if name in SEGMENT_FIELDS:
        return None if value is None else aware_utc(value, name)
    if name in _TEXT_FIELDS:
        return optional_text(value, name, _TEXT_FIELDS[name])
    if name in _ID_FIELDS:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise _field_error(name, "must be an id or None")
        return value
    if name == "caller_type":
        if value not in CALLER_TYPES:
            raise _field_error(name, f"must be one of {', '.join(sorted(CALLER_TYPES))}")
        return value
    if name == "hold_ms":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _field_error(name, "must be a whole number of milliseconds, 0 or more")
        return value
    if name == "first_contact_resolution":
        if value is not None and not isinstance(value, bool):
            raise _field_error(name, "must be true, false or None")
        return value
    if name == "failure_demand":
        if not isinstance(value, bool):
            raise _field_error(name, "must be true or false")
        return value
    if name == "reason_codes":
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise _field_error(name, "must be a list of codes")
        return list(dict.fromkeys(required_text(code, name, 50) for code in value))
    raise _field_error(name, "does not exist or cannot be changed")


def _checked_fields(fields: dict[str, object]) -> dict[str, object]:
    values = {name: _check_field(name, value) for name, value in fields.items()}
    if "reason_codes" in values and "failure_demand" not in values:
        codes = values["reason_codes"]
        assert isinstance(codes, list)
        values["failure_demand"] = is_failure_demand(codes)
    return values


def is_failure_demand(reason_codes: list[str]) -> bool:
    return any(code in FAILURE_DEMAND_CODES for code in reason_codes)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (clamped to the month's end)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def contact_from_row(row: sa.Row[Any]) -> Contact:
    values = row._asdict()
    values["reason_codes"] = list(values["reason_codes"])
    return Contact(**values)


class ContactRecords(RecordsBase):
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
        ivr_ended_at: datetime | None = None,
        queued_at: datetime | None = None,
    ) -> Contact:
        """Insert a contact (with its IVR-ended and queued times when already known). ``caller_e164``
        may be in any format (the raw CLI will do): it is normalised like a lookup, and a withheld
        or unreadable number is stored as no number.
        Raises ``Conflict`` (``duplicate_contact``) if the id exists, ``InvalidInput`` for a bad
        field or an unknown person or referrer."""
        if direction not in DIRECTIONS:
            raise _field_error("direction", "must be inbound or outbound")
        try:
            number = normalise_cli(caller_e164)
        except InvalidInput:
            number = None
        values: dict[str, Any] = {
            "id": required_text(contact_id, "contact_id", 64),
            "started_at": aware_utc(started_at, "started_at"),
            "caller_e164": number,
            "person_id": _check_field("person_id", person_id),
            "referrer_id": _check_field("referrer_id", referrer_id),
            "caller_type": _check_field("caller_type", caller_type),
            "service": _check_field("service", service),
            "queue": _check_field("queue", queue),
            "agent_id": _check_field("agent_id", agent_id),
            "channel": required_text(channel, "channel", 20),
            "direction": direction,
            "ivr_ended_at": _check_field("ivr_ended_at", ivr_ended_at),
            "queued_at": _check_field("queued_at", queued_at),
            "hold_ms": 0,
            "reason_codes": [],
            "failure_demand": False,
        }
        try:
            async with self._engine.begin() as conn:
                row = (await conn.execute(_INSERT, values)).one()
        except IntegrityError:
            if await self.get_contact(values["id"]) is not None:
                raise Conflict(
                    "a contact with this id already exists", error_id="duplicate_contact"
                ) from None
            raise _unknown_link() from None
        return contact_from_row(row)

    async def update_contact(self, contact_id: str, **fields: object) -> Contact:
        """Set segment times, outcome, reason codes, first-contact resolution and so on.

        Reason codes that are failure demand (``progress_chase``...) set ``failure_demand`` unless
        it is given. Raises ``InvalidInput`` for an unknown or ill-typed field, ``NotFound`` for
        an unknown contact.
        """
        values = _checked_fields(fields)
        if not values:
            found = await self.get_contact(contact_id)
            if found is None:
                raise NotFound("no such contact", error_id="contact_not_found")
            return found
        statement = contact.update().where(contact.c.id == contact_id).values(values).returning(*contact.c)
        try:
            async with self._engine.begin() as conn:
                row = (await conn.execute(statement)).one_or_none()
        except IntegrityError:
            raise _unknown_link() from None
        if row is None:
            raise NotFound("no such contact", error_id="contact_not_found")
        return contact_from_row(row)

    async def set_contact(self, contact_id: str, **fields: object) -> None:
        """``update_contact`` for a writer that needs nothing back (the recorder, for every event of
        every call): one prepared UPDATE, nothing read. Same checks and errors."""
        values = _checked_fields(fields)
        if not values:
            raise _field_error("fields", "give at least one field to set")
        try:
            async with self._engine.begin() as conn:
                result = await conn.execute(_SET_BY_ID, {"match_id": contact_id, **values})
        except IntegrityError:
            raise _unknown_link() from None
        if result.rowcount == 0:
            raise NotFound("no such contact", error_id="contact_not_found")

    async def get_contact(self, contact_id: str) -> Contact | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(contact).where(contact.c.id == contact_id))).one_or_none()
        return None if row is None else contact_from_row(row)

    async def recent_contacts(self, person_id: int, limit: int = 10) -> list[Contact]:
        """The person's latest contacts, newest first."""
        statement = (
            sa.select(contact)
            .where(contact.c.person_id == person_id)
            .order_by(contact.c.started_at.desc(), contact.c.id.desc())
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return [contact_from_row(r) for r in await conn.execute(statement)]

    async def contacts_in_days(self, person_id: int, days: int, now: datetime) -> int:
        """How many contacts the person made in the ``days`` before ``now``: repeat-caller detection.

        Counts a contact already recorded for the call in progress. ``contacts_since`` lists them.
        """
        until = aware_utc(now, "now")
        statement = sa.select(sa.func.count()).where(
            contact.c.person_id == person_id,
            contact.c.started_at > until - timedelta(days=days),
            contact.c.started_at <= until,
        )
        async with self._engine.connect() as conn:
            return int(await conn.scalar(statement) or 0)

    async def contacts_since(self, person_id: int, since: datetime, now: datetime) -> list[Contact]:
        """The person's contacts after ``since`` up to ``now``, newest first."""
        statement = (
            sa.select(contact)
            .where(
                contact.c.person_id == person_id,
                contact.c.started_at > aware_utc(since, "since"),
                contact.c.started_at <= aware_utc(now, "now"),
            )
            .order_by(contact.c.started_at.desc(), contact.c.id.desc())
        )
        async with self._engine.connect() as conn:
            return [contact_from_row(r) for r in await conn.execute(statement)]

    async def referral_pattern(self, person_id: int, now: datetime, months: int = 12) -> ReferralPattern:
        """Contacts and referrals (service requests opened) per service over the last ``months``."""
        until = aware_utc(now, "now")
        since = months_before(until, months)
        service = sa.func.coalesce(contact.c.service, UNASSIGNED_SERVICE)
        contacts_q = (
            sa.select(service.label("service"), sa.func.count().label("n"), sa.func.max(contact.c.started_at))
            .where(
                contact.c.person_id == person_id, contact.c.started_at > since, contact.c.started_at <= until
            )
            .group_by(service)
        )
        requests_q = (
            sa.select(service_request.c.service, sa.func.count().label("n"))
            .where(
                service_request.c.person_id == person_id,
                service_request.c.created_at > since,
                service_request.c.created_at <= until,
            )
            .group_by(service_request.c.service)
        )
        async with self._engine.connect() as conn:
            contact_rows = (await conn.execute(contacts_q)).all()
            request_rows = (await conn.execute(requests_q)).all()
        referrals = {r.service: r.n for r in request_rows}
        last = {r.service: r[2] for r in contact_rows}
        counts = {r.service: r.n for r in contact_rows}
        services = [
            ServiceActivity(
                service=s,
                contacts=counts.get(s, 0),
                referrals=referrals.get(s, 0),
                last_contact_at=last.get(s),
            )
            for s in set(counts) | set(referrals)
        ]
        services.sort(key=lambda a: (-(a.contacts + a.referrals), a.service))
        return ReferralPattern(person_id=person_id, since=since, until=until, services=services)
