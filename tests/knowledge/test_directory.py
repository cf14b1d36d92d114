"""Directory of services: validation, opening times across clock changes, staleness, entries_for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cti.domain.errors import ConfigError
from knowledge.base import KnowledgeBase
from knowledge.directory import entries_for, load_directory, shipped_directory

THERAPY = "dos-chs-therapy"  # weekdays 08:30-16:30 local, closed on bank holidays


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_shipped_directory_covers_the_points_of_access(kb: KnowledgeBase) -> None:
    types = {e.service_type for e in kb.directory.values()}
    assert {"adult_social_care", "community_nursing", "mental_health", "hospital_admission"} <= types
    assert {"crisis_response", "wellbeing", "carers_support", "telecare"} <= types
    assert all(e.illustrative for e in kb.directory.values())


def test_opening_hours_follow_london_wall_clock_across_the_clock_change(kb: KnowledgeBase) -> None:
    therapy = kb.directory[THERAPY]
    # 07:45 UTC: 07:45 in winter (closed), 08:45 in summer time (open).
    assert therapy.open_at(at("2026-03-27T07:45")) is False  # Friday before the clocks go forward
    assert therapy.open_at(at("2026-03-30T07:45")) is True  # Monday after (BST)
    assert therapy.open_at(at("2026-10-26T07:45")) is False  # Monday after the clocks go back
    assert therapy.open_at(at("2026-10-26T08:45")) is True


def test_bank_holidays_close_a_weekday_service(kb: KnowledgeBase) -> None:
    therapy = kb.directory[THERAPY]
    assert therapy.open_at(at("2026-12-25T10:00")) is False  # Christmas Day, a Friday
    assert therapy.open_at(at("2026-12-24T10:00")) is True


def test_open_within_a_timeframe(kb: KnowledgeBase) -> None:
    therapy = kb.directory[THERAPY]
    friday_evening = at("2026-11-20T18:00")
    assert therapy.open_within(friday_evening, timedelta(hours=4)) is False
    assert therapy.open_within(friday_evening, timedelta(hours=64)) is True  # Monday 08:30
    assert therapy.to_json(friday_evening)["next_change"] == "2026-11-23T08:30:00+00:00"


def test_stale_entries_are_flagged(kb: KnowledgeBase) -> None:
    now = at("2026-11-24T12:00")
    stale = {e.id for e in kb.directory.values() if e.to_json(now)["stale"]}
    assert "dos-befriending" in stale  # verified 2025-10-01, reviewed every 180 days
    assert "dos-icrs" not in stale


def test_entries_for_filters_by_type_skills_and_open_now() -> None:
    night = at("2026-11-24T02:00")
    crisis = entries_for("crisis_response", skills=["ICRS"], open_now=True, at=night)
    assert [e.id for e in crisis] == ["dos-icrs"]
    assert entries_for("therapy", open_now=True, at=night) == []
    assert [e.id for e in entries_for("therapy", open_now=False, at=night)] == [THERAPY]
    assert entries_for("crisis_response", skills=["BED"], at=night) == []
    with pytest.raises(ValueError, match="unknown service_type"):
        entries_for("plumbing")
    assert shipped_directory() is shipped_directory()


def test_open_entries_come_first() -> None:
    night = at("2026-11-24T02:00")
    found = entries_for("adult_social_care", at=night)
    assert found[0].id == "dos-emergency-duty-team"
    assert found[0].open_at(night)
    assert not found[-1].open_at(night)


ENTRY = """entries:
  - id: dos-test
    name: Test service
    description: A service for the tests only.
    service_type: wellbeing
    tier: wellness
    eligibility: {age_groups: [adults], criteria: Adults.}
    catchment: [Leicester City]
    hours: {weekly: {mon: 24h}}
    referral: [{route: phone, detail: By phone}]
    contact: {phone: PHONE}
    last_verified: 2026-10-01
"""


def test_a_real_looking_phone_number_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text(ENTRY.replace("PHONE", "0116 254 1234"))
    with pytest.raises(ConfigError) as caught:
        load_directory(tmp_path)
    assert caught.value.details == {"file": "d.yaml", "entry": "dos-test", "field": "contact.phone"}
    (tmp_path / "d.yaml").write_text(ENTRY.replace("PHONE", "07700 900123"))
    assert load_directory(tmp_path)["dos-test"].contact.phone == "+447700900123"


def test_a_bad_hours_range_names_the_field(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text(
        ENTRY.replace("PHONE", "07700 900123").replace("{mon: 24h}", '{mon: [["17:00", "09:00"]]}')
    )
    with pytest.raises(ConfigError) as caught:
        load_directory(tmp_path)
    assert caught.value.details["field"] == "hours.weekly.mon"


def test_directory_search_open_now_and_within_hours(kb: KnowledgeBase) -> None:
    friday_evening = at("2026-11-20T18:00")
    now_open = {e["id"] for e in kb.search_directory(open_now=True, at=friday_evening, limit=50)}
    assert {"dos-icrs", "dos-chs-spa"} <= now_open
    assert "dos-emergency-duty-team" not in now_open
    soon = {e["id"] for e in kb.search_directory(within_hours=2, at=friday_evening, limit=50)}
    assert "dos-emergency-duty-team" in soon  # opens at 20:00
    assert THERAPY not in soon
    ranked = [e["id"] for e in kb.search_directory("carers", at=friday_evening)]
    assert ranked[0] == "dos-carers-support"
