"""The shipped front-door, professional and legacy-line flows, as callers meet them."""

from __future__ import annotations

import json

import pytest

from cti.config.centre import CentreConfig
from cti.domain.clock import ManualClock
from cti.records import Records
from ivr.actions import (
    CallbackRequested,
    CallStart,
    Digits,
    Enqueue,
    Gather,
    NoInput,
    Say,
    Speech,
    TransferOut,
)
from ivr.engine import IvrEngine
from ivr.flows import FlowSet
from tests.ivr.conftest import CALLER_E164, PROFESSIONAL_LINE, WEEKDAY_11PM, call, ms

ENGLISH, PROFESSIONAL, PUBLIC = Digits("1"), Digits("1"), Digits("2")
SKIP = Digits("")  # "#" alone


async def test_the_caller_hears_the_safety_message_first(engine: IvrEngine) -> None:
    run = await call(engine, [])
    assert "If someone's life is at risk, hang up and dial 999 now" in run.heard[0]
    assert "For English, press 1. Am Gymraeg, pwyswch 2." in run.heard[1]


@pytest.mark.parametrize(
    ("key", "queue", "service"),
    [
        ("1", "bed_bureau", "bed_bureau"),
        ("2", "chs_spa", "chs_spa"),
        ("3", "amh_spa", "amh_spa"),
        ("4", "asc_triage", "city_spoc"),
        ("5", "icrs_rapid_response", "icrs"),
    ],
)
async def test_professional_menu_reaches_each_service(
    engine: IvrEngine, key: str, queue: str, service: str
) -> None:
    run = await call(engine, [ENGLISH, PROFESSIONAL, SKIP, Digits(key)])
    enqueue = run.outcome
    assert isinstance(enqueue, Enqueue)
    assert (enqueue.queue, enqueue.caller_type, enqueue.nhs_number) == (queue, "professional", None)
    assert enqueue.choices["service"] == service
    assert enqueue.choices["caller_type"] == "professional"
    assert enqueue.choices["path"].startswith("language:1 > who:1 > nhs_number:skipped > professional_menu:")


async def test_crisis_sets_top_priority(engine: IvrEngine) -> None:
    run = await call(engine, [ENGLISH, PROFESSIONAL, SKIP, Digits("5")])
    assert isinstance(run.outcome, Enqueue)
    assert run.outcome.priority == 9
    assert run.outcome.choices["priority"] == "9"


async def test_professional_gives_a_valid_nhs_number_and_hears_it_back(engine: IvrEngine) -> None:
    run = await call(engine, [ENGLISH, PROFESSIONAL, Digits("9990000018"), Digits("3")])
    assert isinstance(run.outcome, Enqueue)
    assert run.outcome.nhs_number == "9990000018"
    assert "nhs_number" not in run.outcome.choices  # kept apart from the menu choices
    assert "Thank you. I have 9 9 9, 0 0 0, 0 0 1 8." in run.heard


async def test_wrong_nhs_numbers_are_reprompted_then_accepted(engine: IvrEngine) -> None:
    wrong_check, wrong_length = Digits("9990000017"), Digits("99900000")
    run = await call(
        engine, [ENGLISH, PROFESSIONAL, wrong_check, wrong_length, Digits("9990000026"), Digits("3")]
    )
    assert "That NHS number is not valid. Please check it and try again." in run.heard
    assert "That NHS number did not have ten digits." in run.heard
    assert isinstance(run.outcome, Enqueue)
    assert run.outcome.nhs_number == "9990000026"
    assert run.outcome.choices["nhs_number_errors"] == "2"


async def test_nhs_number_timeouts_carry_on_without_it(engine: IvrEngine) -> None:
    run = await call(engine, [ENGLISH, PROFESSIONAL, NoInput(), NoInput(), NoInput(), Digits("3")])
    assert run.heard.count("Sorry, I did not hear any digits.") == 2
    assert isinstance(run.outcome, Enqueue)
    assert (run.outcome.queue, run.outcome.nhs_number) == ("amh_spa", None)
    assert "nhs_number:failed" in run.outcome.choices["path"]


