"""Deterministic synthetic records for the demo and for tests: never real people.

NHS numbers only from the 999 range (valid check digit, never issued). Phone numbers only from
Ofcom's drama ranges: people on 07700 900xxx and 01632 960xxx, professionals on 0116 496 0xxx and
0115 496 0xxx. Some households share a landline, so a lookup by that number is ambiguous.
``build_demo`` makes the rows (pure, seeded); ``seed_demo`` bulk-inserts them once.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from cti.domain.identifiers import nhs_check_digit
from cti.records import demo_vocabulary as vocab
from cti.records.demo_history import ContactHistory
from cti.records.demo_people import Household, build_households, build_referrers
from cti.records.repository import Records
from cti.records.service_requests import reference_for
from cti.records.tables import (
    allocation,
    contact,
    person,
    person_phone,
    referrer,
    referrer_phone,
    service_request,
    service_request_status,
)

__all__ = ["DemoData", "DemoSummary", "build_demo", "demo_nhs_numbers", "seed_demo"]


def demo_nhs_numbers(start: int = 999_000_001) -> Iterator[str]:
    """Valid NHS numbers from the 999 test range, in order: 9990000018, 9990000026, ..."""
    prefix = start
    while prefix <= 999_999_999:
        check = nhs_check_digit(f"{prefix:09d}")
        if check is not None:
            yield f"{prefix:09d}{check}"
        prefix += 1


@dataclass
class DemoData:
    """Rows to insert; links between them are list indexes until the database assigns ids."""

    households: list[Household]
    referrers: list[dict[str, Any]]
    referrer_phones: list[tuple[int, str]]
    contacts: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    allocations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def people(self) -> list[dict[str, Any]]:
        return [member for household in self.households for member in household.members]


@dataclass(frozen=True, slots=True)
class DemoSummary:
    created: bool  # False when the database already held people and nothing was added
    people: int
    referrers: int
    contacts: int
    service_requests: int
    allocations: int


def build_demo(seed: int = 42, people: int = 2000, now: datetime | None = None) -> DemoData:
    """The demo rows for ``seed``: the same seed and ``now`` always give the same rows."""
    moment = (now or datetime.now(UTC).replace(microsecond=0)).astimezone(UTC)
    rng = random.Random(seed)
    referrers, referrer_phones = build_referrers(rng)
    households = build_households(rng, people, moment, demo_nhs_numbers(), len(vocab.PRACTICES))
    history = ContactHistory(rng, moment, referrers, referrer_phones)
    index = 0
    for household in households:
        for member in household.members:
            history.person(household, member, index)
            index += 1
    history.contacts.sort(key=lambda c: c["started_at"])
    for number, row in enumerate(history.contacts, start=1):
        row["id"] = f"demo-{number:06d}"
    return DemoData(
        households=households,
        referrers=referrers,
        referrer_phones=referrer_phones,
        contacts=history.contacts,
        requests=history.requests,
        allocations=history.allocations,
    )


async def _counts(conn: AsyncConnection, created: bool) -> DemoSummary:
    async def count(table: sa.Table) -> int:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)

    return DemoSummary(
        created=created,
        people=await count(person),
        referrers=await count(referrer),
        contacts=await count(contact),
        service_requests=await count(service_request),
        allocations=await count(allocation),
    )


async def _insert_ids(conn: AsyncConnection, table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk insert, returning the new ids in the order of ``rows``."""
    if not rows:
        return []
    statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
    return list((await conn.scalars(statement, rows)).all())


async def _insert(conn: AsyncConnection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(table.insert(), rows)


async def seed_demo(
    records_or_engine: Records | AsyncEngine, seed: int = 42, people: int = 2000, now: datetime | None = None
) -> DemoSummary:
    """Insert the demo records once (in one transaction); if people exist already, add nothing."""
    engine = records_or_engine.engine if isinstance(records_or_engine, Records) else records_or_engine
    async with engine.begin() as conn:
        if await conn.scalar(sa.select(person.c.id).limit(1)) is not None:
            return await _counts(conn, created=False)
        data = build_demo(seed, people, now)
        members = data.people
        person_rows = [{k: v for k, v in m.items() if not k.startswith("_")} for m in members]
        person_ids = await _insert_ids(conn, person, person_rows)
        phones = [
            {"person_id": person_ids[i], "e164": e164, "kind": kind}
            for i, m in enumerate(members)
            for e164, kind in m["_phones"]
        ]
        await _insert(conn, person_phone, phones)
        referrer_rows = [{k: v for k, v in r.items() if k != "practice"} for r in data.referrers]
        referrer_ids = await _insert_ids(conn, referrer, referrer_rows)
        await _insert(
            conn,
            referrer_phone,
            [{"referrer_id": referrer_ids[i], "e164": e164} for i, e164 in data.referrer_phones],
        )
        contact_rows = []
        for row in data.contacts:
            values = {k: v for k, v in row.items() if not k.endswith("_index")}
            values["person_id"] = person_ids[row["person_index"]]
            ref = row["referrer_index"]
            values["referrer_id"] = None if ref is None else referrer_ids[ref]
            contact_rows.append(values)
        await _insert(conn, contact, contact_rows)
        await _insert_requests(conn, data.requests, person_ids)
        await _insert(
            conn,
            allocation,
            [
                {
                    **{k: v for k, v in a.items() if k != "person_index"},
                    "person_id": person_ids[a["person_index"]],
                }
                for a in data.allocations
            ],
        )
        return await _counts(conn, created=True)


async def _insert_requests(
    conn: AsyncConnection, requests: list[dict[str, Any]], person_ids: list[int]
) -> None:
    rows = [
        {
            "person_id": person_ids[q["person_index"]],
            "service": q["service"],
            "summary": q["summary"],
            "status": q["history"][-1][0],
            "due_at": q["due_at"],
            "created_at": q["created_at"],
            "updated_at": q["history"][-1][1],
            "reference": None,
        }
        for q in requests
    ]
    ids = await _insert_ids(conn, service_request, rows)
    if not ids:
        return
    await conn.execute(
        service_request.update()
        .where(service_request.c.id == sa.bindparam("b_id"))
        .values(reference=sa.bindparam("b_reference")),
        [{"b_id": i, "b_reference": reference_for(i)} for i in ids],
    )
    history = [
        {"service_request_id": i, "status": status, "at": at, "note": None}
        for i, q in zip(ids, requests, strict=True)
        for status, at in q["history"]
    ]
    await _insert(conn, service_request_status, history)
