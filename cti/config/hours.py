"""Opening-hours calendars and the questions asked of them: open now? when does that change?

A day's schedule is a tuple of ``(start, end)`` minute ranges, half-open, in local wall-clock time
(``"24:00"`` ends a range at midnight). Wall-clock time makes the rules right across the clock changes:
"08:00-20:00" means 08:00 GMT in winter and 08:00 BST in summer.

Which schedule applies to a date, first match wins: ``extra_dates``, ``closed_dates``, bank holidays
(unless ``bank_holidays: open``), then the weekly pattern.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from cti.config._entries import config_error, section
from cti.config._yaml import read_yaml

BANK_HOLIDAYS_FILE = Path(__file__).with_name("bank_holidays.yaml")
MINUTES_PER_DAY = 24 * 60
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
_FULL_DAY: tuple[tuple[int, int], ...] = ((0, MINUTES_PER_DAY),)
_SHAPE = 'expected "24h", "closed" or a list of ["HH:MM", "HH:MM"] ranges'


def _minutes(text: Any, *, end: bool) -> int:
    if not isinstance(text, str):
        raise ValueError(f'times are quoted "HH:MM" strings, got {text!r}')
    if end and text == "24:00":
        return MINUTES_PER_DAY
    match = _TIME.match(text)
    if match is None:
        raise ValueError(f'{text!r} is not a time "HH:MM" (00:00-23:59; "24:00" may end a range)')
    return int(match[1]) * 60 + int(match[2])


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_day(value: Any) -> tuple[tuple[int, int], ...]:
    """``"24h"``, ``"closed"`` or ``[["08:00", "12:00"], ["13:00", "17:00"]]`` as minute ranges."""
    if value == "24h":
        return _FULL_DAY
    if value == "closed" or value == []:
        return ()
    if not isinstance(value, list | tuple):
        raise ValueError(f"{_SHAPE}, got {value!r}")
    ranges: list[tuple[int, int]] = []
    for item in value:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise ValueError(f"{_SHAPE}; {item!r} is not a [start, end] pair")
        start, end = _minutes(item[0], end=False), _minutes(item[1], end=True)
        if end <= start:
            raise ValueError(f"range {item[0]}-{item[1]} ends before it starts (split ranges at midnight)")
        ranges.append((start, end))
    ranges.sort()
    for (s1, e1), (s2, e2) in itertools.pairwise(ranges):
        if s2 < e1:
            raise ValueError(f"ranges {_clock(s1)}-{_clock(e1)} and {_clock(s2)}-{_clock(e2)} overlap")
    return tuple(ranges)


def _parse_bank_holidays(value: Any) -> Any:
    return None if value == "open" else parse_day(value)


DaySchedule = Annotated[tuple[tuple[int, int], ...], BeforeValidator(parse_day)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Weekly(_Frozen):
    """A day left out is closed."""

    mon: DaySchedule = ()
    tue: DaySchedule = ()
    wed: DaySchedule = ()
    thu: DaySchedule = ()
    fri: DaySchedule = ()
    sat: DaySchedule = ()
    sun: DaySchedule = ()

    def on(self, day: date) -> tuple[tuple[int, int], ...]:
        return (self.mon, self.tue, self.wed, self.thu, self.fri, self.sat, self.sun)[day.weekday()]


class SpecialDate(_Frozen):
    date: date
    hours: DaySchedule


class HoursCalendar(_Frozen):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=64)
    name: str = ""
    timezone: str = "Europe/London"
    weekly: Weekly
    # None ("open"): bank holidays keep the weekly hours; otherwise the schedule for a bank holiday.
    bank_holidays: Annotated[tuple[tuple[int, int], ...] | None, BeforeValidator(_parse_bank_holidays)] = None
    closed_dates: tuple[date, ...] = ()
    extra_dates: tuple[SpecialDate, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("extra_dates")
    @classmethod
    def _one_rule_per_date(
        cls, value: tuple[SpecialDate, ...], info: ValidationInfo
    ) -> tuple[SpecialDate, ...]:
        seen = set(info.data.get("closed_dates", ()))
        for special in value:
            if special.date in seen:
                raise ValueError(f"{special.date} is given more than once (here or in closed_dates)")
            seen.add(special.date)
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances per key

    @property
    def always_open(self) -> bool:
        days = [getattr(self.weekly, name) for name in Weekly.model_fields]
        days += [s.hours for s in self.extra_dates]
        if self.bank_holidays is not None:
            days.append(self.bank_holidays)
        return not self.closed_dates and all(day == _FULL_DAY for day in days)

    def schedule_for(self, day: date) -> tuple[tuple[int, int], ...]:
        for special in self.extra_dates:
            if special.date == day:
                return special.hours
        if day in self.closed_dates:
            return ()
        if self.bank_holidays is not None and day in bank_holidays():
            return self.bank_holidays
        return self.weekly.on(day)


ALWAYS_OPEN_ID = "24x7"


def always_open_calendar() -> HoursCalendar:
    """The built-in ``24x7`` calendar, used when hours.yaml does not define one of that id."""
    return HoursCalendar.model_validate(
        {"id": ALWAYS_OPEN_ID, "name": "Always open", "weekly": dict.fromkeys(Weekly.model_fields, "24h")}
    )


class _BankHoliday(_Frozen):
    date: date
    name: str


@cache
def bank_holidays() -> frozenset[date]:
    """England and Wales bank holidays shipped in bank_holidays.yaml."""
    file = BANK_HOLIDAYS_FILE.name
    items = section(read_yaml(BANK_HOLIDAYS_FILE, file), file, "england_and_wales")
    days: set[date] = set()
    for index, raw in enumerate(items):
        try:
            days.add(_BankHoliday.model_validate(raw).date)
        except ValidationError as exc:
            raise config_error(file, f"item {index + 1}", exc) from None
    return frozenset(days)


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a time zone-aware datetime is required")


def is_open(calendar: HoursCalendar, at: datetime) -> bool:
    """Whether ``calendar`` is open at the instant ``at`` (aware datetime, any zone)."""
    _require_aware(at)
    local = at.astimezone(calendar.zone)
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in calendar.schedule_for(local.date()))


def _offset_change(zone: ZoneInfo, day: date) -> datetime | None:
    """The UTC instant during ``day`` (local) at which the zone's UTC offset changes, if it does."""
    lo = datetime.combine(day, time(0), zone).astimezone(UTC)
    hi = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    if lo.astimezone(zone).utcoffset() == hi.astimezone(zone).utcoffset():
        return None
    before = lo.astimezone(zone).utcoffset()
    while hi - lo > timedelta(seconds=1):  # the first instant with the new offset
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return hi.replace(microsecond=0)


