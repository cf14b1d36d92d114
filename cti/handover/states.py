"""The handover state machine, as a transition table.

::

    requested --reserve--> specialist_reserved --connect--> consulting
    specialist_reserved | consulting --complete--> completed
    requested | specialist_reserved | consulting --cancel--> cancelled
    requested | specialist_reserved | consulting --fail--> failed

``request`` is the event that creates a handover (there is no state before it). The handover service
is the one writer; ``next_state`` raises ``IllegalTransition`` for anything not in the table, naming
the machine, the current state and the event.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from cti.domain.states import advance


class HandoverState(StrEnum):
    REQUESTED = "requested"
    SPECIALIST_RESERVED = "specialist_reserved"
    CONSULTING = "consulting"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


HandoverEvent = Literal["reserve", "connect", "complete", "cancel", "fail"]

H = HandoverState
ACTIVE = frozenset({H.REQUESTED, H.SPECIALIST_RESERVED, H.CONSULTING})
TERMINAL = frozenset({H.COMPLETED, H.CANCELLED, H.FAILED})

HANDOVER_TRANSITIONS: dict[str, dict[HandoverState, HandoverState]] = {
    "reserve": {H.REQUESTED: H.SPECIALIST_RESERVED},
    "connect": {H.SPECIALIST_RESERVED: H.CONSULTING},
    "complete": {H.SPECIALIST_RESERVED: H.COMPLETED, H.CONSULTING: H.COMPLETED},
    "cancel": {state: H.CANCELLED for state in sorted(ACTIVE)},
    "fail": {state: H.FAILED for state in sorted(ACTIVE)},
}

# Why a handover ended other than by completing as asked; published and audited with the transition.
Reason = Literal[
    "cancelled_by_agent",  # the first agent took the caller back
    "caller_hung_up",
    "no_specialist",  # nobody accepted within the handover timeout
    "specialist_left",  # the specialist hung up before the transfer
    "first_agent_left",  # the first agent hung up: completed to the specialist, or the caller queued
    "consult_ended",  # the consult call ended under the handover (e.g. abandoned by the router)
    "not_started",  # the consult could not be set up
    "telephony_failed",
]


def next_state(current: HandoverState, event: HandoverEvent) -> HandoverState:
    """The state after ``event`` or ``IllegalTransition`` (naming the machine, state and event)."""
    return advance("handover", HANDOVER_TRANSITIONS, current, event)
