from __future__ import annotations

from datetime import date

import pytest

from cti.domain.errors import Conflict, InvalidInput
from cti.records import Records
from cti.records.models import Person, ReferrerSummary


async def _household(records: Records) -> tuple[Person, Person, Person]:
    """Two people sharing a landline; one of them has a mobile too; a third person elsewhere."""
    ann = await records.add_person(
        given_name="Ann",
        family_name="Hughes",
        date_of_birth=date(1941, 3, 2),
        nhs_number="999 000 0018",
        address="4 Mill Lane, Fosseway",
        postcode="le1 5ww",
        communication_needs={"hearing": "BSL"},
        flags=["lives alone", "risk to staff"],
        phones=[("07700 900123", "mobile"), ("01632 960001", "home")],
    )
    bill = await records.add_person(
        given_name="Bill",
        family_name="Hughes",
        date_of_birth=date(1939, 7, 19),
        nhs_number="9990000026",
        phones=[("+441632960001", "home")],
    )
    cara = await records.add_person(
        given_name="Cara",
        family_name="Nowak",
        communication_needs={"interpreter": "pl"},
        phones=[("07700900456", "mobile")],
    )
    return ann, bill, cara


@pytest.mark.parametrize(
    "cli", ["07700 900123", "+447700900123", "447700900123", "tel:+447700900123", "07700-900-123"]
)
async def test_lookup_finds_the_caller_whatever_the_format(records: Records, cli: str) -> None:
    ann, _, _ = await _household(records)
    match = await records.lookup_by_phone(cli)
    assert match.outcome == "matched"
    assert match.withheld is False
    assert match.e164 == "+447700900123"
    assert match.display_number == "07700 900123"
    [found] = match.people
    assert found.id == ann.id
    assert found.display_name == "Ann Hughes"
    assert found.nhs_display == "999 000 0018"
    assert found.date_of_birth == date(1941, 3, 2)
    assert found.postcode == "LE1 5WW"
    assert found.flags == ["lives alone", "risk to staff"]
    assert found.communication_needs == {"hearing": "BSL"}
    assert found.phone_kind == "mobile"
    assert match.referrers == []


async def test_shared_number_gives_every_candidate(records: Records) -> None:
    ann, bill, _ = await _household(records)
    match = await records.lookup_by_phone("01632 960001")
    assert match.outcome == "ambiguous"
    assert [p.display_name for p in match.people] == ["Ann Hughes", "Bill Hughes"]
    assert {p.id for p in match.people} == {ann.id, bill.id}
    assert {p.phone_kind for p in match.people} == {"home"}


@pytest.mark.parametrize("cli", [None, "", "anonymous", "Restricted", "private", "unknown", "withheld"])
async def test_withheld_number_matches_nobody(records: Records, cli: str | None) -> None:
    await _household(records)
    match = await records.lookup_by_phone(cli)
    assert match.withheld is True
    assert match.outcome == "withheld"
    assert match.e164 is None
    assert match.people == []
    assert match.referrers == []


async def test_unknown_and_unreadable_numbers(records: Records) -> None:
    await _household(records)
    unknown = await records.lookup_by_phone("07700 900999")
    assert (unknown.outcome, unknown.e164, unknown.people) == ("unknown", "+447700900999", [])
    unreadable = await records.lookup_by_phone("12")
    assert (unreadable.outcome, unreadable.withheld, unreadable.e164) == ("unrecognised", False, None)
    short_code = await records.lookup_by_phone("111")
    assert (short_code.outcome, short_code.e164) == ("unknown", "111")


async def test_referrer_is_matched_by_the_practice_number(records: Records) -> None:
    await _household(records)
    gp = await records.add_referrer(
        name="Dr Priya Shah",
        role="GP",
        organisation="Fosse Road Surgery",
        ods_code="Z99001",
        phones=["0116 496 0123"],
    )
    nurse = await records.add_referrer(
        name="Sam Carter",
        role="practice nurse",
        organisation="Fosse Road Surgery",
        phones=["+44 116 496 0123"],
    )
    match = await records.lookup_by_phone("01164960123")
    assert match.outcome == "ambiguous"
    assert match.people == []
    assert match.referrers == [
        ReferrerSummary(
            id=gp.id, name="Dr Priya Shah", role="GP", organisation="Fosse Road Surgery", ods_code="Z99001"
        ),
        ReferrerSummary(
            id=nurse.id,
            name="Sam Carter",
            role="practice nurse",
            organisation="Fosse Road Surgery",
            ods_code=None,
        ),
    ]
    assert await records.get_referrer(gp.id) == match.referrers[0]


async def test_person_record_and_nhs_search(records: Records) -> None:
    ann, _, cara = await _household(records)
    found = await records.get_person(ann.id)
    assert found is not None
    assert found.address == "4 Mill Lane, Fosseway"
    assert sorted((p.kind, p.display) for p in found.phones) == [
        ("home", "01632 960001"),
        ("mobile", "07700 900123"),
    ]
    assert found.created_at.tzinfo is not None
    assert await records.find_person_by_nhs("999-000-0018") == found
    assert await records.find_person_by_nhs("999 000 0034") is None
    assert await records.get_person(cara.id + 1000) is None
    with pytest.raises(InvalidInput) as caught:
        await records.find_person_by_nhs("9876544321")
    assert caught.value.error_id == "invalid_nhs_number"


async def test_added_phone_is_found_by_lookup(records: Records) -> None:
    _, _, cara = await _household(records)
    await records.add_phone(cara.id, "01632 960777", "home")
    await records.add_phone(cara.id, "+441632960777", "home")  # the same number again: no duplicate
    match = await records.lookup_by_phone("01632960777")
    assert [p.id for p in match.people] == [cara.id]


async def test_bad_input_is_refused_with_a_stable_error(records: Records) -> None:
    with pytest.raises(InvalidInput) as nhs:
        await records.add_person(given_name="X", family_name="Y", nhs_number="9991234560")
    assert nhs.value.error_id == "invalid_nhs_number"
    with pytest.raises(InvalidInput) as phone:
        await records.add_person(given_name="X", family_name="Y", phones=[("0800 FLOWERS", "home")])
    assert phone.value.error_id == "invalid_phone_number"
    with pytest.raises(InvalidInput) as name:
        await records.add_person(given_name=" ", family_name="Y")
    assert name.value.details["field"] == "given_name"


async def test_an_nhs_number_belongs_to_one_person(records: Records) -> None:
    await _household(records)
    with pytest.raises(Conflict) as caught:
        await records.add_person(given_name="Other", family_name="Person", nhs_number="9990000018")
    assert caught.value.error_id == "duplicate_nhs_number"


async def test_known_numbers_for_the_demo(records: Records) -> None:
    await _household(records)
    assert await records.known_numbers() == ["+441632960001", "+447700900123", "+447700900456"]
    assert len(await records.known_numbers(limit=2)) == 2
