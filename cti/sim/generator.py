"""A seeded, deterministic stream of simulated callers.

The traffic mix follows the benefit shares by point of access (requirements §3.1, 000:1018-1025), used
as a relative volume proxy, mapped onto the demo queues (§2.6). Callers reach a queue through the IVR
menus of §2.6, so the caller type agrees with the menu: Bed Bureau, CHS SPA and ICRS are on the
professional menu only; First Contact Plus and council services on the public menu only.

Pure: no clock, no I/O. The same arguments always give the same sequence.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

FRONT_DOOR = "+441164960000"
PROFESSIONAL_LINE = "+441164960001"

# Point of access -> relative weight (000:1018-1025).
ACCESS_WEIGHTS: dict[str, float] = {
    "CSC": 22,
    "SPOC": 23,
    "FCP": 8,
    "LPT_SPA": 27,
    "BED_BUREAU": 5,
    "RUTLAND": 5,
    "ICRS": 5,
    "MH_CRISIS": 5,
}

# Point of access -> how its calls split across the demo queues. CSC has "a high volume of calls from
# professionals in terms of progress updates" and takes non-social-care calls (000:352, 001:443); the
# LPT SPA gets "where's my nurse" chases (000:893).
ACCESS_QUEUES: dict[str, dict[str, float]] = {
    "CSC": {"asc_triage": 0.65, "status_enquiry": 0.20, "council_general": 0.15},
    "SPOC": {"asc_triage": 0.80, "status_enquiry": 0.15, "council_general": 0.05},
    "FCP": {"fcp_wellbeing": 1.0},
    "LPT_SPA": {"chs_spa": 0.70, "amh_spa": 0.20, "status_enquiry": 0.10},
    "BED_BUREAU": {"bed_bureau": 1.0},
    "RUTLAND": {"council_general": 1.0},
    "ICRS": {"icrs_rapid_response": 1.0},
    "MH_CRISIS": {"amh_spa": 1.0},
}

# Queue -> share of professional callers; 1.0 / 0.0 where only one IVR menu leads there.
PROFESSIONAL_SHARE: dict[str, float] = {
    "bed_bureau": 1.0,
    "chs_spa": 1.0,
    "icrs_rapid_response": 1.0,
    "asc_triage": 0.25,
    "status_enquiry": 0.40,
    "amh_spa": 0.20,
    "fcp_wellbeing": 0.0,
    "council_general": 0.0,
}
CARER_SHARE = 0.2  # of the callers who are not professionals

# IVR menu digits (§2.6); None: not on that menu.
PROFESSIONAL_MENU: dict[str, str] = {
    "bed_bureau": "1",
    "chs_spa": "2",
    "amh_spa": "3",
    "asc_triage": "4",
    "icrs_rapid_response": "5",
    "status_enquiry": "6",
}
PUBLIC_MENU: dict[str, str] = {
    "asc_triage": "1",
    "status_enquiry": "2",
    "amh_spa": "3",
    "fcp_wellbeing": "4",
    "council_general": "5",
}
LANGUAGES = (("en", 0.92), ("pl", 0.02), ("gu", 0.03), ("pa", 0.02), ("so", 0.01))


@dataclass(frozen=True, slots=True)
class CallerMix:
    """Shares and timings of the caller population (defaults are the demo's assumptions)."""

    known_share: float = 0.80  # CLI is one of the known numbers (screen-pop finds someone)
    withheld_share: float = 0.05  # the rest are unknown drama-range numbers
    professional_line_share: float = 0.70  # professionals who use the professional-only number
    mean_patience_s: float = 120.0  # public and carers
    mean_patience_professional_s: float = 240.0
    patience_sigma: float = 0.6
    min_patience_s: float = 5.0
    max_patience_s: float = 1800.0
    caller_hangs_up_first_share: float = 0.10  # of answered calls: the caller ends the conversation
    caller_talk_range_s: tuple[float, float] = (20.0, 240.0)


@dataclass(frozen=True, slots=True)
class Arrival:
    """One simulated caller. ``offset_s`` is seconds from the start of the run."""

    seq: int
    offset_s: float
    access: str  # point of access the call belongs to (CSC, SPOC, ...)
    queue: str
    caller_type: str  # "professional" | "public" | "carer"
    cli: str | None  # E.164; None when withheld
    dialled: str
    ivr: dict[str, str] = field(default_factory=dict)
    patience_s: float = 120.0  # waiting time before abandoning
    hangs_up_after_s: float | None = None  # talk time after which the caller ends the call, if first


def drama_mobile(n: int) -> str:
    """Ofcom drama-range mobile ``07700 900000``-``07700 900999`` in E.164."""
    return f"+447700900{n % 1000:03d}"


def drama_landline(n: int) -> str:
    """Ofcom drama-range geographic number ``01632 960000``-``01632 960999`` in E.164."""
    return f"+441632960{n % 1000:03d}"


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    names = list(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def _lognormal(rng: random.Random, mean: float, sigma: float) -> float:
    # mu chosen so the distribution's mean (not its median) is ``mean``.
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


class CallerGenerator:
    """Iterate to get arrivals, in time order, without end (stop with ``islice`` or a count)."""

    def __init__(
        self,
        seed: int,
        calls_per_minute: float,
        known_numbers: Sequence[str] = (),
        professional_numbers: Sequence[str] = (),
        mix: CallerMix | None = None,
    ) -> None:
        if calls_per_minute <= 0:
            raise ValueError("calls_per_minute must be positive")
        self.seed = seed
        self.calls_per_minute = calls_per_minute
        self.known_numbers = tuple(known_numbers)
        self.professional_numbers = tuple(professional_numbers) or self.known_numbers
        self.mix = mix or CallerMix()

    def __iter__(self) -> Iterator[Arrival]:
        rng = random.Random(self.seed)
        rate_per_s = self.calls_per_minute / 60.0
        offset = 0.0
        seq = 0
        while True:
            seq += 1
            offset += rng.expovariate(rate_per_s)
            yield self._arrival(rng, seq, offset)

    def _arrival(self, rng: random.Random, seq: int, offset: float) -> Arrival:
        mix = self.mix
        access = _pick(rng, ACCESS_WEIGHTS)
        queue = _pick(rng, ACCESS_QUEUES[access])
        professional = rng.random() < PROFESSIONAL_SHARE[queue]
        caller_type = "professional"
        if not professional:
            caller_type = "carer" if rng.random() < CARER_SHARE else "public"
        dialled = FRONT_DOOR
        if professional and rng.random() < mix.professional_line_share:
            dialled = PROFESSIONAL_LINE
        language = _pick(rng, dict(LANGUAGES))
        ivr = {"language": language}
        if dialled == FRONT_DOOR:
            ivr["caller"] = "1" if professional else "2"
        ivr["menu"] = (PROFESSIONAL_MENU if professional else PUBLIC_MENU)[queue]
        mean = mix.mean_patience_professional_s if professional else mix.mean_patience_s
        patience = _lognormal(rng, mean, mix.patience_sigma)
        patience = min(mix.max_patience_s, max(mix.min_patience_s, patience))
        hangs_up_after = None
        if rng.random() < mix.caller_hangs_up_first_share:
            hangs_up_after = rng.uniform(*mix.caller_talk_range_s)
        return Arrival(
            seq=seq,
            offset_s=offset,
            access=access,
            queue=queue,
            caller_type=caller_type,
            cli=self._cli(rng, professional),
            dialled=dialled,
            ivr=ivr,
            patience_s=round(patience, 3),
            hangs_up_after_s=None if hangs_up_after is None else round(hangs_up_after, 3),
        )

    def _cli(self, rng: random.Random, professional: bool) -> str | None:
        draw = rng.random()
        known = self.professional_numbers if professional else self.known_numbers
        if draw < self.mix.withheld_share:
            return None
        if known and draw < self.mix.withheld_share + self.mix.known_share:
            return rng.choice(known)
        n = rng.randrange(1000)
        return drama_landline(n) if professional else drama_mobile(n)
