"""The shipped front-door flow on the real IVR engine, as a Twilio caller meets it: TwiML for every
step, professionals' NHS numbers, callbacks, self-service, and webhooks repeated or late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cti.domain.states import ContactState
from cti.twilio.adapter import TwilioTelephony
from tests.conftest import until
from tests.twilio.conftest import (
    BASE,
    FALLBACK,
    FRONT_DOOR,
    NIGHT_MS,
    Twilio,
    path_of,
    start_server,
    twilio_settings,
)
from tests.twilio.fake_rest import RecordingHttp
from tests.twilio.test_flows import CALLER_NUMBER, dial, login_available, sids

NHS_NUMBER = "9990000018"  # 999 test range, valid check digit


async def test_the_caller_hears_the_safety_message_then_chooses(twilio_app: Twilio) -> None:
    tw = twilio_app
    sid = next(sids)
    page = await tw.twiml("/twilio/voice", {"CallSid": sid, "From": CALLER_NUMBER, "To": FRONT_DOOR})
    said = page.said()
    assert said[0].startswith("Welcome to the health and social care single point of access")
    assert "dial 999" in said[0]
    gather = page.find("Gather")
    assert gather is not None
    assert gather.attrib["action"] == f"{BASE}/twilio/gather?step=1"
    assert gather.attrib["actionOnEmptyResult"] == "true" and gather.attrib["method"] == "POST"
    assert "For English, press 1" in " ".join(e.text or "" for e in gather.iter("Say"))
    # Twilio asks again (a retry): the same answer, the session not restarted.
    again = await tw.twiml("/twilio/voice", {"CallSid": sid, "From": CALLER_NUMBER, "To": FRONT_DOOR})
    assert again.text == page.text
    who = await tw.twiml(page.gather_url(), {"CallSid": sid, "Digits": "1"})
    assert "health or care professional, press 1" in " ".join(who.said())
    # The same gather posted twice (or late): the answer already given, the IVR not moved on twice.
    repeated = await tw.twiml(page.gather_url(), {"CallSid": sid, "Digits": "2"})
    assert repeated.text == who.text
    assert who.gather_url().endswith("step=2")
    # Nothing pressed before the timeout: asked again.
    silence = await tw.twiml(who.gather_url(), {"CallSid": sid})
    assert "health or care professional, press 1" in " ".join(silence.said())


async def test_a_professional_with_an_nhs_number_reaches_mental_health(twilio_app: Twilio) -> None:
    tw = twilio_app
    sid, page = await dial(tw, ["1", "1"])
    assert "NHS number" in " ".join(page.said())
    gather = page.find("Gather")
    assert gather is not None and gather.attrib["finishOnKey"] == "#"
    wrong = await tw.twiml(page.gather_url(), {"CallSid": sid, "Digits": "9990000019"})  # bad check digit
    assert "NHS number" in " ".join(wrong.said())
    menu = await tw.twiml(wrong.gather_url(), {"CallSid": sid, "Digits": NHS_NUMBER})
    assert "adult mental health, press 3" in " ".join(menu.said())
    queued = await tw.twiml(menu.gather_url(), {"CallSid": sid, "Digits": "3"})
    assert queued.conference().text == f"fd-{sid}"
    contact = await tw.r.services.store.get_contact(sid)
    assert contact.queue == "amh_spa" and contact.state is ContactState.QUEUED
    record = await tw.r.services.records.get_contact(sid)
    assert record is not None and record.caller_type == "professional"


async def test_only_the_hash_key_skips_the_nhs_number(twilio_app: Twilio) -> None:
    tw = twilio_app
    sid, page = await dial(tw, ["1", "1"])
    for pressed in ({"Digits": "#"}, {"Digits": ""}):  # Twilio sends the lone finishing key, or nothing
        sid, page = await dial(tw, ["1", "1"])
        menu = await tw.twiml(page.gather_url(), {"CallSid": sid, **pressed})
        assert "adult mental health, press 3" in " ".join(menu.said())


async def test_a_caller_asks_to_be_called_back(twilio_app: Twilio) -> None:
    tw = twilio_app
    sid, page = await dial(tw, ["1", "2", "1"])
    assert "called back" in " ".join(page.said())
    done = await tw.twiml(page.gather_url(), {"CallSid": sid, "Digits": "1"})
    assert done.find("Hangup") is not None and done.find("Conference") is None
    await tw.status(sid, "completed", 3)  # the caller hangs up as told: their place is kept
    contact = await tw.r.services.store.get_contact(sid)
    assert contact.state is ContactState.QUEUED and contact.queue == "asc_triage"
    # An adviser answers: Frontdoor calls the caller back and puts them in the adviser's conference.
    agent = await login_available(tw, "agent01")
    leg = await tw.wait_for_leg("client:agent01")
    answered = await tw.twiml(path_of(leg["Url"]), {"CallSid": leg["sid"]})
    assert answered.conference().text == f"fd-{sid}"
    back = await tw.wait_for_leg(CALLER_NUMBER)
    assert back["Url"] == f"{BASE}/twilio/join?contact={sid}"
    joined = await tw.twiml(path_of(back["Url"]), {"CallSid": back["sid"]})
    assert joined.conference().text == f"fd-{sid}"
    assert joined.conference().attrib["endConferenceOnExit"] == "true"
    # The called-back caller hangs up: the adviser goes to wrap-up.
    await tw.status(back["sid"], "completed", 4)
    assert (await tw.r.services.store.get_contact(sid)).state is ContactState.WRAP_UP
    assert agent


async def test_wheres_my_nurse_by_the_callers_number(twilio_app: Twilio) -> None:
    tw = twilio_app
    records = tw.r.services.records
    person = await records.add_person(
        given_name="Test", family_name="Person", phones=[(CALLER_NUMBER, "mobile")]
    )
    due = datetime.fromtimestamp(tw.r.services.clock.now_ms() / 1000, UTC) + timedelta(days=2)
    await records.create_service_request(person.id, "chs_spa", "Illustrative nurse visit", due_at=due)
    sid, page = await dial(tw, ["1", "2", "2"])  # English; public; about an existing nurse visit
    assert "has been received" in page.said()[0] and "due by Friday 12 March" in page.said()[0]
    done = await tw.twiml(page.gather_url(), {"CallSid": sid})  # nothing more wanted
    assert done.find("Hangup") is not None and done.find("Conference") is None
    await tw.status(sid, "completed", 3)  # hanging up as told abandons nothing
    record = await records.get_contact(sid)
    assert record is not None
    assert (record.outcome_code, record.reason_codes, record.first_contact_resolution) == (
        "status_given",
        ["progress_chase"],
        True,
    )
    assert record.agent_id is None and not await tw.r.services.store.waiting()


async def test_a_caller_who_hung_up_in_the_menu_is_never_queued(twilio_app: Twilio) -> None:
    tw = twilio_app
    sid, page = await dial(tw, ["1", "2"])
    await tw.status(sid, "completed", 5)
    late = await tw.twiml(page.gather_url(), {"CallSid": sid, "Digits": "3"})
    assert late.find("Hangup") is not None and late.find("Conference") is None

    async def none_waiting() -> bool:
        return not await tw.r.services.store.waiting()

    await until(none_waiting, message="no caller waiting")


async def test_out_of_hours_the_caller_is_put_through_to_111(tmp_path: Path, rest: RecordingHttp) -> None:
    async for r in start_server(twilio_settings(tmp_path), at_ms=NIGHT_MS):
        tw = Twilio(r, rest)
        sid, page = await dial(tw, ["1", "2", "4"])  # English; public; health and wellbeing advice
        assert "open on weekdays from 9 till 5" in " ".join(page.said())
        out = await tw.twiml(page.gather_url(), {"CallSid": sid, "Digits": "1"})
        assert out.said() == ["Putting you through to NHS 111."]
        dial_verb = out.find("Dial")
        assert dial_verb is not None and dial_verb.text == "111"
        await tw.status(sid, "completed", 4)  # gone elsewhere: nobody was waiting for them
        assert not await r.services.store.waiting()


async def test_speech_is_understood_and_a_broken_session_still_reaches_a_person(twilio_app: Twilio) -> None:
    tw = twilio_app
    sid = next(sids)
    page = await tw.twiml("/twilio/voice", {"CallSid": sid, "From": "anonymous", "To": FRONT_DOOR})
    said = {"CallSid": sid, "SpeechResult": "English please", "Confidence": "0.92"}
    who = await tw.twiml(page.gather_url(), said)
    assert "health or care professional, press 1" in " ".join(who.said())
    # The flow changed under the call (a redeploy): the caller is put through to a person.
    telephony = tw.r.services.telephony
    assert isinstance(telephony, TwilioTelephony)
    doc = await telephony.call_doc(sid)
    await telephony.set_call(sid, ivr={**doc["ivr"], "flow": "retired_flow"})
    rescued = await tw.twiml(who.gather_url(), {"CallSid": sid, "Digits": "2"})
    dial_verb = rescued.find("Dial")
    assert dial_verb is not None and dial_verb.text == FALLBACK
    await tw.status(sid, "completed", 3)
    assert not await tw.r.services.store.waiting()
