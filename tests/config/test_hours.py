"""Opening hours: wall-clock rules that stay right across the clock changes and on bank holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cti.config import CentreConfig, HoursCalendar, is_open, next_change
from cti.config.hours import always_open_calendar, bank_holidays

LONDON = ZoneInfo("Europe/London")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def calendar(**fields: Any) -> HoursCalendar:
    return HoursCalendar.model_validate({"id": "test", **fields})


def test_bank_holidays_2026() -> None:
    days = sorted(d for d in bank_holidays() if d.year == 2026)
    assert days == [
        date(2026, 1, 1),
        date(2026, 4, 3),
        date(2026, 4, 6),
        date(2026, 5, 4),
        date(2026, 5, 25),
        date(2026, 8, 31),
        date(2026, 12, 25),
        date(2026, 12, 28),
    ]


def test_bank_holidays_cover_2025_to_2028() -> None:
    per_year = {year: sum(1 for d in bank_holidays() if d.year == year) for year in range(2025, 2029)}
    assert per_year == {2025: 8, 2026: 8, 2027: 8, 2028: 8}
    assert date(2027, 12, 27) in bank_holidays()  # Christmas Day on a Saturday: substitute Monday
    assert date(2028, 1, 3) in bank_holidays()  # New Year's Day on a Saturday
    assert all(d.weekday() < 5 for d in bank_holidays())


# 08:00-22:00 every day: the UTC instants of opening move by an hour at each clock change.
@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-03-28T07:30", False),  # 07:30 GMT, Saturday before the change
        ("2026-03-28T21:30", True),  # 21:30 GMT
        ("2026-03-29T00:59", False),  # 00:59 GMT, a minute before the clocks go forward
        ("2026-03-29T07:00", True),  # 08:00 BST, the day the clocks go forward
        ("2026-03-29T07:30", True),  # 08:30 BST
        ("2026-03-29T21:00", False),  # 22:00 BST
        ("2026-10-24T07:00", True),  # 08:00 BST, Saturday before the clocks go back
        ("2026-10-24T21:30", False),  # 22:30 BST
        ("2026-10-25T07:30", False),  # 07:30 GMT, the day the clocks go back
        ("2026-10-25T08:00", True),  # 08:00 GMT
        ("2026-10-25T21:30", True),  # 21:30 GMT
        ("2026-10-25T22:00", False),  # 22:00 GMT
    ],
)
def test_is_open_across_clock_changes(demo: CentreConfig, at: str, expected: bool) -> None:
    assert is_open(demo.calendars["community_health"], utc(at)) is expected


def test_any_time_zone_may_ask() -> None:
    office = calendar(weekly={"wed": [["09:00", "17:00"]]})
    new_york = ZoneInfo("America/New_York")
    assert is_open(office, datetime(2026, 7, 1, 9, 30, tzinfo=new_york))  # 14:30 BST
    assert not is_open(office, datetime(2026, 7, 1, 12, 30, tzinfo=new_york))  # 17:30 BST
    assert is_open(office, datetime(2026, 7, 1, 16, 59, tzinfo=LONDON))
    assert not is_open(office, datetime(2026, 7, 1, 17, 0, tzinfo=LONDON))


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone-aware"):
        is_open(always_open_calendar(), datetime(2026, 1, 1, 12, 0))
    with pytest.raises(ValueError, match="time zone-aware"):
        next_change(always_open_calendar(), datetime(2026, 1, 1, 12, 0))


@pytest.mark.parametrize(
    ("queue_calendar", "at", "expected"),
    [
        ("asc_hours", "2026-05-04T09:00", False),  # Early May bank holiday, 10:00 BST
        ("asc_hours", "2026-05-11T09:00", True),  # the Monday after
        ("asc_hours", "2026-12-28T10:00", False),  # Boxing Day's substitute Monday
        ("office_hours", "2026-04-03T10:00", False),  # Good Friday
        ("office_hours", "2026-04-02T10:00", True),
        ("community_health", "2026-05-04T09:00", True),  # bank_holidays: open keeps the weekly hours
        ("24x7", "2026-12-25T03:00", True),
        ("asc_hours", "2026-05-09T07:30", False),  # Saturday 08:30 BST: opens at 09:00
        ("asc_hours", "2026-05-09T08:00", True),
        ("asc_hours", "2026-05-10T12:00", False),  # Sunday
        ("office_hours", "2026-12-24T10:00", True),  # extra date: 09:00-13:00 only
        ("office_hours", "2026-12-24T14:00", False),
        ("office_hours", "2026-12-23T14:00", True),
    ],
)
def test_demo_calendars(demo: CentreConfig, queue_calendar: str, at: str, expected: bool) -> None:
    assert is_open(demo.calendars[queue_calendar], utc(at)) is expected


def test_bank_holiday_ranges_and_closed_dates() -> None:
    cal = calendar(
        weekly={"mon": "24h", "tue": "24h"},
        bank_holidays=[["10:00", "14:00"]],
        closed_dates=["2026-06-02"],
    )
    assert not is_open(cal, utc("2026-05-04T08:30"))  # bank holiday, 09:30 BST
    assert is_open(cal, utc("2026-05-04T09:00"))  # 10:00 BST
    assert not is_open(cal, utc("2026-06-02T12:00"))  # closed date
    assert is_open(cal, utc("2026-06-01T12:00"))


def test_always_open() -> None:
    assert always_open_calendar().always_open
    assert not calendar(weekly={d: "24h" for d in ("mon", "tue", "wed", "thu", "fri", "sat")}).always_open
    full = {d: "24h" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    assert calendar(weekly=full).always_open
    assert not calendar(weekly=full, bank_holidays="closed").always_open
    assert calendar(weekly=full, bank_holidays="24h").always_open
    assert not calendar(weekly=full, closed_dates=["2026-01-01"]).always_open


def test_next_change(demo: CentreConfig) -> None:
    asc = demo.calendars["asc_hours"]
    assert next_change(asc, utc("2026-06-05T17:00")) == datetime(2026, 6, 5, 20, 0, tzinfo=LONDON)  # Friday
    assert next_change(asc, utc("2026-06-05T20:00")) == datetime(2026, 6, 6, 9, 0, tzinfo=LONDON)  # Saturday
    assert next_change(asc, utc("2026-06-06T17:00")) == datetime(2026, 6, 8, 8, 0, tzinfo=LONDON)  # Monday
    # Friday before the Early May bank holiday: closed until Tuesday.
    assert next_change(asc, utc("2026-05-02T17:00")) == datetime(2026, 5, 5, 8, 0, tzinfo=LONDON)
    assert next_change(demo.calendars["24x7"], utc("2026-06-05T17:00")) is None


def test_next_change_across_clock_changes(demo: CentreConfig) -> None:
    chs = demo.calendars["community_health"]
    assert next_change(chs, utc("2026-03-29T00:00")) == utc("2026-03-29T07:00")  # 08:00 BST
    assert next_change(chs, utc("2026-10-24T22:00")) == utc("2026-10-25T08:00")  # 08:00 GMT
    result = next_change(chs, utc("2026-10-25T12:00"))
    assert result == utc("2026-10-25T22:00")
    assert result is not None
    assert result.utcoffset() == timedelta(0)


def test_wall_time_skipped_when_clocks_go_forward() -> None:
    cal = calendar(weekly={"sun": [["01:30", "03:00"]]})  # 01:30 does not exist on 29 March 2026
    assert not is_open(cal, utc("2026-03-29T00:59"))  # 00:59 GMT
    assert is_open(cal, utc("2026-03-29T01:00"))  # 02:00 BST
    assert next_change(cal, utc("2026-03-29T00:30")) == utc("2026-03-29T01:00")
    assert next_change(cal, utc("2026-03-29T01:00")) == utc("2026-03-29T02:00")  # 03:00 BST


def test_wall_time_repeated_when_clocks_go_back() -> None:
    cal = calendar(weekly={"sun": [["00:30", "01:30"]]})  # 01:00-02:00 happens twice on 25 October
    assert is_open(cal, utc("2026-10-25T00:00"))  # 01:00 BST
    assert not is_open(cal, utc("2026-10-25T00:30"))  # 01:30 BST
    assert is_open(cal, utc("2026-10-25T01:00"))  # 01:00 GMT, the second time round
    assert not is_open(cal, utc("2026-10-25T01:30"))  # 01:30 GMT
    assert next_change(cal, utc("2026-10-24T23:00")) == utc("2026-10-24T23:30")  # 00:30 BST
    assert next_change(cal, utc("2026-10-25T00:00")) == utc("2026-10-25T00:30")
    assert next_change(cal, utc("2026-10-25T00:30")) == utc("2026-10-25T01:00")
    assert next_change(cal, utc("2026-10-25T01:00")) == utc("2026-10-25T01:30")


def test_range_to_midnight() -> None:
    cal = calendar(weekly={"fri": [["20:00", "24:00"]], "sat": [["00:00", "02:00"]]})
    assert is_open(cal, datetime(2026, 6, 5, 23, 59, tzinfo=LONDON))
    assert is_open(cal, datetime(2026, 6, 6, 0, 0, tzinfo=LONDON))
    # Open across midnight: the next change is Saturday's closing, not Friday's midnight.
    assert next_change(cal, datetime(2026, 6, 5, 21, 0, tzinfo=LONDON)) == datetime(
        2026, 6, 6, 2, 0, tzinfo=LONDON
    )