def _candidates(calendar: HoursCalendar, day: date) -> list[datetime]:
    """Every instant of ``day`` at which the open/closed state could change."""
    zone = calendar.zone
    minutes = {0}
    for start, end in calendar.schedule_for(day):
        minutes.update((start, end))
    minutes.discard(MINUTES_PER_DAY)  # the next day's midnight
    instants: set[datetime] = set()
    for minute in minutes:
        wall = datetime.combine(day, time(minute // 60, minute % 60), zone)
        # A wall time repeated when the clocks go back occurs twice; one skipped maps past the gap.
        instants.update(wall.replace(fold=fold).astimezone(UTC) for fold in (0, 1))
    change = _offset_change(zone, day)
    if change is not None:
        instants.add(change)
    return sorted(instants)


def next_change(calendar: HoursCalendar, at: datetime, horizon_days: int = 400) -> datetime | None:
    """The first instant after ``at`` when the calendar opens or closes, or None if that does not
    happen within ``horizon_days``. In UTC: an instant in the hour repeated when the clocks go back
    never compares equal to a datetime of another zone (PEP 495), so a local result would mislead."""
    _require_aware(at)
    state = is_open(calendar, at)
    first_day = at.astimezone(calendar.zone).date()
    for offset in range(horizon_days + 1):
        for instant in _candidates(calendar, first_day + timedelta(days=offset)):
            if instant > at and is_open(calendar, instant) != state:
                return instant
    return None
