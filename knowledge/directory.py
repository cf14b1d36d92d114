"""The directory of services: structured YAML entries, validated; open now, open within, stale.

Opening times reuse the centre's calendars (``cti.config.hours``): weekly ranges in Europe/London wall
time, bank holidays, closed and extra dates, so "08:00" is right on both sides of the clock changes.

``entries_for`` is what the scripts engine calls to signpost::

    from knowledge.directory import entries_for
    entries_for("carers_support", skills=["ASC"], open_now=True)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cti.config._entries import config_error, entry_name, section
from cti.config._yaml import read_yaml
from cti.config.hours import HoursCalendar, is_open, next_change
from cti.domain.errors import ConfigError
from knowledge.articles import ServiceId

DIRECTORY_DIR = Path(__file__).resolve().parent / "directory"

ServiceType = Literal[
    "adult_social_care",
    "carers_support",
    "community_nursing",
    "therapy",
    "equipment",
    "telecare",
    "reablement",
    "mental_health",
    "mental_health_crisis",
    "crisis_response",
    "hospital_admission",
    "urgent_care",
    "wellbeing",
    "housing",
    "benefits_advice",
    "voluntary_sector",
    "council_general",
    "safeguarding",
]
SERVICE_TYPES: tuple[str, ...] = ServiceType.__args__  # type: ignore[attr-defined]
Route = Literal["phone", "e_referral", "warm_transfer", "self_referral", "email", "web_form"]
Tier = Literal["wellness", "community_intervention", "complex_bed_based"]
AgeGroup = Literal["children", "adults", "older_people", "all_ages"]

# Ofcom drama ranges (E.164 prefixes) and the public short codes a directory may give as they are.
_DRAMA_PREFIXES = (
    "+441134960",
    "+441164960",
    "+442079460",
    "+441214960",
    "+441632960",
    "+447700900",
    "+448081570",
)
_SHORT_CODES = ("111", "999", "116123")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Eligibility(_Frozen):
    age_groups: tuple[AgeGroup, ...] = Field(min_length=1)
    criteria: str = Field(min_length=3, max_length=500)


class ReferralRoute(_Frozen):
    route: Route
    detail: str = Field(min_length=3, max_length=300)


class ContactDetails(_Frozen):
    phone: str
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[a-z0-9.-]+\.example$")
    web: str | None = Field(default=None, pattern=r"^https://[a-z0-9.-]+\.example(/\S*)?$")

    @field_validator("phone")
    @classmethod
    def _drama_or_short_code(cls, value: str) -> str:
        compact = value.replace(" ", "")
        if compact in _SHORT_CODES:
            return compact
        try:
            number = phonenumbers.parse(value, "GB")
        except phonenumbers.NumberParseException:
            raise ValueError(f"{value!r} is not a phone number") from None
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if not e164.startswith(_DRAMA_PREFIXES):
            raise ValueError("use an Ofcom drama-range number (e.g. 0116 496 0xxx, 07700 900xxx)")
        return e164


class DirectoryEntry(_Frozen):
    id: str = Field(pattern=r"^dos-[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)
    name: str = Field(min_length=3, max_length=200)
    description: str = Field(min_length=10, max_length=2000)
    service_type: ServiceType
    tier: Tier
    skills: tuple[str, ...] = ()
    services: tuple[ServiceId, ...] = ("all",)
    keywords: tuple[str, ...] = ()
    eligibility: Eligibility
    catchment: tuple[str, ...] = Field(min_length=1)
    hours: HoursCalendar
    referral: tuple[ReferralRoute, ...] = Field(min_length=1)
    contact: ContactDetails
    last_verified: date
    review_every_days: int = Field(default=180, ge=7, le=730)
    illustrative: bool = True

    def open_at(self, at: datetime) -> bool:
        return is_open(self.hours, at)

    def open_within(self, at: datetime, window: timedelta) -> bool:
        """Open at some moment from ``at`` up to ``at + window``."""
        if self.open_at(at):
            return True
        change = next_change(self.hours, at, horizon_days=max(1, window.days + 1))
        return change is not None and change <= at + window

    def stale(self, today: date) -> bool:
        """Past its review: a stale directory is a hazard, so it is shown flagged."""
        return today > self.last_verified + timedelta(days=self.review_every_days)

    def to_json(self, at: datetime) -> dict[str, Any]:
        today = at.astimezone(self.hours.zone).date()
        change = next_change(self.hours, at, horizon_days=14)
        return {
            "id": self.id,
            "kind": "directory",
            "name": self.name,
            "description": self.description,
            "service_type": self.service_type,
            "tier": self.tier,
            "skills": list(self.skills),
            "services": list(self.services),
            "eligibility": self.eligibility.model_dump(mode="json"),
            "catchment": list(self.catchment),
            "hours": self.hours.name,
            "open_now": self.open_at(at),
            "next_change": change.isoformat() if change is not None else None,
            "referral": [r.model_dump() for r in self.referral],
            "contact": self.contact.model_dump(exclude_none=True),
            "last_verified": self.last_verified.isoformat(),
            "stale": self.stale(today),
            "illustrative": self.illustrative,
        }


def _with_calendar_id(raw: Any) -> Any:
    """An entry's ``hours`` is a calendar without an id of its own: it takes the entry's."""
    if isinstance(raw, dict) and isinstance(raw.get("hours"), dict) and isinstance(raw.get("id"), str):
        hours = dict(raw["hours"])
        hours.setdefault("id", raw["id"].replace("-", "_"))
        return {**raw, "hours": hours}
    return raw


def load_directory(folder: Path = DIRECTORY_DIR) -> dict[str, DirectoryEntry]:
    """Every entry in ``folder/*.yaml`` (``entries: [...]``) by id; errors name file, entry, field."""
    entries: dict[str, DirectoryEntry] = {}
    for path in sorted(folder.glob("*.yaml")):
        file = path.name
        for index, raw in enumerate(section(read_yaml(path, file), file, "entries")):
            name = entry_name(raw, "id", index)
            try:
                entry = DirectoryEntry.model_validate(_with_calendar_id(raw))
            except ValidationError as exc:
                raise config_error(file, name, exc) from None
            if entry.id in entries:
                raise ConfigError(file, name, "id", "another directory entry already has this id")
            entries[entry.id] = entry
    return entries


@cache
def shipped_directory() -> dict[str, DirectoryEntry]:
    return load_directory()


def select(
    entries: Iterable[DirectoryEntry],
    *,
    service_type: str | None = None,
    skills: Sequence[str] = (),
    open_now: bool | None = None,
    within: timedelta | None = None,
    at: datetime | None = None,
) -> list[DirectoryEntry]:
    """Entries matching every filter; open ones first, then verified ones, then by name."""
    moment = at if at is not None else datetime.now(UTC)
    today = moment.astimezone(UTC).date()
    chosen = []
    for entry in entries:
        if service_type is not None and entry.service_type != service_type:
            continue
        if any(skill not in entry.skills for skill in skills):
            continue
        if open_now is not None and entry.open_at(moment) != open_now:
            continue
        if within is not None and not entry.open_within(moment, within):
            continue
        chosen.append(entry)
    return sorted(chosen, key=lambda e: (not e.open_at(moment), e.stale(today), e.name))


def entries_for(
    service_type: str,
    skills: Sequence[str] | None = None,
    open_now: bool | None = None,
    *,
    at: datetime | None = None,
    directory: dict[str, DirectoryEntry] | None = None,
) -> list[DirectoryEntry]:
    """Directory entries to signpost to for a script outcome.

    ``service_type``: one of ``SERVICE_TYPES`` (unknown -> ``ValueError``); ``skills``: entries must
    offer every one; ``open_now``: True only open, False only closed, None both; ``at``: the moment
    (aware; default now); ``directory``: entries to choose from (default the shipped directory).
    Open entries come first, stale ones (past review) after verified ones; ``entry.to_json(at)``
    gives the JSON the API returns (with ``open_now`` and ``stale``).
    """
    if service_type not in SERVICE_TYPES:
        raise ValueError(f"unknown service_type {service_type!r}; expected one of {', '.join(SERVICE_TYPES)}")
    source = directory if directory is not None else shipped_directory()
    return select(source.values(), service_type=service_type, skills=skills or (), open_now=open_now, at=at)
