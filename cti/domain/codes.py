"""Common outcome and reason codes across all services (FR-56, FR-57, FR-65)."""

from __future__ import annotations

OUTCOME_CODES: dict[str, str] = {
    "advice_given": "Advice or information given",
    "signposted": "Signposted to another service",
    "referral_made": "Referral made to a service",
    "service_request_created": "Service request created",
    "warm_handover": "Warm handover to a specialist",
    "status_given": "Progress of an existing request given",
    "callback_arranged": "Callback arranged",
    "transferred_999": "Transferred to 999",
    "transferred_111": "Transferred to NHS 111",
    "no_action": "No further action",
}
# Outcomes the system records by itself. They are never chosen at wrap-up, so they are kept out of
# ``OUTCOME_CODES`` (the wrap-up API and the desktop's code list): an agent cannot pick them.
SYSTEM_OUTCOMES: dict[str, str] = {
    "abandoned": "Caller hung up while queued or while an agent was being rung",
    "abandoned_in_ivr": "Caller hung up in the phone menu, before reaching a queue",
    "transferred_out_of_hours": "Transferred to the out-of-hours service",
}
ALL_OUTCOMES: dict[str, str] = {**OUTCOME_CODES, **SYSTEM_OUTCOMES}

# Value demand: what the service exists to do. Failure demand: caused by not doing something, or not
# doing it right, first time (chases, repeats, wrong door).
VALUE_REASONS: dict[str, str] = {
    "new_referral": "New referral",
    "new_enquiry": "New enquiry",
    "information_request": "Request for information",
    "crisis": "Crisis or urgent need",
    "bed_request": "Hospital admission or bed request",
}
FAILURE_DEMAND_REASONS: dict[str, str] = {
    "progress_chase": "Progress chase (where's my nurse / referral)",
    "repeat_no_change": "Repeat call, nothing has changed",
    "chasing_callback": "Chasing a promised callback",
    "wrong_service": "Came to the wrong service",
    "duplicate_referral": "Duplicate referral already made elsewhere",
    "incomplete_information": "Information missing from an earlier contact",
}
REASON_CODES: dict[str, str] = {**VALUE_REASONS, **FAILURE_DEMAND_REASONS}
