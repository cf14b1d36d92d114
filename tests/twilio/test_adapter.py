"""The adapter's commands, as the exact Twilio REST calls they make (the real twilio library, its HTTP
recorded), with the call state in memory and in Redis."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from cti.config.settings import load_settings
from cti.domain.clock import ManualClock
from cti.domain.errors import ConfigError, Conflict
from cti.twilio import create_telephony
from cti.twilio.adapter import TwilioTelephony
from cti.twilio.book import CallBook, MemoryCallBook, RedisCallBook
from cti.twilio.twiml import Urls
from tests.twilio.conftest import BASE, CALLER_ID, PHONES
from tests.twilio.fake_rest import RecordingHttp, fake_client

CALLER = "CA" + "c" * 32
CONF = "CF" + "1" * 32
CONSULT_CONF = "CF" + "2" * 32


class Handler:
    def __init__(self) -> None:
        self.hung_up: list[str] = []

    async def call_arrived(self, call: Any) -> Any:
        return None

    async def caller_hung_up(self, call_id: str) -> None:
        self.hung_up.append(call_id)


@pytest.fixture(params=["memory", "redis"])
async def book(request: pytest.FixtureRequest) -> AsyncIterator[CallBook]:
    if request.param == "memory":
        yield MemoryCallBook(ManualClock())
        return
    client = aioredis.Redis.from_url(request.getfixturevalue("redis_url"))
    try:
        yield RedisCallBook(client, request.getfixturevalue("redis_prefix"))
    finally:
        await client.aclose()


@pytest.fixture
async def tel(book: CallBook) -> tuple[TwilioTelephony, RecordingHttp]:
    client, http = fake_client()
    telephony = TwilioTelephony(client, book, Urls(BASE), caller_id=CALLER_ID, endpoints=PHONES)
    await telephony.start(Handler())
    # A caller queued in their conference (as the voice webhook leaves them).
    await telephony.set_call(CALLER, role="caller", contact=CALLER)
    await telephony.set_contact(CALLER, caller=CALLER, phase="queued")
    await book.put("conference", f"fd-{CALLER}", {"sid": CONF})
    return telephony, http


def conference_in(twiml: str) -> ET.Element:
    found = next(ET.fromstring(twiml).iter("Conference"))
    return found


async def ringing(telephony: TwilioTelephony, http: RecordingHttp, contact: str, agent: str) -> str:
    await telephony.ring(contact, agent)
    return str(http.created[-1]["sid"])


async def answered(telephony: TwilioTelephony, http: RecordingHttp, contact: str, agent: str) -> str:
    """Rung, and the agent picked up (as ``/twilio/agent`` records it)."""
    sid = await ringing(telephony, http, contact, agent)
    await telephony.set_call(sid, answered=True)
    await telephony.connect(contact, agent)
    return sid


async def test_ring_calls_the_agents_phone_and_stop_ringing_cancels_it(
    tel: tuple[TwilioTelephony, RecordingHttp],
) -> None:
    telephony, http = tel
    leg = await ringing(telephony, http, CALLER, "agent14")
    await telephony.ring(CALLER, "agent07")  # no phone configured: their Twilio Client identity
    await telephony.stop_ringing(CALLER, "agent14")
    assert http.calls() == [
        (
            "calls.create",
            {
                "To": "+447700900014",
                "From": CALLER_ID,
                "Url": f"{BASE}/twilio/agent?contact={CALLER}&agent=agent14",
                "Method": "POST",
                "StatusCallback": f"{BASE}/twilio/status",
                "StatusCallbackMethod": "POST",
                "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
                "Timeout": 20,
            },
        ),
        ("calls.create", {**http.calls()[1][1], "To": "client:agent07"}),
        (f"calls({leg}).update", {"Status": "canceled"}),
    ]
    assert (await telephony.call_doc(leg))["released"] is True


async def test_hold_and_resume_are_participant_hold(tel: tuple[TwilioTelephony, RecordingHttp]) -> None:
    telephony, http = tel
    await telephony.hold(CALLER)
    await telephony.resume(CALLER)
    assert http.calls() == [
        (
            f"conferences({CONF}).participants({CALLER}).update",
            {"Hold": "true", "HoldUrl": f"{BASE}/twilio/held", "HoldMethod": "POST"},
        ),
        (f"conferences({CONF}).participants({CALLER}).update", {"Hold": "false"}),
    ]


async def test_an_unknown_conference_is_looked_up_by_name(tel: tuple[TwilioTelephony, RecordingHttp]) -> None:
    telephony, http = tel
    await telephony.book.put("conference", f"fd-{CALLER}", {"sid": CONF, "ended": True})
    with pytest.raises(Conflict) as refused:
        await telephony.hold(CALLER)
    assert refused.value.error_id == "conference_not_found"
    http.conferences[f"fd-{CALLER}"] = CONF
    await telephony.hold(CALLER)
    assert [api for api, _ in http.calls()] == [
        "conferences.list",
        "conferences.list",
        f"conferences({CONF}).participants({CALLER}).update",
    ]


async def test_provider_errors_are_conflicts(tel: tuple[TwilioTelephony, RecordingHttp]) -> None:
    telephony, http = tel
    leg = await ringing(telephony, http, CALLER, "agent14")
    await telephony.connect(CALLER, "agent14")
    await telephony.set_contact(CALLER, consult="x")  # a consult open: only the agent leaves
    http.gone.add(leg)
    await telephony.hangup(CALLER)  # a leg already over is fine
    http.gone.add(CALLER)
    with pytest.raises(Conflict) as refused:
        await telephony.transfer_out(CALLER, "111")
    assert refused.value.error_id == "telephony_failed"
    http.unreachable = True
    with pytest.raises(Conflict) as refused:
        await telephony.hold(CALLER)
    assert refused.value.error_id == "telephony_failed"
    await telephony.stop_ringing(CALLER, "agent07")  # nothing to stop: no call made


async def test_hangup_ends_the_callers_leg(tel: tuple[TwilioTelephony, RecordingHttp]) -> None:
    telephony, http = tel
    await ringing(telephony, http, CALLER, "agent14")
    await telephony.connect(CALLER, "agent14")
    http.clear()
    await telephony.hangup(CALLER)
    assert http.calls() == [(f"calls({CALLER}).update", {"Status": "completed"})]
    assert (await telephony.call_doc(CALLER))["released"] is True


async def test_transfer_out_dials_the_number(tel: tuple[TwilioTelephony, RecordingHttp]) -> None:
    telephony, http = tel
    await telephony.transfer_out(CALLER, "111")
    [(api, data)] = http.calls()
    assert api == f"calls({CALLER}).update"
    assert data["Twiml"] == '<?xml version="1.0" encoding="UTF-8"?><Response><Dial>111</Dial></Response>'


async def warm_handover(telephony: TwilioTelephony, http: RecordingHttp) -> tuple[str, str, str]:
    agent = await answered(telephony, http, CALLER, "agent14")
    await telephony.hold(CALLER)
    consult = f"{CALLER}.h1"
    await telephony.open_consult(CALLER, consult, "agent14", "amh_spa")
    specialist = await answered(telephony, http, consult, "specialist04")
    await telephony.consult(CALLER, consult, "agent14", "specialist04")
    return agent, specialist, consult


async def test_a_warm_handover_completed(tel: tuple[TwilioTelephony, RecordingHttp]) -> None:
    telephony, http = tel
    agent, specialist, consult = await warm_handover(telephony, http)
    calls = http.calls()
    assert calls[-1][0] == f"calls({agent}).update"  # the first agent into the consult conference
    moved = conference_in(str(calls[-1][1]["Twiml"]))
    assert moved.text == f"fd-{consult}" and moved.attrib["endConferenceOnExit"] == "false"
    assert http.created[-1]["To"] == "+447700900104"
    http.clear()
    await telephony.complete_transfer(CALLER, consult, "agent14", "specialist04")
    await telephony.complete_transfer(CALLER, consult, "agent14", "specialist04")  # again: nothing more
    (api1, data1), (api2, data2) = http.calls()
    assert api1 == f"calls({CALLER}).update"
    caller_in = conference_in(str(data1["Twiml"]))
    assert caller_in.text == f"fd-{consult}" and caller_in.attrib["endConferenceOnExit"] == "true"
    assert (api2, data2) == (f"calls({agent}).update", {"Status": "completed"})
    # From now on the caller's leg reports under the consult, and commands on the consult reach it.
    assert (await telephony.call_doc(CALLER))["contact"] == consult
    await telephony.book.put("conference", f"fd-{consult}", {"sid": CONSULT_CONF})
    http.clear()
    await telephony.hold(consult)
    await telephony.hangup(consult)
    assert [api for api, _ in http.calls()] == [
        f"conferences({CONSULT_CONF}).participants({CALLER}).update",
        f"calls({CALLER}).update",
    ]
    assert specialist


async def test_a_warm_handover_cancelled(tel: tuple[TwilioTelephony, RecordingHttp]) -> None:
    telephony, http = tel
    agent, specialist, consult = await warm_handover(telephony, http)
    http.clear()
    await telephony.cancel_consult(CALLER, consult)
    await telephony.cancel_consult(CALLER, consult)  # again: nothing more
    await telephony.resume(CALLER)
    (api1, data1), (api2, data2), (api3, data3) = http.calls()
    assert (api1, data1) == (f"calls({specialist}).update", {"Status": "completed"})
    assert api2 == f"calls({agent}).update"
    back = conference_in(str(data2["Twiml"]))
    assert back.text == f"fd-{CALLER}" and back.attrib["startConferenceOnEnter"] == "true"
    assert (api3, data3) == (f"conferences({CONF}).participants({CALLER}).update", {"Hold": "false"})


async def test_the_first_agent_leaving_before_a_specialist_answers(
    tel: tuple[TwilioTelephony, RecordingHttp],
) -> None:
    telephony, http = tel
    agent = await answered(telephony, http, CALLER, "agent14")
    consult = f"{CALLER}.h1"
    await telephony.open_consult(CALLER, consult, "agent14", "amh_spa")
    http.clear()
    await telephony.hangup(CALLER)  # the caller stays, held: only the agent's leg goes
    await telephony.complete_transfer(CALLER, consult, "agent14", None)
    (api1, data1), (api2, data2) = http.calls()
    assert (api1, data1) == (f"calls({agent}).update", {"Status": "completed"})
    assert api2 == f"calls({CALLER}).update"
    waiting = conference_in(str(data2["Twiml"]))
    assert waiting.text == f"fd-{consult}" and waiting.attrib["startConferenceOnEnter"] == "false"
    assert waiting.attrib["waitUrl"] == f"{BASE}/twilio/hold?contact={consult}&turn=0"


async def test_supervisor_listen_and_coach(tel: tuple[TwilioTelephony, RecordingHttp]) -> None:
    telephony, http = tel
    with pytest.raises(Conflict):
        await telephony.listen(CALLER, "supervisor01")
    agent = await ringing(telephony, http, CALLER, "agent14")
    await telephony.connect(CALLER, "agent14")
    http.clear()
    await telephony.listen(CALLER, "supervisor01")
    await telephony.listen(CALLER, "supervisor01", coach=True)
    (api1, listen), (api2, coach) = http.calls()
    assert api1 == api2 == f"conferences({CONF}).participants.create"
    assert listen["To"] == "client:supervisor01" and listen["Muted"] == "true" and "Coaching" not in listen
    assert coach["Muted"] == "false" and coach["Coaching"] == "true" and coach["CallSidToCoach"] == agent


async def test_the_adapter_needs_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    complete = {
        "telephony": "twilio",
        "public_base_url": BASE,
        "twilio_auth_token": "x",
        "twilio_account_sid": "AC" + "0" * 32,
        "twilio_caller_id": CALLER_ID,
        "twilio_fallback_number": "+441164960999",
    }
    for missing in [name for name in complete if name != "telephony"]:
        settings = load_settings(None, **{k: v for k, v in complete.items() if k != missing})
        with pytest.raises(ConfigError) as refused:
            create_telephony(settings, ManualClock(), None)
        assert missing in str(refused.value)
    monkeypatch.setenv("FRONTDOOR_TWILIO_AGENT_PHONES", '{"agent01": "+447700900001"}')
    telephony = create_telephony(load_settings(None, **complete), ManualClock(), None)
    assert isinstance(telephony, TwilioTelephony) and telephony.endpoints == {"agent01": "+447700900001"}
    await telephony.stop()  # closes the REST client's HTTP session


async def test_the_caller_gone_during_a_consult(tel: tuple[TwilioTelephony, RecordingHttp]) -> None:
    telephony, http = tel
    agent, specialist, consult = await warm_handover(telephony, http)
    await telephony.set_call(CALLER, ended=True)  # their hang-up, from the status callback
    http.clear()
    await telephony.cancel_consult(CALLER, consult)
    assert http.calls() == [
        (f"calls({specialist}).update", {"Status": "completed"}),
        (f"calls({agent}).update", {"Status": "completed"}),
    ]
