"""Whole calls through the real app, as Twilio makes them: the shipped front-door flow on the real IVR
engine, the caller queued in a conference, the agent's phone rung and answered, a warm handover
completed or cancelled, hang-ups. Every webhook is signed; every REST call Twilio would get is
asserted as the twilio library sent it."""

from __future__ import annotations

from typing import Any

from cti.domain.states import ContactState
from tests.conftest import until
from tests.twilio.conftest import BASE, CALLER_ID, FRONT_DOOR, PHONES, Twilio, Twiml, path_of

CALLER_NUMBER = "+447700900555"
AGENT = "agent14"
SPECIALIST = "specialist04"
NOTE = {
    "reason": "low mood, wants to talk to a practitioner today",
    "triage_outcome": "amh_same_day",
    "risk_flags": ["self_harm_history"],
    "told_caller": "a practitioner will join us in a moment",
    "free_text": "Illustrative test note.",
}
AMH_KEYS = ["1", "2", "3"]  # English; member of the public; mental health (queue amh_spa)
sids = iter(f"CA{n:032x}" for n in range(0xF00000, 0xFFFFFF))


async def dial(tw: Twilio, keys: list[str], dialled: str = FRONT_DOOR) -> tuple[str, Twiml]:
    """A caller dials and presses ``keys`` at successive menus; their CallSid and the last TwiML."""
    sid = next(sids)
    page = await tw.twiml("/twilio/voice", {"CallSid": sid, "From": CALLER_NUMBER, "To": dialled})
    for key in keys:
        page = await tw.twiml(page.gather_url(), {"CallSid": sid, "Digits": key})
    return sid, page


async def queued(tw: Twilio) -> tuple[str, Twiml]:
    sid, page = await dial(tw, AMH_KEYS)
    conference = page.conference()
    assert conference.text == f"fd-{sid}"
    assert conference.attrib["startConferenceOnEnter"] == "false"
    assert conference.attrib["endConferenceOnExit"] == "true"
    assert conference.attrib["waitUrl"] == f"{BASE}/twilio/hold?contact={sid}&turn=0"
    await tw.conference_event(sid, "participant-join")
    return sid, page


async def login_available(tw: Twilio, username: str) -> dict[str, str]:
    headers = await tw.r.login(username)
    resp = await tw.r.client.put("/api/agents/me/status", json={"status": "available"}, headers=headers)
    assert resp.status_code == 200, resp.text
    return headers


async def contact_state(tw: Twilio, contact: str) -> ContactState:
    return (await tw.r.services.store.get_contact(contact)).state


async def answer_phone(tw: Twilio, username: str, nth: int = 1) -> tuple[str, Twiml]:
    """The agent's phone rings (a call to it is created) and they pick it up."""
    leg = await tw.wait_for_leg(PHONES[username], nth)
    assert leg["From"] == CALLER_ID and leg["StatusCallback"] == f"{BASE}/twilio/status"
    await tw.status(leg["sid"], "ringing", 1)
    page = await tw.twiml(path_of(leg["Url"]), {"CallSid": leg["sid"], "CallStatus": "in-progress"})
    return str(leg["sid"]), page


def api_calls(tw: Twilio) -> list[str]:
    return [api for api, _ in tw.http.calls()]


async def test_a_call_through_the_ivr_to_an_agent_and_back(twilio_any: Twilio) -> None:
    tw = twilio_any
    agent = await login_available(tw, AGENT)
    sid, _ = await queued(tw)
    # Answering the phone accepts the offer and joins the caller's conference.
    leg, page = await answer_phone(tw, AGENT)
    joined = page.conference()
    assert joined.text == f"fd-{sid}" and joined.attrib["startConferenceOnEnter"] == "true"
    assert joined.attrib["endConferenceOnExit"] == "false"
    assert await contact_state(tw, sid) is ContactState.CONNECTED
    # Hold and resume from the desktop: participant hold on the caller's leg.
    conference = tw.http.conferences[f"fd-{sid}"]
    tw.http.clear()
    assert (await tw.r.client.post(f"/api/contacts/{sid}/hold", headers=agent)).status_code == 200
    assert (await tw.r.client.post(f"/api/contacts/{sid}/resume", headers=agent)).status_code == 200
    assert tw.http.calls() == [
        (
            f"conferences({conference}).participants({sid}).update",
            {"Hold": "true", "HoldUrl": f"{BASE}/twilio/held", "HoldMethod": "POST"},
        ),
        (f"conferences({conference}).participants({sid}).update", {"Hold": "false"}),
    ]
    # The agent ends the call: the caller's leg is hung up (the conference ends with it).
    tw.http.clear()
    assert (await tw.r.client.post(f"/api/contacts/{sid}/hangup", headers=agent)).status_code == 200
    assert tw.http.calls() == [(f"calls({sid}).update", {"Status": "completed"})]
    await tw.status(sid, "completed", 5)
    await tw.status(leg, "completed", 4)
    assert await contact_state(tw, sid) is ContactState.WRAP_UP


