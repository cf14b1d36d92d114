from __future__ import annotations

import re
from collections import Counter

import sqlalchemy as sa

from cti.domain.identifiers import is_valid_nhs_number
from cti.records import Records
from cti.records.demo_data import build_demo, seed_demo
from cti.records.tables import allocation, contact, person, person_phone, referrer_phone, service_request
from tests.records.conftest import NOW

PERSON_NUMBER = re.compile(r"\+44(7700900|1632960)\d{3}")  # 07700 900xxx, 01632 960xxx
REFERRER_NUMBER = re.compile(r"\+44(116|115)4960\d{3}")  # 0116 496 0xxx, 0115 496 0xxx
LANGUAGES = {"pl", "pa", "gu", "ur", "so", "ar"}
WORKER = re.compile(r"specialist0[1-6]|agent(0[1-9]|1[0-9]|20)")


async def test_demo_seeds_two_thousand_synthetic_people_once(records: Records) -> None:
    summary = await seed_demo(records, seed=42, now=NOW)
    assert summary.created is True
    assert summary.people == 2000

    async with records.engine.connect() as conn:
        nhs = (
            await conn.scalars(sa.select(person.c.nhs_number).where(person.c.nhs_number.is_not(None)))
        ).all()
        needs = (await conn.scalars(sa.select(person.c.communication_needs))).all()
        person_numbers = (
            await conn.execute(sa.select(person_phone.c.e164, sa.func.count()).group_by(person_phone.c.e164))
        ).all()
        referrer_numbers = (await conn.scalars(sa.select(referrer_phone.c.e164))).all()
        services = Counter((await conn.scalars(sa.select(contact.c.service))).all())
        workers = (await conn.scalars(sa.select(allocation.c.worker_id))).all()
        open_requests = await conn.scalar(
            sa.select(sa.func.count()).where(
                service_request.c.status.not_in(["completed", "closed", "cancelled"])
            )
        )

    # Only the 999 test range, every one with a valid check digit, none repeated.
    assert len(nhs) > 1900
    assert all(n.startswith("999") and is_valid_nhs_number(n) for n in nhs)
    assert len(set(nhs)) == len(nhs)
    # Only Ofcom drama numbers; households share landlines, so some numbers have two or three people.
    assert all(PERSON_NUMBER.fullmatch(n) for n, _ in person_numbers)
    assert all(REFERRER_NUMBER.fullmatch(n) for n in referrer_numbers)
    sharing = Counter(count for _, count in person_numbers)
    assert sharing[2] > 50
    assert sharing[3] > 5
    assert max(sharing) == 3
    # Interpreter languages from the list; ASC and CHS busiest; about one person in five allocated.
    assert {n["interpreter"] for n in needs if "interpreter" in n} == LANGUAGES
    assert [s for s, _ in services.most_common(2)] == ["city_spoc", "chs_spa"]
    from cti.config.centre import DEMO_DIR, load_centre

    # The seed speaks the demo centre's service ids, so allocations route to named workers.
    assert set(services) == set(load_centre(DEMO_DIR).services) - {"rutland_cst"}
    assert 300 <= len(workers) <= 500
    assert all(WORKER.fullmatch(w) for w in workers)
    assert open_requests is not None
    assert open_requests > 50

    again = await seed_demo(records, seed=42, now=NOW)
    assert again.created is False
    assert (again.people, again.contacts, again.service_requests) == (
        summary.people,
        summary.contacts,
        summary.service_requests,
    )


async def test_demo_records_answer_a_screen_pop(records: Records) -> None:
    await seed_demo(records, seed=7, people=300, now=NOW)
    async with records.engine.connect() as conn:
        shared = await conn.scalar(
            sa.select(person_phone.c.e164).group_by(person_phone.c.e164).having(sa.func.count() > 1).limit(1)
        )
        busy = await conn.scalar(
            sa.select(contact.c.person_id)
            .group_by(contact.c.person_id)
            .order_by(sa.func.count().desc())
            .limit(1)
        )
        with_request = await conn.scalar(sa.select(service_request.c.reference).limit(1))
    assert shared is not None
    assert busy is not None
    assert with_request is not None

    national = "0" + shared[3:]  # as a caller's phone would present it
    match = await records.lookup_by_phone(national)
    assert match.outcome == "ambiguous"
    assert len({p.family_name for p in match.people}) == 1  # one household

    recent = await records.recent_contacts(busy)
    assert 1 <= len(recent) <= 10
    assert recent == sorted(recent, key=lambda c: c.started_at, reverse=True)
    pattern = await records.referral_pattern(busy, NOW)
    assert pattern.total_contacts >= len(recent)

    found = await records.service_request_by_reference(with_request)
    assert found is not None
    assert found.history[0].status == "received"
    assert found.history[-1].status == found.status


def test_demo_is_deterministic() -> None:
    first = build_demo(seed=42, people=200, now=NOW)
    second = build_demo(seed=42, people=200, now=NOW)
    other = build_demo(seed=43, people=200, now=NOW)
    assert first == second
    assert first.people != other.people
    assert all(c["started_at"] <= NOW for c in first.contacts)
    assert all(at <= NOW for q in first.requests for _, at in q["history"])
