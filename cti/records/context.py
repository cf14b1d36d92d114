"""The caller's context for a screen-pop, in one round trip: the contact and everything else.

The screen-pop is on the hot path and every statement costs a thread hop (performance.md), so the
candidates (people and referrers on the caller's number, and a person identified otherwise) and the
summary of each person's history come back as the branches of ONE ``UNION ALL``, told apart by a
``kind`` column. NULL padding is typed: PostgreSQL resolves a chain of UNIONs pairwise, and an untyped
NULL column would turn into text. The contact's row comes with them: the union is LEFT JOINed to
it, and its number and links are read by the branches as scalar subqueries. Summary only: nothing
here is audited, and nothing here should need to be (no notes, no addresses, no free text from
service requests).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.records.contacts import UNASSIGNED_SERVICE, months_before
from cti.records.models import OPEN_STATUSES, Allocation, Contact, PersonSummary, ReferrerSummary
from cti.records.tables import (
    JSONType,
    UTCDateTime,
    allocation,
    contact,
    person,
    person_phone,
    referrer,
    referrer_phone,
    service_request,
)

CANDIDATES = 5  # shown at most; one more is fetched to know there are more
RECENT = 3


@dataclass(frozen=True, slots=True)
class RecentContact:
    id: str
    started_at: datetime
    service: str | None
    outcome_code: str | None


@dataclass(frozen=True, slots=True)
class OpenRequest:
    reference: str
    service: str
    status: str
    due_at: datetime | None


@dataclass(frozen=True, slots=True)
class Activity:
    service: str
    contacts: int = 0
    referrals: int = 0


@dataclass(frozen=True, slots=True)
class PersonContext:
    person: PersonSummary
    recent: list[RecentContact] = field(default_factory=list)  # newest first, this contact excluded
    open_requests: list[OpenRequest] = field(default_factory=list)  # soonest due first
    activity: list[Activity] = field(default_factory=list)  # busiest service first
    allocations: list[Allocation] = field(default_factory=list)  # by service
    contacts_in_window: int = 0  # the repeat-caller window, this contact included


@dataclass(frozen=True, slots=True)
class CallerContext:
    contact: Contact | None  # None when the records do not know the contact
    people: list[PersonContext]  # the identified person first, then by name; at most CANDIDATES
    referrers: list[ReferrerSummary]
    more: bool  # more candidates than shown


def _typed_null(type_: Any) -> sa.Cast[Any]:
    return sa.cast(sa.null(), type_)


_CID = sa.bindparam("cid", type_=sa.String)
_THIS = contact.alias("this_contact")


def _of_contact(column: sa.Column[Any]) -> Any:
    """The contact's own ``column``, as an uncorrelated scalar subquery (branches also read ``contact``)."""
    return sa.select(column).where(_THIS.c.id == _CID).correlate(None).scalar_subquery()


_E164 = _of_contact(_THIS.c.caller_e164)
_PID = _of_contact(_THIS.c.person_id)
_RID = _of_contact(_THIS.c.referrer_id)
_NOW = sa.bindparam("now", type_=UTCDateTime)
_YEAR_AGO = sa.bindparam("year_ago", type_=UTCDateTime)
_WINDOW_START = sa.bindparam("window_start", type_=UTCDateTime)

_CANDIDATE_IDS = (
    sa.select(person.c.id)
    .where(
        sa.or_(
            person.c.id.in_(sa.select(person_phone.c.person_id).where(person_phone.c.e164 == _E164)),
            person.c.id == _PID,
        )
    )
    .order_by(
        sa.case((person.c.id == _PID, 0), else_=1), person.c.family_name, person.c.given_name, person.c.id
    )
    .limit(CANDIDATES + 1)
    .cte("candidate")
)
_IN_CANDIDATES = sa.select(_CANDIDATE_IDS.c.id).scalar_subquery()


