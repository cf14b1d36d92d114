"""Synthetic households and referrers for the demo records (see ``demo_data``)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cti.records import demo_vocabulary as vocab

# Ofcom drama ranges (E.164): never allocated to real subscribers.
MOBILES = tuple(f"+447700900{n:03d}" for n in range(1000))  # 07700 900000-900999
LANDLINES = tuple(f"+441632960{n:03d}" for n in range(1000))  # 01632 960000-960999
_LEICESTER = "+441164960"  # 0116 496 0xxx
_NOTTINGHAM = "+441154960"  # 0115 496 0xxx

_SIZES, _SIZE_WEIGHTS = (1, 2, 3), (72, 20, 8)
_AGE_BANDS, _AGE_WEIGHTS = ((18, 39), (40, 64), (65, 79), (80, 99)), (10, 20, 35, 35)
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_HEARING = ("BSL", "hearing aid", "hearing loop")


@dataclass
class Household:
    landline: str | None
    practice: int  # index into vocab.PRACTICES: the GP practice everyone here is registered with
    members: list[dict[str, Any]] = field(default_factory=list)  # person rows plus "_phones"


class _Pool:
    """Numbers handed out once each, in a seeded order; empty means no number."""

    def __init__(self, rng: random.Random, numbers: tuple[str, ...]) -> None:
        self._left = list(numbers)
        rng.shuffle(self._left)

    def take(self) -> str | None:
        return self._left.pop() if self._left else None


def _member_ages(rng: random.Random, size: int) -> list[int]:
    low, high = rng.choices(_AGE_BANDS, _AGE_WEIGHTS)[0]
    head = rng.randint(low, high)
    ages = [head]
    if size >= 2:
        ages.append(max(18, min(100, head + rng.randint(-6, 6))))
    if size >= 3:
        ages.append(max(1, head - rng.randint(22, 38)))
    return ages


def _needs(rng: random.Random, language: str | None, age: int) -> dict[str, str]:
    needs: dict[str, str] = {}
    if language and rng.random() < (0.5 if age >= 65 else 0.25):
        needs["interpreter"] = language
    if rng.random() < (0.08 if age >= 75 else 0.02):
        needs["hearing"] = rng.choice(_HEARING)
    if rng.random() < 0.03:
        needs["sight"] = "large print"
    return needs


def _flags(rng: random.Random, lives_alone: bool, age: int) -> list[str]:
    flags = []
    if lives_alone and age >= 65 and rng.random() < 0.8:
        flags.append("lives alone")
    if rng.random() < 0.02:
        flags.append("risk to staff")
    if rng.random() < 0.03:
        flags.append("safeguarding")
    return flags


def build_households(
    rng: random.Random, people: int, now: datetime, nhs_numbers: Iterator[str], practices: int
) -> list[Household]:
    mobiles, landlines = _Pool(rng, MOBILES), _Pool(rng, LANDLINES)
    backgrounds = vocab.BACKGROUNDS
    weights = [b.weight for b in backgrounds]
    households: list[Household] = []
    made = 0
    while made < people:
        size = min(rng.choices(_SIZES, _SIZE_WEIGHTS)[0], people - made)
        background = rng.choices(backgrounds, weights)[0]
        family_name = rng.choice(background.family_names)
        town, district = rng.choice(vocab.TOWNS)
        address = f"{rng.randint(1, 140)} {rng.choice(vocab.STREETS)}, {town}"
        inward = f"{rng.randint(1, 9)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"
        household = Household(
            landline=landlines.take() if rng.random() < 0.65 else None, practice=rng.randrange(practices)
        )
        for age in _member_ages(rng, size):
            born = now.date() - timedelta(days=age * 365 + rng.randrange(365))
            mobile = mobiles.take() if rng.random() < (0.55 if age < 80 else 0.25) else None
            phones = [(mobile, "mobile")] if mobile else []
            if household.landline:
                phones.append((household.landline, "home"))
            household.members.append(
                {
                    # A few people are known to the council only, without an NHS number.
                    "nhs_number": next(nhs_numbers) if rng.random() < 0.97 else None,
                    "given_name": rng.choice(background.given_names),
                    "family_name": family_name,
                    "date_of_birth": born,
                    "address": address,
                    "postcode": f"{district} {inward}",
                    "communication_needs": _needs(rng, background.language, age),
                    "flags": _flags(rng, size == 1, age),
                    "created_at": now - timedelta(days=rng.randrange(30, 3650)),
                    "_phones": phones,
                }
            )
        households.append(household)
        made += size
    return households


def build_referrers(rng: random.Random) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """GPs (two per practice, sharing the practice number; one also has a direct line) and
    community professionals (sharing their team's number). Returns rows and (row index, e164)."""
    rows: list[dict[str, Any]] = []
    phones: list[tuple[int, str]] = []
    clinicians = list(vocab.CLINICIANS)
    rng.shuffle(clinicians)
    for p, practice in enumerate(vocab.PRACTICES):
        prefix = _LEICESTER if p % 2 == 0 else _NOTTINGHAM
        for g in range(2):
            phones.append((len(rows), f"{prefix}{100 + p:03d}"))
            if g == 0:
                phones.append((len(rows), f"{prefix}{500 + p:03d}"))
            rows.append(
                {
                    "name": clinicians[(2 * p + g) % len(clinicians)],
                    "role": "GP",
                    "organisation": practice,
                    "ods_code": f"Z{99001 + p}",  # invented, in the style of a practice code
                    "practice": p,
                }
            )
    roles = vocab.COMMUNITY_ROLES
    for k, name in enumerate(vocab.COMMUNITY_NAMES):
        role, organisation = roles[k % len(roles)]
        phones.append((len(rows), f"{_NOTTINGHAM}{700 + k % len(roles):03d}"))
        rows.append(
            {"name": name, "role": role, "organisation": organisation, "ods_code": None, "practice": None}
        )
    return rows, phones
