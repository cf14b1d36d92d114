"""Every node kind on small flows written for the test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cti.config.centre import CentreConfig
from cti.domain.clock import ManualClock
from cti.domain.errors import Conflict, InvalidInput
from cti.records import Records
from ivr.actions import (
    CallbackRequested,
    CallStart,
    Digits,
    Enqueue,
    Gather,
    Hangup,
    NoInput,
    Pause,
    Play,
    Say,
    Speech,
    TransferOut,
)
from tests.ivr.conftest import WEEKDAY_11PM, call, mini_engine, ms


@pytest.fixture
def make(tmp_path: Path, centre: CentreConfig, clock: ManualClock, records: Records) -> Any:
    def build(nodes: dict[str, Any], **flow: Any) -> Any:
        return mini_engine(tmp_path, nodes, centre, clock, records, **flow)

    return build


async def test_say_play_pause_then_next(make: Any) -> None:
    engine = make(
        {
            "start": {
                "kind": "say",
                "play": "https://example.invalid/chime.wav",
                "say": "Hello",
                "pause_s": 1,
                "next": "bye",
            },
            "bye": {"kind": "say", "say": {"en-GB": "Goodbye", "cy-GB": "Hwyl fawr"}},
        }
    )
    run = await call(engine, [])
    assert run.actions == [
        Play("https://example.invalid/chime.wav"),
        Say("Hello"),
        Pause(1),
        Say("Goodbye"),
        Hangup(),
    ]


async def test_hangup_node(make: Any) -> None:
    run = await call(make({"start": {"kind": "hangup", "say": "We are closed."}}), [])
    assert run.actions == [Say("We are closed."), Hangup()]


MENU = {
    "kind": "menu",
    "say": "Press 1 for yes.",
    "retries": 1,
    "options": [{"key": "1", "words": ["yes"], "next": "yes", "set": {"answer": "yes"}}],
}


async def test_menu_gather_lists_input_timeout_and_hints(make: Any) -> None:
    engine = make({"start": {**MENU, "timeout_s": 4}, "yes": {"kind": "enqueue", "queue": "amh_spa"}})
    _, actions = await engine.start(CallStart("c", None, "0116 496 0000"))
    assert actions == [Gather((Say("Press 1 for yes."),), "dtmf speech", 1, None, 4.0, ("yes",), "en-GB")]


async def test_menu_invalid_then_timeout_goes_to_on_fail(make: Any) -> None:
    engine = make(
        {
            "start": {**MENU, "on_fail": "gone", "invalid": "No such choice."},
            "yes": {"kind": "enqueue", "queue": "amh_spa"},
            "gone": {"kind": "transfer", "number": "0116 496 0999"},
        }
    )
    run = await call(engine, [Digits("5"), NoInput()])
    assert "No such choice." in run.heard
    assert run.outcome == TransferOut("+441164960999", "gone")


async def test_menu_option_sets_attributes(make: Any) -> None:
    engine = make({"start": MENU, "yes": {"kind": "enqueue", "queue": "amh_spa"}})
    run = await call(engine, [Speech("oh yes")])
    assert isinstance(run.outcome, Enqueue) and run.outcome.choices["answer"] == "yes"


async def test_set_node_sets_service_caller_type_priority(make: Any) -> None:
    engine = make(
        {
            "start": {
                "kind": "set",
                "caller_type": "carer",
                "priority": 3,
                "service": "fcp",
                "attributes": {"interpreter": "yes"},
                "next": "q",
            },
            "q": {
                "kind": "enqueue",
                "queue": "fcp_wellbeing",
                "hold_interval_s": 20,
                "announce_position": False,
                "hold_messages": [
                    {"say": "Thanks for waiting."},
                    {"play": "https://example.invalid/moh.mp3"},
                ],
            },
        }
    )
    run = await call(engine, [])
    assert run.outcome == Enqueue(
        queue="fcp_wellbeing", caller_type="carer", priority=3, nhs_number=None,
        choices={"service": "fcp", "interpreter": "yes", "caller_type": "carer", "priority": "3",
                 "flow": "front_door", "node": "q", "language": "en-GB"},
        hold_messages=(Say("Thanks for waiting."), Play("https://example.invalid/moh.mp3")),
        hold_interval_s=20, announce_position=False,
    )  # fmt: skip


async def test_hours_branch_follows_the_queue_calendar(make: Any, clock: ManualClock) -> None:
    engine = make(
        {
            "start": {"kind": "hours", "queue": "fcp_wellbeing", "open": "open", "closed": "closed"},
            "open": {"kind": "hangup", "say": "open"},
            "closed": {"kind": "hangup", "say": "closed"},
        }
    )
    assert (await call(engine, [])).heard == ["open"]
    clock.advance(ms(WEEKDAY_11PM) - clock.now_ms())
    assert (await call(engine, [])).heard == ["closed"]


async def test_hours_branch_on_a_calendar(make: Any, clock: ManualClock) -> None:
    engine = make(
        {
            "start": {"kind": "hours", "calendar": "community_health", "open": "open", "closed": "closed"},
            "open": {"kind": "hangup", "say": "open"},
            "closed": {"kind": "hangup", "say": "closed"},
        }
    )
    clock.advance(ms(WEEKDAY_11PM) - clock.now_ms())
    assert (await call(engine, [])).heard == ["closed"]


@pytest.mark.parametrize(
    ("number", "expected"), [("999", "999"), ("111", "111"), ("01632 960001", "+441632960001")]
)
async def test_transfer_out(make: Any, number: str, expected: str) -> None:
    engine = make({"start": {"kind": "transfer", "number": number, "reason": "test", "say": "Transferring."}})
    run = await call(engine, [])
    assert run.actions == [Say("Transferring."), TransferOut(expected, "test")]


async def test_language_choice_sets_later_prompts(make: Any) -> None:
    engine = make(
        {
            "start": {
                "kind": "language",
                "say": "1 English, 2 Cymraeg",
                "options": [
                    {"key": "1", "language": "en-GB"},
                    {"key": "2", "words": ["Cymraeg"], "language": "cy-GB"},
                ],
                "next": "bye",
            },
            "bye": {"kind": "hangup", "say": {"en-GB": "Goodbye", "cy-GB": "Hwyl fawr"}},
        }
    )
    assert (await call(engine, [Speech("Cymraeg")])).actions[-2] == Say("Hwyl fawr", "cy-GB")
    assert (await call(engine, [NoInput()])).actions[-2] == Say("Goodbye", "en-GB")  # no choice: default


def _collect(kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "start": {
            "kind": "collect",
            "validate": kind,
            "store": "value",
            "say": "Key it in.",
            "next": "done",
            **extra,
        },
        "done": {"kind": "enqueue", "queue": "amh_spa"},
    }


async def test_collect_date_of_birth(make: Any) -> None:
    engine = make(_collect("date_of_birth", retries=3))
    run = await call(engine, [Digits("31021950"), Digits("01012030"), Digits("0102195"), Digits("01021950")])
    assert "That is not a date. Please try again." in run.heard
    assert "That date of birth is not possible. Please try again." in run.heard
    assert "Please enter the date of birth as eight digits: day, month and year." in run.heard
    assert "Thank you. I have 1 February 1950." in run.heard
    assert isinstance(run.outcome, Enqueue) and run.outcome.choices["value"] == "1950-02-01"


async def test_collect_reference_and_digits(make: Any) -> None:
    run = await call(make(_collect("reference")), [Digits("123")])
    assert isinstance(run.outcome, Enqueue) and run.outcome.choices["value"] == "SR-000123"
    digits = make(_collect("digits", min_digits=4, max_digits=4, confirm=False))
    run = await call(digits, [Digits("12"), Digits("1234")])
    assert run.heard.count("Sorry, that was not right. Please try again.") == 1
    assert isinstance(run.outcome, Enqueue) and run.outcome.choices["value"] == "1234"


async def test_required_collect_goes_to_the_adviser_after_timeouts(make: Any) -> None:
    run = await call(make(_collect("nhs_number", retries=1)), [NoInput(), NoInput()])
    assert isinstance(run.outcome, Enqueue) and run.outcome.nhs_number is None
    assert run.outcome.choices["path"] == "start:failed"


async def test_required_collect_cannot_be_skipped(make: Any) -> None:
    run = await call(make(_collect("nhs_number", retries=0)), [Digits("")])
    assert isinstance(run.outcome, Enqueue) and run.outcome.choices["path"] == "start:failed"


async def test_nhs_number_by_speech(make: Any) -> None:
    run = await call(make(_collect("nhs_number")), [Speech("nine nine nine, oh oh oh, oh oh one eight")])
    assert isinstance(run.outcome, Enqueue) and run.outcome.nhs_number == "9990000018"


async def test_callback_offer_on_withheld_and_speech(make: Any) -> None:
    engine = make(
        {
            "start": {"kind": "callback", "queue": "asc_triage", "say": "1 for a call back", "next": "hold"},
            "hold": {"kind": "enqueue", "queue": "asc_triage"},
        }
    )
    run = await call(engine, [Speech("yes please call back")], cli="07700 900123")
    assert isinstance(run.outcome, CallbackRequested) and run.outcome.number == "+447700900123"
    run = await call(engine, [], cli="anonymous")
    assert isinstance(run.outcome, Enqueue) and run.heard == []


async def test_a_finished_session_and_a_bad_state_are_refused(make: Any) -> None:
    engine = make({"start": {"kind": "hangup"}})
    state, _ = await engine.start(CallStart("c", None, "0116 496 0000"))
    with pytest.raises(Conflict) as over:
        await engine.handle(state, Digits("1"))
    assert over.value.error_id == "ivr_session_over"
    with pytest.raises(InvalidInput) as bad:
        await engine.handle({"flow": "front_door"}, Digits("1"))
    assert bad.value.error_id == "ivr_state_invalid"