def _row(
    kind: str, pid: Any, *texts: Any, at: Any = None, n: Any = None, person_cols: Sequence[Any] = ()
) -> Any:
    """One branch's select list in the shared shape: kind, pid, t1..t4, at, n, dob, flags, needs."""
    padded = [*texts, *(_typed_null(sa.String) for _ in range(4 - len(texts)))]
    extra = list(person_cols) or [_typed_null(sa.Date), _typed_null(JSONType), _typed_null(JSONType)]
    return [
        sa.literal_column(f"'{kind}'").label("kind"),
        sa.cast(pid, sa.Integer).label("pid"),
        *(sa.cast(t, sa.String).label(f"t{i}") for i, t in enumerate(padded, start=1)),
        (at if at is not None else _typed_null(UTCDateTime)).label("at"),
        sa.cast(n if n is not None else sa.null(), sa.BigInteger).label("n"),
        *(c.label(name) for c, name in zip(extra, ("dob", "flags", "needs"), strict=True)),
    ]


def _statement() -> sa.Select[Any]:
    own_phone = sa.select(person_phone.c.kind).where(
        person_phone.c.person_id == person.c.id, person_phone.c.e164 == _E164
    )
    people = sa.select(
        *_row(
            "person",
            person.c.id,
            person.c.nhs_number,
            person.c.given_name,
            person.c.family_name,
            own_phone.limit(1).scalar_subquery(),
            person_cols=(person.c.date_of_birth, person.c.flags, person.c.communication_needs),
        )
    ).where(person.c.id.in_(_IN_CANDIDATES))
    found_referrers = (
        sa.select(referrer)
        .where(
            sa.or_(
                referrer.c.id.in_(
                    sa.select(referrer_phone.c.referrer_id).where(referrer_phone.c.e164 == _E164)
                ),
                referrer.c.id == _RID,
            )
        )
        .order_by(referrer.c.name, referrer.c.id)
        .limit(CANDIDATES + 1)
        .subquery()
    )
    fr = found_referrers.c
    referrers = sa.select(*_row("referrer", fr.id, fr.name, fr.role, fr.organisation))
    c = contact.c
    newest_first = sa.func.row_number().over(
        partition_by=c.person_id, order_by=(c.started_at.desc(), c.id.desc())
    )
    ranked = (
        sa.select(c.person_id, c.id, c.service, c.outcome_code, c.started_at, newest_first.label("rn"))
        .where(c.person_id.in_(_IN_CANDIDATES), c.id != _CID)
        .subquery()
    )
    rk = ranked.c
    recent = sa.select(
        *_row("recent", rk.person_id, rk.id, rk.service, rk.outcome_code, at=rk.started_at, n=rk.rn)
    ).where(rk.rn <= RECENT)
    sr = service_request.c
    requests = sa.select(
        *_row("request", sr.person_id, sr.reference, sr.service, sr.status, at=sr.due_at)
    ).where(sr.person_id.in_(_IN_CANDIDATES), sr.status.in_(sorted(OPEN_STATUSES)))
    al = allocation.c
    allocations = sa.select(
        *_row("allocation", al.person_id, al.service, al.worker_id, al.worker_name, at=al.since)
    ).where(al.person_id.in_(_IN_CANDIDATES))
    service = sa.func.coalesce(c.service, UNASSIGNED_SERVICE)
    contacted = (
        sa.select(*_row("contacts", c.person_id, service, n=sa.func.count()))
        .where(c.person_id.in_(_IN_CANDIDATES), c.started_at > _YEAR_AGO, c.started_at <= _NOW)
        .group_by(c.person_id, service)
    )
    referred = (
        sa.select(*_row("referrals", sr.person_id, sr.service, n=sa.func.count()))
        .where(sr.person_id.in_(_IN_CANDIDATES), sr.created_at > _YEAR_AGO, sr.created_at <= _NOW)
        .group_by(sr.person_id, sr.service)
    )
    repeat = (
        sa.select(*_row("window", c.person_id, n=sa.func.count()))
        .where(c.person_id.in_(_IN_CANDIDATES), c.started_at > _WINDOW_START, c.started_at <= _NOW)
        .group_by(c.person_id)
    )
    found = sa.union_all(people, referrers, recent, requests, allocations, contacted, referred, repeat)
    parts = found.subquery("part")
    own = [column.label(f"c_{column.key}") for column in contact.c]
    return (
        sa.select(*own, *parts.c).select_from(contact.outerjoin(parts, sa.true())).where(contact.c.id == _CID)
    )