async def test_too_many_wrong_nhs_numbers_carry_on_without_it(engine: IvrEngine) -> None:
    bad = Digits("9990000017")
    run = await call(engine, [ENGLISH, PROFESSIONAL, bad, bad, bad, Digits("3")])
    assert isinstance(run.outcome, Enqueue)
    assert (run.outcome.queue, run.outcome.nhs_number) == ("amh_spa", None)


@pytest.mark.parametrize(
    ("key", "queue"), [("3", "amh_spa"), ("4", "fcp_wellbeing"), ("5", "council_general")]
)
async def test_public_menu(engine: IvrEngine, key: str, queue: str) -> None:
    run = await call(engine, [ENGLISH, PUBLIC, Digits(key)])
    assert isinstance(run.outcome, Enqueue)
    assert (run.outcome.queue, run.outcome.caller_type) == (queue, "public")


async def test_public_care_and_support_offers_a_callback(engine: IvrEngine) -> None:
    run = await call(engine, [ENGLISH, PUBLIC, Digits("1"), Digits("1")])
    assert isinstance(run.outcome, CallbackRequested)
    assert (run.outcome.queue, run.outcome.number, run.outcome.caller_type) == (
        "asc_triage",
        CALLER_E164,
        "public",
    )
    assert run.outcome.choices["service"] == "city_spoc"
    assert "Thank you. You keep your place and we will call you back. Goodbye." in run.heard
    held = await call(engine, [ENGLISH, PUBLIC, Digits("1"), Digits("2")])
    assert isinstance(held.outcome, Enqueue) and held.outcome.queue == "asc_triage"
    assert held.outcome.hold_messages[0] == Say(
        "If things get worse while you wait and someone's life is at risk, hang up and dial 999."
    )


async def test_withheld_callers_are_not_offered_a_callback(engine: IvrEngine) -> None:
    run = await call(engine, [ENGLISH, PUBLIC, Digits("1")], cli=None)
    assert isinstance(run.outcome, Enqueue) and run.outcome.queue == "asc_triage"
    assert not any("called back" in text for text in run.heard)


async def test_zero_reaches_an_adviser_at_every_level(engine: IvrEngine) -> None:
    for inputs in ([Digits("0")], [ENGLISH, Digits("0")], [ENGLISH, PUBLIC, Digits("0")]):
        run = await call(engine, inputs)
        assert isinstance(run.outcome, Enqueue), inputs
        assert run.outcome.queue == "asc_triage"
        assert run.outcome.choices["asked_for_adviser"] == "yes"
    run = await call(engine, [ENGLISH, PROFESSIONAL, Digits("0"), Digits("0")])  # at the NHS number too
    assert isinstance(run.outcome, Enqueue) and run.outcome.queue == "asc_triage"
    assert run.outcome.caller_type == "professional"


async def test_wrong_keys_are_retried_then_an_adviser_takes_the_call(engine: IvrEngine) -> None:
    run = await call(engine, [ENGLISH, Digits("7"), Digits("8"), Digits("9")])
    assert run.heard.count("Sorry, that is not one of the choices.") == 2
    assert isinstance(run.outcome, Enqueue) and run.outcome.queue == "asc_triage"
    assert "who:failed" in run.outcome.choices["path"]


async def test_star_repeats_the_menu_without_using_a_retry(engine: IvrEngine) -> None:
    run = await call(engine, [ENGLISH, Digits("*"), Digits("*"), Digits("*"), PUBLIC, Digits("3")])
    assert sum("If you are a health or care professional" in t for t in run.heard) == 4
    assert isinstance(run.outcome, Enqueue) and run.outcome.queue == "amh_spa"


async def test_speech_works_like_keys(engine: IvrEngine) -> None:
    run = await call(engine, [Speech("English please"), Speech("I'm a GP"), SKIP, Speech("mental health")])
    assert isinstance(run.outcome, Enqueue)
    assert (run.outcome.queue, run.outcome.caller_type) == ("amh_spa", "professional")
    carer = await call(engine, [ENGLISH, Speech("I am a carer for my mum"), Speech("wellbeing advice")])
    assert isinstance(carer.outcome, Enqueue)
    assert (carer.outcome.queue, carer.outcome.caller_type) == ("fcp_wellbeing", "carer")
    unsure = await call(
        engine, [ENGLISH, Speech("professional", confidence=0.1), Speech("can I speak to someone")]
    )
    assert "Sorry, I did not catch that." in unsure.heard
    assert isinstance(unsure.outcome, Enqueue) and unsure.outcome.queue == "asc_triage"


