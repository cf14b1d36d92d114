"""The handover state machine: the table is the whole truth, and everything else raises."""

from __future__ import annotations

from itertools import product
from typing import get_args

import pytest

from cti.domain.errors import IllegalTransition
from cti.handover import HANDOVER_TRANSITIONS, HandoverState, next_state
from cti.handover.states import ACTIVE, TERMINAL, HandoverEvent

H = HandoverState
EVENTS: tuple[HandoverEvent, ...] = get_args(HandoverEvent)
LEGAL = {
    (H.REQUESTED, "reserve"): H.SPECIALIST_RESERVED,
    (H.SPECIALIST_RESERVED, "connect"): H.CONSULTING,
    (H.SPECIALIST_RESERVED, "complete"): H.COMPLETED,
    (H.CONSULTING, "complete"): H.COMPLETED,
    **{(state, "cancel"): H.CANCELLED for state in ACTIVE},
    **{(state, "fail"): H.FAILED for state in ACTIVE},
}


def test_the_table_names_every_event_and_nothing_else() -> None:
    assert set(HANDOVER_TRANSITIONS) == set(EVENTS)
    table = {(s, e): t for e, moves in HANDOVER_TRANSITIONS.items() for s, t in moves.items()}
    assert table == LEGAL


@pytest.mark.parametrize(("state", "event"), sorted(LEGAL))
def test_legal_transitions(state: HandoverState, event: HandoverEvent) -> None:
    assert next_state(state, event) is LEGAL[(state, event)]


ILLEGAL = sorted(set(product(H, EVENTS)) - set(LEGAL))


@pytest.mark.parametrize(("state", "event"), ILLEGAL)
def test_every_other_transition_raises(state: HandoverState, event: HandoverEvent) -> None:
    with pytest.raises(IllegalTransition) as raised:
        next_state(state, event)
    assert raised.value.error_id == "illegal_transition"
    assert raised.value.status == 409
    assert raised.value.details == {"machine": "handover", "current": str(state), "event": event}


def test_terminal_states_are_final_and_every_active_state_can_end() -> None:
    assert set(H) == TERMINAL | ACTIVE and not TERMINAL & ACTIVE
    for state in TERMINAL:
        assert all((state, event) not in LEGAL for event in EVENTS)
    for state in ACTIVE:
        assert {next_state(state, "cancel"), next_state(state, "fail")} == {H.CANCELLED, H.FAILED}