_CONTEXT = _statement()


async def caller_context(
    engine: AsyncEngine, contact_id: str, *, now: datetime, window_days: int, months: int = 12
) -> CallerContext:
    """Candidates for the caller of ``contact_id`` with a summary of each person's history."""
    params = {
        "cid": contact_id,
        "now": now,
        "year_ago": months_before(now, months),
        "window_start": now - timedelta(days=window_days),
    }
    async with engine.connect() as conn:
        rows = (await conn.execute(_CONTEXT, params)).all()
    if not rows:
        return CallerContext(contact=None, people=[], referrers=[], more=False)
    return _assemble(_contact(rows[0]), rows)


def _contact(row: sa.Row[Any]) -> Contact:
    values = {column.key: row._mapping[f"c_{column.key}"] for column in contact.c}
    values["reason_codes"] = list(values["reason_codes"])
    return Contact(**values)


def _assemble(found: Contact, rows: Sequence[sa.Row[Any]]) -> CallerContext:
    people: dict[int, PersonSummary] = {}
    referrers: list[ReferrerSummary] = []
    recent: dict[int, list[tuple[int, RecentContact]]] = {}
    requests: dict[int, list[OpenRequest]] = {}
    allocations: dict[int, list[Allocation]] = {}
    activity: dict[int, dict[str, Activity]] = {}
    window: dict[int, int] = {}
    for r in rows:
        if r.kind == "person":
            people[r.pid] = _person(r)
        elif r.kind == "referrer":
            referrers.append(
                ReferrerSummary(id=r.pid, name=r.t1, role=r.t2, organisation=r.t3, ods_code=None)
            )
        elif r.kind == "recent":
            recent.setdefault(r.pid, []).append((r.n, RecentContact(r.t1, r.at, r.t2, r.t3)))
        elif r.kind == "request":
            requests.setdefault(r.pid, []).append(OpenRequest(r.t1, r.t2, r.t3, r.at))
        elif r.kind == "allocation":
            allocations.setdefault(r.pid, []).append(Allocation(r.pid, r.t1, r.t2, r.t3, r.at))
        elif r.kind in ("contacts", "referrals"):
            per = activity.setdefault(r.pid, {})
            was = per.get(r.t1, Activity(r.t1))
            counts = {"contacts": was.contacts, "referrals": was.referrals, r.kind: int(r.n)}
            per[r.t1] = Activity(r.t1, **counts)
        elif r.kind == "window":
            window[r.pid] = int(r.n)
    ordered = sorted(
        people.values(), key=lambda p: (p.id != found.person_id, p.family_name, p.given_name, p.id)
    )
    referrers.sort(key=lambda ref: (ref.id != found.referrer_id, ref.name, ref.id))
    more = len(ordered) + len(referrers) > CANDIDATES
    shown_people = ordered[:CANDIDATES]
    shown_referrers = referrers[: CANDIDATES - len(shown_people)]
    contexts = [
        PersonContext(
            person=p,
            recent=[c for _, c in sorted(recent.get(p.id, []), key=lambda item: item[0])],
            open_requests=sorted(requests.get(p.id, []), key=_due_order),
            activity=sorted(
                activity.get(p.id, {}).values(), key=lambda a: (-(a.contacts + a.referrals), a.service)
            ),
            allocations=sorted(allocations.get(p.id, []), key=lambda a: a.service),
            contacts_in_window=window.get(p.id, 0),
        )
        for p in shown_people
    ]
    return CallerContext(contact=found, people=contexts, referrers=shown_referrers, more=more)


def _due_order(request: OpenRequest) -> tuple[bool, datetime | None, str]:
    return (request.due_at is None, request.due_at, request.reference)


def _person(r: sa.Row[Any]) -> PersonSummary:
    dob: date | None = r.dob
    return PersonSummary(
        id=r.pid,
        nhs_number=r.t1,
        given_name=r.t2,
        family_name=r.t3,
        date_of_birth=dob,
        postcode=None,
        flags=list(r.flags or []),
        communication_needs=dict(r.needs or {}),
        phone_kind=r.t4,
    )