async def test_the_caller_hanging_up_while_the_agent_is_rung_cancels_the_offer(twilio_app: Twilio) -> None:
    tw = twilio_app
    agent = await login_available(tw, AGENT)
    sid, _ = await queued(tw)
    leg = await tw.wait_for_leg(PHONES[AGENT])
    await tw.status(leg["sid"], "ringing", 1)
    await tw.status(sid, "completed", 9)
    assert await contact_state(tw, sid) is ContactState.ABANDONED

    def cancelled() -> bool:
        return (f"calls({leg['sid']}).update", {"Status": "canceled"}) in tw.http.calls()

    await until(cancelled, message="the agent's phone stops ringing")
    me = (await tw.r.client.get("/api/agents/me", headers=agent)).json()
    assert me["offer"] is None
    # Picking up a phone for a caller who has gone: told so, never put through to silence.
    page = await tw.twiml(f"/twilio/agent?contact={sid}&agent={AGENT}", {"CallSid": leg["sid"]})
    assert page.find("Conference") is None and page.find("Hangup") is not None


async def test_status_callbacks_repeated_and_out_of_order_are_harmless(twilio_any: Twilio) -> None:
    tw = twilio_any
    sid, _ = await queued(tw)
    hung_up: list[str] = []
    calls = tw.r.services.calls
    original = calls.caller_hung_up

    async def counting(call_id: str) -> None:
        hung_up.append(call_id)
        await original(call_id)

    calls.caller_hung_up = counting  # type: ignore[method-assign]
    # While queued the caller hears their place on the first turn of the hold loop.
    first = await tw.twiml(f"/twilio/hold?contact={sid}&turn=0", {"CallSid": sid})
    assert first.said() == ["You are next in the queue."] and first.find("Pause") is not None
    await tw.status(sid, "in-progress", 2)
    await tw.status(sid, "completed", 4)
    await tw.status(sid, "completed", 4)  # repeated
    await tw.status(sid, "ringing", 1)  # late
    await tw.status(sid, "in-progress", 3)  # late
    await tw.status(sid, "completed", None)  # the number's own status callback, no sequence number
    assert hung_up == [sid]
    assert await contact_state(tw, sid) is ContactState.ABANDONED
    # A queued caller's hold loop: turn after turn, each with a way back for the next.
    page = await tw.twiml(f"/twilio/hold?contact={sid}&turn=3", {"CallSid": sid})
    redirect = page.find("Redirect")
    assert redirect is not None and redirect.text == f"{BASE}/twilio/hold?contact={sid}&turn=4"


async def handover(tw: Twilio, agent: dict[str, str], sid: str) -> tuple[str, str, dict[str, Any]]:
    """agent14 on the line with the caller asks for specialist04, who answers their phone."""
    resp = await tw.r.client.post(
        f"/api/contacts/{sid}/handover", json={"worker": SPECIALIST, "note": NOTE}, headers=agent
    )
    assert resp.status_code == 201, resp.text
    ho: dict[str, Any] = resp.json()
    consult = ho["consult_contact_id"]
    spec_leg, page = await answer_phone(tw, SPECIALIST)
    assert page.conference().text == f"fd-{consult}"

    async def consulting() -> bool:
        r = await tw.r.client.get(f"/api/handovers/{ho['id']}", headers=agent)
        return bool(r.json()["state"] == "consulting")

    await until(consulting, message="the consult")
    return consult, spec_leg, ho


async def connected_call(tw: Twilio, *, desktop_first: bool = False) -> tuple[dict[str, str], str, str]:
    """agent14 on the line with a caller; accepted on the desktop first, or by picking up the phone."""
    agent = await login_available(tw, AGENT)
    await login_available(tw, SPECIALIST)
    sid, _ = await queued(tw)
    if desktop_first:
        offer: dict[str, Any] = {}

        async def offered() -> bool:
            offer.update((await tw.r.client.get("/api/agents/me", headers=agent)).json()["offer"] or {})
            return bool(offer)

        await until(offered, message="the offer")
        resp = await tw.r.client.post(f"/api/offers/{offer['id']}/accept", headers=agent)
        assert resp.status_code == 200, resp.text
    agent_leg, page = await answer_phone(tw, AGENT)
    assert page.conference().text == f"fd-{sid}"
    assert await contact_state(tw, sid) is ContactState.CONNECTED
    return agent, sid, agent_leg


