"""People, referrers and their phone numbers; the screen-pop lookup by caller number."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from cti.domain.errors import Conflict, InvalidInput
from cti.domain.identifiers import is_withheld_cli, normalise_cli, normalise_phone, parse_nhs_number
from cti.records.base import RecordsBase, optional_text, required_text
from cti.records.models import CallerMatch, Person, PersonPhone, PersonSummary, ReferrerSummary
from cti.records.tables import JSONType, person, person_phone, referrer, referrer_phone

# The screen-pop lookup: people and referrers on one number, in one round trip. The referrer half
# pads the person-only columns with typed NULLs so both halves have the same shape.
_BY_NUMBER = sa.union_all(
    sa.select(
        sa.literal_column("'person'").label("kind"),
        person.c.id,
        person.c.nhs_number.label("code"),
        person.c.given_name.label("name"),
        person.c.family_name.label("detail"),
        person.c.postcode.label("place"),
        person.c.date_of_birth,
        person.c.flags,
        person.c.communication_needs,
        person_phone.c.kind.label("phone_kind"),
    )
    .join_from(person_phone, person, person_phone.c.person_id == person.c.id)
    .where(person_phone.c.e164 == sa.bindparam("e164")),
    sa.select(
        sa.literal_column("'referrer'").label("kind"),
        referrer.c.id,
        referrer.c.ods_code,
        referrer.c.name,
        referrer.c.role,
        referrer.c.organisation,
        sa.cast(sa.null(), sa.Date),
        sa.cast(sa.null(), JSONType),
        sa.cast(sa.null(), JSONType),
        sa.cast(sa.null(), sa.String),
    )
    .join_from(referrer_phone, referrer, referrer_phone.c.referrer_id == referrer.c.id)
    .where(referrer_phone.c.e164 == sa.bindparam("e164")),
)


def normalise_postcode(raw: str | None) -> str | None:
    """``le1 5ww`` -> ``LE1 5WW``: one space before the three-character inward code."""
    if raw is None or not raw.strip():
        return None
    compact = "".join(raw.upper().split())
    if len(compact) > 7:
        raise InvalidInput("postcode is too long", error_id="invalid_postcode", field="postcode")
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) >= 5 else compact


def _phones(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for raw, kind in pairs:
        found.setdefault(normalise_phone(raw), required_text(kind, "phone kind", 20))
    return found


def _person(row: sa.Row[Any], phones: list[PersonPhone]) -> Person:
    return Person(
        id=row.id,
        nhs_number=row.nhs_number,
        given_name=row.given_name,
        family_name=row.family_name,
        date_of_birth=row.date_of_birth,
        address=row.address,
        postcode=row.postcode,
        communication_needs=dict(row.communication_needs),
        flags=list(row.flags),
        created_at=row.created_at,
        phones=phones,
    )


class PeopleRecords(RecordsBase):
    async def lookup_by_phone(self, raw_cli: str | None) -> CallerMatch:
        """Who may be calling from ``raw_cli`` (any format; normalised here as on write).

        Never raises for a strange CLI: a withheld one gives ``withheld=True``; one that cannot be
        read gives ``e164=None``. Either way the screen-pop asks identity questions.
        """
        if is_withheld_cli(raw_cli):
            return CallerMatch(withheld=True, e164=None)
        try:
            e164 = normalise_cli(raw_cli)
        except InvalidInput:
            return CallerMatch(withheld=False, e164=None)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(_BY_NUMBER, {"e164": e164})).all()
        people = [
            PersonSummary(
                id=r.id,
                nhs_number=r.code,
                given_name=r.name,
                family_name=r.detail,
                date_of_birth=r.date_of_birth,
                postcode=r.place,
                flags=list(r.flags),
                communication_needs=dict(r.communication_needs),
                phone_kind=r.phone_kind,
            )
            for r in rows
            if r.kind == "person"
        ]
        referrers = [
            ReferrerSummary(id=r.id, name=r.name, role=r.detail, organisation=r.place, ods_code=r.code)
            for r in rows
            if r.kind == "referrer"
        ]
        people.sort(key=lambda p: (p.family_name, p.given_name, p.id))
        referrers.sort(key=lambda r: (r.name, r.id))
        return CallerMatch(withheld=False, e164=e164, people=people, referrers=referrers)

    async def known_numbers(self, limit: int = 500) -> list[str]:
        """Up to ``limit`` numbers (E.164) people and referrers are known by, spread evenly over all
        of them: for the demo's simulated callers. Reads every number, so not for a large database."""
        numbers = sa.union(sa.select(person_phone.c.e164), sa.select(referrer_phone.c.e164)).subquery()
        async with self._engine.connect() as conn:
            every = list((await conn.scalars(sa.select(numbers.c.e164).order_by(numbers.c.e164))).all())
        if limit <= 0:
            return []
        if len(every) <= limit:
            return every
        step = len(every) / limit
        return [every[int(i * step)] for i in range(limit)]

    async def add_person(
        self,
        *,
        given_name: str,
        family_name: str,
        date_of_birth: date | None = None,
        nhs_number: str | None = None,
        address: str | None = None,
        postcode: str | None = None,
        communication_needs: Mapping[str, str] | None = None,
        flags: Iterable[str] = (),
        phones: Iterable[tuple[str, str]] = (),
    ) -> Person:
        """Add a person; ``phones`` are ``(number, kind)`` pairs in any format (stored as E.164)."""
        values: dict[str, Any] = {
            "nhs_number": parse_nhs_number(nhs_number) if nhs_number else None,
            "given_name": required_text(given_name, "given_name", 100),
            "family_name": required_text(family_name, "family_name", 100),
            "date_of_birth": date_of_birth,
            "address": optional_text(address, "address", 300),
            "postcode": normalise_postcode(postcode),
            "communication_needs": dict(communication_needs or {}),
            "flags": list(dict.fromkeys(flags)),
            "created_at": self._now(),
        }
        numbers = _phones(phones)
        try:
            async with self._engine.begin() as conn:
                person_id = (await conn.execute(person.insert().returning(person.c.id), values)).scalar_one()
                if numbers:
                    await conn.execute(
                        person_phone.insert(),
                        [{"person_id": person_id, "e164": n, "kind": k} for n, k in numbers.items()],
                    )
        except IntegrityError:
            raise Conflict(
                "a person with this NHS number already exists", error_id="duplicate_nhs_number"
            ) from None
        phone_list = [PersonPhone(e164=n, kind=k) for n, k in numbers.items()]
        return Person(id=person_id, phones=phone_list, **values)

    async def add_phone(self, person_id: int, raw: str, kind: str = "mobile") -> PersonPhone:
        """Add a number to a person (no-op if they already have it)."""
        e164 = normalise_phone(raw)
        phone = PersonPhone(e164=e164, kind=required_text(kind, "kind", 20))
        async with self._engine.begin() as conn:
            exists = await conn.scalar(
                sa.select(sa.literal(1)).where(
                    person_phone.c.person_id == person_id, person_phone.c.e164 == e164
                )
            )
            if exists is None:
                await conn.execute(
                    person_phone.insert(), {"person_id": person_id, "e164": e164, "kind": phone.kind}
                )
        return phone

    async def _load_person(self, conn: AsyncConnection, where: sa.ColumnElement[bool]) -> Person | None:
        row = (await conn.execute(sa.select(person).where(where))).one_or_none()
        if row is None:
            return None
        phones = await conn.execute(
            sa.select(person_phone.c.e164, person_phone.c.kind)
            .where(person_phone.c.person_id == row.id)
            .order_by(person_phone.c.kind, person_phone.c.e164)
        )
        return _person(row, [PersonPhone(e164=p.e164, kind=p.kind) for p in phones])

    async def get_person(self, person_id: int) -> Person | None:
        async with self._engine.connect() as conn:
            return await self._load_person(conn, person.c.id == person_id)

    async def find_person_by_nhs(self, nhs: str) -> Person | None:
        """Raises ``InvalidInput`` (``invalid_nhs_number``) for a number that cannot be valid."""
        digits = parse_nhs_number(nhs)
        async with self._engine.connect() as conn:
            return await self._load_person(conn, person.c.nhs_number == digits)

    async def add_referrer(
        self,
        *,
        name: str,
        role: str,
        organisation: str,
        ods_code: str | None = None,
        phones: Iterable[str] = (),
    ) -> ReferrerSummary:
        summary = ReferrerSummary(
            id=0,
            name=required_text(name, "name", 200),
            role=required_text(role, "role", 100),
            organisation=required_text(organisation, "organisation", 200),
            ods_code=optional_text(ods_code, "ods_code", 12),
        )
        values = {k: getattr(summary, k) for k in ("name", "role", "organisation", "ods_code")}
        numbers = list(dict.fromkeys(normalise_phone(raw) for raw in phones))
        async with self._engine.begin() as conn:
            referrer_id = (
                await conn.execute(referrer.insert().returning(referrer.c.id), values)
            ).scalar_one()
            if numbers:
                await conn.execute(
                    referrer_phone.insert(), [{"referrer_id": referrer_id, "e164": n} for n in numbers]
                )
        return replace(summary, id=referrer_id)

    async def get_referrer(self, referrer_id: int) -> ReferrerSummary | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(referrer).where(referrer.c.id == referrer_id))).one_or_none()
        if row is None:
            return None
        return ReferrerSummary(
            id=row.id, name=row.name, role=row.role, organisation=row.organisation, ods_code=row.ods_code
        )
