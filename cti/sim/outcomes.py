"""What simulated calls are like per queue: talk time and plausible wrap-up codes.

Illustrative figures for the demo (assumptions, not measurements): progress chases are short, mental
health and duty calls long. Failure demand shows up mostly in ``status_enquiry`` (progress chases,
"where's my nurse") and as wrong-door calls elsewhere.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cti.calls.service import WrapUp

MEAN_TALK_S: dict[str, float] = {
    "asc_triage": 360,
    "asc_duty": 480,
    "allocated_worker": 300,
    "chs_spa": 300,
    "amh_spa": 480,
    "clinical_consult": 240,
    "bed_bureau": 300,
    "icrs_rapid_response": 360,
    "fcp_wellbeing": 240,
    "status_enquiry": 150,
    "council_general": 180,
    "ooh_fallback": 300,
}
DEFAULT_TALK_S = 300.0


@dataclass(frozen=True, slots=True)
class Disposition:
    weight: float
    outcome: str
    reasons: tuple[str, ...]
    resolved: float  # chance the call counts as first-contact resolution


D = Disposition
_DEFAULT = (
    D(5, "advice_given", ("new_enquiry",), 0.9),
    D(3, "referral_made", ("new_referral",), 0.7),
    D(1, "signposted", ("wrong_service",), 0.8),
)
DISPOSITIONS: dict[str, tuple[Disposition, ...]] = {
    "asc_triage": (
        D(4, "referral_made", ("new_referral",), 0.7),
        D(3, "signposted", ("new_enquiry",), 0.9),
        D(2, "advice_given", ("information_request",), 0.9),
        D(1, "service_request_created", ("new_referral",), 0.6),
        D(1, "advice_given", ("repeat_no_change",), 0.5),
        D(0.5, "no_action", ("duplicate_referral",), 0.5),
        D(0.5, "signposted", ("wrong_service",), 0.8),
    ),
    "asc_duty": (
        D(3, "service_request_created", ("new_referral",), 0.6),
        D(1, "warm_handover", ("crisis",), 0.5),
    ),
    "chs_spa": (
        D(5, "referral_made", ("new_referral",), 0.8),
        D(2, "service_request_created", ("new_referral",), 0.7),
        D(1, "callback_arranged", ("incomplete_information",), 0.2),
    ),
    "amh_spa": (
        D(3, "referral_made", ("new_referral",), 0.7),
        D(2, "warm_handover", ("crisis",), 0.6),
        D(2, "advice_given", ("information_request",), 0.8),
        D(0.3, "transferred_111", ("wrong_service",), 0.5),
    ),
    "bed_bureau": (
        D(6, "referral_made", ("bed_request",), 0.9),
        D(1, "callback_arranged", ("bed_request",), 0.3),
    ),
    "icrs_rapid_response": (
        D(5, "referral_made", ("crisis",), 0.8),
        D(1, "warm_handover", ("crisis",), 0.6),
        D(0.2, "transferred_999", ("crisis",), 0.5),
    ),
    "fcp_wellbeing": (
        D(4, "advice_given", ("information_request",), 0.9),
        D(3, "signposted", ("new_enquiry",), 0.9),
        D(1, "referral_made", ("new_referral",), 0.8),
    ),
    "status_enquiry": (
        D(6, "status_given", ("progress_chase",), 0.8),
        D(2, "callback_arranged", ("progress_chase", "chasing_callback"), 0.3),
        D(1, "status_given", ("repeat_no_change",), 0.6),
    ),
    "council_general": (
        D(4, "advice_given", ("information_request",), 0.9),
        D(3, "signposted", ("wrong_service",), 0.9),
        D(1, "service_request_created", ("new_enquiry",), 0.8),
    ),
}


def mean_talk_s(queue: str) -> float:
    return MEAN_TALK_S.get(queue, DEFAULT_TALK_S)


def choose_wrap_up(rng: random.Random, queue: str) -> WrapUp:
    options = DISPOSITIONS.get(queue, _DEFAULT)
    pick = rng.choices(options, weights=[o.weight for o in options])[0]
    return WrapUp(
        outcome_code=pick.outcome,
        first_contact_resolution=rng.random() < pick.resolved,
        reason_codes=pick.reasons,
    )
