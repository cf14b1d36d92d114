"""The entries of a centre's configuration files. Each model checks its own entry; references between
entries (a queue's skills, a number's queue) are checked by the loader in ``centre.py``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import phonenumbers
from argon2 import extract_parameters
from argon2.exceptions import InvalidHashError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from cti.domain.model import MAX_PRIORITY, Policy

Organisation = Literal["City", "County", "Rutland", "LPT", "UHL"]
Role = Literal["agent", "specialist", "supervisor", "admin", "clinical_safety"]
NumberKind = Literal["front_door", "professional", "service"]
Proficiency = Annotated[int, Field(ge=1, le=3)]
EMERGENCY_LINES = ("111", "999")

_SKILL_ID = re.compile(r"^[A-Z][A-Z0-9_]*$")
_LANGUAGE_SKILL_ID = re.compile(r"^LANG_[a-z]{2,3}$")
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=64)]


def to_e164(value: Any) -> str:
    """A UK national or international number in E.164 (``0116 496 0000`` -> ``+441164960000``)."""
    if not isinstance(value, str):
        raise ValueError(f"write phone numbers as quoted strings, got {value!r}")
    try:
        parsed = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        raise ValueError(f"{value!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{value!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def check_skill_id(value: str) -> str:
    pattern = _LANGUAGE_SKILL_ID if value.startswith("LANG_") else _SKILL_ID
    if not pattern.match(value):
        raise ValueError(f"{value!r} is not a skill id (UPPER_CASE, or LANG_ and an ISO 639 code: LANG_pl)")
    return value


SkillId = Annotated[str, AfterValidator(check_skill_id)]


def _distinct_skills(value: tuple[Requirement, ...]) -> tuple[Requirement, ...]:
    names = [r.skill for r in value]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"skill {twice[0]} is required more than once")
    return value


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Skill(_Entry):
    id: SkillId
    name: str


class Service(_Entry):
    """A point of access: the service a queue or a legacy number belongs to (for MI and branding)."""

    id: Slug
    name: str
    organisation: Organisation
    description: str = ""


class Requirement(_Entry):
    skill: SkillId
    min_proficiency: Proficiency = 1

    def met_by(self, skills: Mapping[str, int]) -> bool:
        return skills.get(self.skill, 0) >= self.min_proficiency


Requirements = Annotated[tuple[Requirement, ...], AfterValidator(_distinct_skills)]


class OutOfHours(_Entry):
    """Where a call goes while its queue is closed: another queue, or a transfer to a number."""

    queue: str | None = None
    transfer: str | None = None

    @field_validator("transfer")
    @classmethod
    def _dialable(cls, value: str | None) -> str | None:
        if value is None or value in EMERGENCY_LINES:
            return value
        return to_e164(value)

    @model_validator(mode="after")
    def _exactly_one(self) -> OutOfHours:
        if (self.queue is None) == (self.transfer is None):
            raise ValueError("give exactly one of 'queue' or 'transfer'")
        return self


class Overflow(_Entry):
    """After ``after_s`` seconds in queue the call may also go to another queue, or to anyone with
    ``to_skills`` (a synthetic routing target ``<queue>~overflow<n>``)."""

    after_s: int = Field(gt=0)
    to_queue: str | None = None
    to_skills: Requirements | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Overflow:
        if (self.to_queue is None) == (self.to_skills is None):
            raise ValueError("give exactly one of 'to_queue' or 'to_skills'")
        if self.to_skills is not None and not self.to_skills:
            raise ValueError("'to_skills' needs at least one skill")
        return self


class ServiceLevel(_Entry):
    threshold_s: int = Field(default=60, gt=0)
    target: float = Field(default=0.8, gt=0, le=1)


class Queue(_Entry):
    id: Slug
    name: str
    service: str
    requirements: Requirements = ()
    base_priority: int = Field(default=0, ge=0, le=MAX_PRIORITY)
    hours: str = "24x7"
    out_of_hours: OutOfHours | None = None
    overflow: tuple[Overflow, ...] = ()
    service_level: ServiceLevel = ServiceLevel()
    abandon_threshold_s: int = Field(default=30, ge=0)

    def overflow_target(self, index: int) -> str:
        """The routing target of overflow entry ``index``."""
        rule = self.overflow[index]
        return rule.to_queue if rule.to_queue is not None else f"{self.id}~overflow{index}"


class Number(_Entry):
    """A dialled number. ``number`` is stored in E.164 whatever the file says."""

    number: str
    name: str
    kind: NumberKind
    flow: str = Field(default="front_door", min_length=1)
    queue: str | None = None
    service: str | None = None

    @field_validator("number", mode="before")
    @classmethod
    def _e164(cls, value: Any) -> str:
        return to_e164(value)


class User(_Entry):
    username: str = Field(pattern=r"^[a-z][a-z0-9._-]*$", max_length=64)
    display_name: str
    role: Role
    password_hash: str = Field(repr=False)
    organisation: Organisation
    team: str = ""
    skills: dict[SkillId, Proficiency] = {}

    @field_validator("password_hash")
    @classmethod
    def _argon2(cls, value: str) -> str:
        try:
            extract_parameters(value)
        except InvalidHashError:
            raise ValueError("not an argon2 hash (make one with argon2.PasswordHasher().hash)") from None
        return value


class RoutingPolicy(_Entry):
    """routing.yaml: timings and boosts the router applies."""

    offer_timeout_s: int = Field(default=20, gt=0)
    wrap_up_timeout_s: int = Field(default=120, ge=0)
    professional_boost: int = Field(default=2, ge=0, le=MAX_PRIORITY)
    repeat_caller_boost: int = Field(default=1, ge=0, le=MAX_PRIORITY)
    repeat_window_days: int = Field(default=7, gt=0)
    repeat_threshold: int = Field(default=2, gt=0)  # contacts within the window that make a repeat caller
    named_worker_first_s: int = Field(default=30, ge=0)
    heartbeat_timeout_s: int = Field(default=30, gt=0)

    def store_policy(self) -> Policy:
        """The timings the state store enforces."""
        return Policy(
            offer_timeout_ms=self.offer_timeout_s * 1000, wrap_up_timeout_ms=self.wrap_up_timeout_s * 1000
        )