async def test_a_warm_handover_completed(twilio_any: Twilio) -> None:
    tw = twilio_any
    agent, sid, agent_leg = await connected_call(tw)
    conference = tw.http.conferences[f"fd-{sid}"]
    tw.http.clear()
    consult, spec_leg, ho = await handover(tw, agent, sid)
    calls = tw.http.calls()
    # The caller held; the specialist's phone rung; the first agent moved into the consult conference.
    assert calls[0] == (
        f"conferences({conference}).participants({sid}).update",
        {"Hold": "true", "HoldUrl": f"{BASE}/twilio/held", "HoldMethod": "POST"},
    )
    assert calls[1][0] == "calls.create" and calls[1][1]["To"] == PHONES[SPECIALIST]
    assert calls[2][0] == f"calls({agent_leg}).update"
    assert Twiml(str(calls[2][1]["Twiml"])).conference().text == f"fd-{consult}"
    tw.http.clear()
    resp = await tw.r.client.post(f"/api/handovers/{ho['id']}/complete", headers=agent)
    assert resp.status_code == 200, resp.text
    (move, data), (leave, left) = tw.http.calls()
    assert move == f"calls({sid}).update"
    caller_in = Twiml(str(data["Twiml"])).conference()
    assert caller_in.text == f"fd-{consult}" and caller_in.attrib["endConferenceOnExit"] == "true"
    assert (leave, left) == (f"calls({agent_leg}).update", {"Status": "completed"})
    await tw.status(agent_leg, "completed", 9)  # the first agent's leg ends: not a hang-up of anyone
    assert await contact_state(tw, consult) is ContactState.CONNECTED
    # The caller hangs up: reported under the consult, which the specialist now holds.
    await tw.status(sid, "completed", 9)
    assert await contact_state(tw, consult) is ContactState.WRAP_UP
    assert spec_leg


async def test_a_warm_handover_cancelled(twilio_app: Twilio) -> None:
    tw = twilio_app
    agent, sid, agent_leg = await connected_call(tw, desktop_first=True)
    conference = tw.http.conferences[f"fd-{sid}"]
    _consult, spec_leg, ho = await handover(tw, agent, sid)
    tw.http.clear()
    resp = await tw.r.client.post(f"/api/handovers/{ho['id']}/cancel", headers=agent)
    assert resp.status_code == 200, resp.text
    calls = tw.http.calls()
    assert (f"calls({spec_leg}).update", {"Status": "completed"}) in calls
    back = [Twiml(str(d["Twiml"])).conference() for api, d in calls if api == f"calls({agent_leg}).update"]
    assert [c.text for c in back] == [f"fd-{sid}"]
    assert calls[-1] == (f"conferences({conference}).participants({sid}).update", {"Hold": "false"})
    assert await contact_state(tw, sid) is ContactState.CONNECTED
    await tw.status(spec_leg, "completed", 9)
    assert await contact_state(tw, sid) is ContactState.CONNECTED


async def test_a_supervisor_listens_and_coaches(twilio_app: Twilio) -> None:
    tw = twilio_app
    agent, sid, agent_leg = await connected_call(tw)
    conference = tw.http.conferences[f"fd-{sid}"]
    sup = await tw.r.login("supervisor01")
    path = f"/api/twilio/contacts/{sid}/listen"
    denied = await tw.r.client.post(path, json={"mode": "listen"}, headers=agent)
    assert denied.status_code == 403 and denied.json()["error_id"] == "role_forbidden"
    assert (await tw.r.client.post(path, json={"mode": "listen"})).status_code == 401
    bad = await tw.r.client.post(path, json={"mode": "barge"}, headers=sup)
    assert bad.status_code == 422
    tw.http.clear()
    for mode in ("listen", "coach"):
        resp = await tw.r.client.post(path, json={"mode": mode}, headers=sup)
        assert resp.status_code == 201, resp.text
    (api1, listen), (api2, coach) = tw.http.calls()
    assert api1 == api2 == f"conferences({conference}).participants.create"
    assert listen["To"] == "client:supervisor01" and listen["Muted"] == "true"
    assert coach["Coaching"] == "true" and coach["CallSidToCoach"] == agent_leg
    gone = await tw.r.client.post("/api/twilio/contacts/nope/listen", json={}, headers=sup)
    assert gone.status_code == 409 and gone.json()["error_id"] == "contact_not_connected"


async def test_the_caller_hanging_up_during_the_consult(twilio_app: Twilio) -> None:
    tw = twilio_app
    agent, sid, agent_leg = await connected_call(tw)
    _consult, spec_leg, ho = await handover(tw, agent, sid)
    tw.http.clear()
    await tw.status(sid, "completed", 9)

    async def cancelled() -> bool:
        r = await tw.r.client.get(f"/api/handovers/{ho['id']}", headers=agent)
        return bool(r.json()["state"] == "cancelled")

    await until(cancelled, message="the handover cancelled")
    # Both phones are put down: nobody is left in a conference with no caller.
    assert sorted(tw.http.calls()) == sorted(
        [
            (f"calls({spec_leg}).update", {"Status": "completed"}),
            (f"calls({agent_leg}).update", {"Status": "completed"}),
        ]
    )