async def test_welsh_is_used_for_every_later_prompt(engine: IvrEngine) -> None:
    run = await call(engine, [Digits("2"), Digits("2"), Digits("3")])
    said = [a for a in run.actions if isinstance(a, Say)] + [
        p for a in run.actions if isinstance(a, Gather) for p in a.prompts if isinstance(p, Say)
    ]
    later = [s for s in said if "Welcome" not in s.text and "For English" not in s.text]
    assert later and all(s.language == "cy-GB" for s in later)
    assert any("Os ydych yn weithiwr iechyd" in s.text for s in later)
    assert isinstance(run.outcome, Enqueue) and run.outcome.choices["language"] == "cy-GB"


async def test_out_of_hours_wellbeing_offers_111(engine: IvrEngine, clock: ManualClock) -> None:
    clock.advance(ms(WEEKDAY_11PM) - clock.now_ms())
    run = await call(engine, [ENGLISH, PUBLIC, Digits("4"), Digits("1")])
    assert any("open on weekdays from 9 till 5" in t for t in run.heard)
    assert run.outcome == TransferOut("111", "out_of_hours_111")
    no_answer = await call(engine, [ENGLISH, PUBLIC, Digits("4"), NoInput(), NoInput(), NoInput()])
    assert isinstance(no_answer.outcome, Enqueue) and no_answer.outcome.queue == "ooh_fallback"


async def test_out_of_hours_community_nursing_goes_to_crisis_response(
    engine: IvrEngine, clock: ManualClock
) -> None:
    clock.advance(ms(WEEKDAY_11PM) - clock.now_ms())
    run = await call(engine, [ENGLISH, PROFESSIONAL, SKIP, Digits("2")])
    assert any("community nursing and therapy team is closed now" in t for t in run.heard)
    assert isinstance(run.outcome, Enqueue) and run.outcome.queue == "icrs_rapid_response"
    assert "community_hours:closed" in run.outcome.choices["path"]


async def test_the_professional_line_skips_the_who_question(engine: IvrEngine) -> None:
    run = await call(engine, [ENGLISH, SKIP, Digits("1")], dialled=PROFESSIONAL_LINE)
    assert isinstance(run.outcome, Enqueue)
    assert (run.outcome.queue, run.outcome.caller_type) == ("bed_bureau", "professional")
    assert run.outcome.choices["flow"] == "professional"


@pytest.mark.parametrize(
    ("dialled", "queue", "service"),
    [("0116 496 0010", "asc_triage", "city_spoc"), ("+441164960016", "bed_bureau", "bed_bureau")],
)
async def test_legacy_service_lines_go_straight_to_their_queue(
    engine: IvrEngine, dialled: str, queue: str, service: str
) -> None:
    run = await call(engine, [ENGLISH], dialled=dialled)
    assert isinstance(run.outcome, Enqueue)
    assert (run.outcome.queue, run.outcome.choices["service"]) == (queue, service)
    silent = await call(engine, [], dialled=dialled)  # no choice: English, and on to the queue
    assert isinstance(silent.outcome, Enqueue) and silent.outcome.queue == queue


async def test_an_unknown_number_gets_the_front_door(engine: IvrEngine) -> None:
    run = await call(engine, [ENGLISH, PUBLIC, Digits("3")], dialled="0116 496 0999")
    assert isinstance(run.outcome, Enqueue) and run.outcome.choices["flow"] == "front_door"


async def test_state_is_json_and_any_engine_carries_on(
    engine: IvrEngine, flows: FlowSet, centre: CentreConfig, clock: ManualClock, records: Records
) -> None:
    state, _ = await engine.start(CallStart("call-9", CALLER_E164, "0116 496 0000"))
    for event in (ENGLISH, PUBLIC):
        state = json.loads(json.dumps(state))
        other = IvrEngine(flows, centre, clock, records)  # as if on another node
        state, _ = await other.handle(state, event)
    state, actions = await engine.handle(json.loads(json.dumps(state)), Digits("3"))
    assert isinstance(actions[-1], Enqueue) and actions[-1].queue == "amh_spa"
