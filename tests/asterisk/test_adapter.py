"""The Asterisk adapter with Frontdoor's real services (memory store, SQLite records, the IVR engine)
against the test AMI server over TCP: a whole call, hold, a warm handover, hang-ups, and a disconnect."""

from __future__ import annotations

from typing import Any

from cti.asterisk.testing import AmiTestServer, Channel
from cti.domain.states import AgentStatus, ContactState
from ivr.actions import Action, CallbackRequested, CallerInput, CallStart, Hangup, Say
from tests.asterisk.conftest import CALLER, CITY_SPOC_LINE, Rig
from tests.conftest import until


def agent_leg(pbx: AmiTestServer, agent: str) -> Channel:
    return next(c for c in pbx.channels.values() if c.name.startswith(f"Local/{agent}@frontdoor-agents"))


def has_leg(pbx: AmiTestServer, agent: str) -> bool:
    return any(c.name.startswith(f"Local/{agent}@frontdoor-agents") for c in pbx.channels.values())


def together(pbx: AmiTestServer, one: Channel, two: Channel) -> bool:
    return bool(one.bridge) and one.bridge == two.bridge


async def caller_queued(rig: Rig) -> tuple[Channel, str]:
    """A caller dials the legacy ASC line, picks English, and waits in asc_triage."""
    caller = await rig.pbx.caller_dials(CITY_SPOC_LINE, CALLER, 'Mary "Mo" O\u2019Brien')
    call_id = f"ast-{caller.uniqueid}"
    await until(lambda: any(c.startswith("WAIT FOR DIGIT") for c in caller.agi_commands), message="menu")
    await rig.pbx.press(caller.uniqueid, "1")

    async def queued() -> bool:
        try:
            state = (await rig.services.store.get_contact(call_id)).state
            return state in (ContactState.QUEUED, ContactState.OFFERED)
        except Exception:
            return False

    await until(queued, message="contact queued")
    await until(lambda: any(c.startswith("EXEC MusicOnHold") for c in caller.agi_commands), message="MOH")
    assert caller.variables["FRONTDOOR_CALL"] == call_id
    return caller, call_id


async def offer_answered(rig: Rig, call_id: str, agent: str) -> Channel:
    await until(lambda: has_leg(rig.pbx, agent), message=f"{agent}'s phone rings")
    leg = agent_leg(rig.pbx, agent)
    assert leg.variables == {"FRONTDOOR_CALL": call_id, "FRONTDOOR_AGENT": agent}
    await rig.pbx.answer(leg.uniqueid)
    offer_id = (await rig.services.store.get_agent(agent)).offer_id
    assert offer_id is not None
    await rig.services.calls.accept(agent, offer_id)
    return leg


async def test_whole_call_ivr_offer_answer_hold_handover_hangup(rig: Rig) -> None:
    pbx, calls, telephony = rig.pbx, rig.services.calls, rig.telephony
    await rig.services.router.set_status("agent01", AgentStatus.AVAILABLE)
    caller, call_id = await caller_queued(rig)
    # The IVR spoke through recorded prompts and asked with an interruptible prompt, then waited for a key.
    assert caller.agi_commands[0].startswith("STREAM FILE frontdoor/en-GB/")
    assert any(c.endswith('"0123456789*#"') for c in caller.agi_commands)

    leg = await offer_answered(rig, call_id, "agent01")
    await until(lambda: together(pbx, caller, leg), message="caller and agent bridged")
    assert not caller.agi  # the Bridge took the caller out of the AGI

    await calls.hold("agent01", call_id)
    await until(lambda: caller.context == "frontdoor-park" and caller.agi, message="caller parked")
    assert leg.context == "frontdoor-agent" and not leg.bridge
    await calls.resume("agent01", call_id)
    await until(lambda: together(pbx, caller, leg), message="bridged again")

    # Warm handover, told to the port the way cti.handover does.
    consult_id = f"{call_id}.h1"
    await telephony.open_consult(call_id, consult_id, "agent01", "asc_triage")
    await until(lambda: caller.context == "frontdoor-park", message="caller held for the consult")
    await telephony.ring(consult_id, "specialist01")
    await until(lambda: has_leg(pbx, "specialist01"), message="specialist rung")
    specialist = agent_leg(pbx, "specialist01")
    await pbx.answer(specialist.uniqueid)
    await telephony.connect(consult_id, "specialist01")
    await telephony.consult(call_id, consult_id, "agent01", "specialist01")
    await until(lambda: together(pbx, leg, specialist), message="agent briefs the specialist")
    assert caller.agi and not caller.bridge  # the caller hears music meanwhile
    await telephony.complete_transfer(call_id, consult_id, "agent01", "specialist01")
    await until(lambda: together(pbx, caller, specialist), message="caller with the specialist")
    await until(lambda: leg.uniqueid not in pbx.channels, message="first agent's phone released")
    await telephony.complete_transfer(call_id, consult_id, "agent01", "specialist01")  # again: no-op
    assert together(pbx, caller, specialist)

    # The caller hangs up: reported under the consult call's id, and the specialist's phone is released.
    reported: list[str] = []
    original = calls.caller_hung_up

    async def spy(cid: str) -> None:
        reported.append(cid)
        await original(cid)

    calls.caller_hung_up = spy  # type: ignore[method-assign]
    await pbx.hang_up(caller.uniqueid)
    await until(lambda: reported == [consult_id], message="hang-up reported once")
    await until(lambda: specialist.uniqueid not in pbx.channels, message="specialist released")


async def test_cancelled_consult_returns_the_caller_to_the_agent(rig: Rig) -> None:
    pbx, calls, telephony = rig.pbx, rig.services.calls, rig.telephony
    await rig.services.router.set_status("agent01", AgentStatus.AVAILABLE)
    caller, call_id = await caller_queued(rig)
    leg = await offer_answered(rig, call_id, "agent01")
    await until(lambda: together(pbx, caller, leg), message="bridged")
    consult_id = f"{call_id}.h1"
    await telephony.open_consult(call_id, consult_id, "agent01", "asc_triage")
    await telephony.ring(consult_id, "specialist02")
    await until(lambda: has_leg(pbx, "specialist02"), message="specialist rung")
    await telephony.cancel_consult(call_id, consult_id)
    await until(lambda: not has_leg(pbx, "specialist02"), message="specialist's phone stops")
    await telephony.resume(call_id)
    await until(lambda: together(pbx, caller, leg), message="back with the first agent")
    # The agent ends the call: both legs go, and the contact goes to wrap-up.
    await calls.hangup("agent01", call_id)
    await until(lambda: not pbx.channels, message="all channels gone")
    assert (await rig.services.store.get_contact(call_id)).state is ContactState.WRAP_UP


async def test_caller_hangs_up_while_the_agent_is_rung(rig: Rig) -> None:
    pbx = rig.pbx
    await rig.services.router.set_status("agent01", AgentStatus.AVAILABLE)
    caller, call_id = await caller_queued(rig)
    await until(lambda: has_leg(pbx, "agent01"), message="ringing")
    await pbx.hang_up(caller.uniqueid)
    await until(lambda: not pbx.channels, message="the agent's phone stops ringing too")
    contact = await rig.services.store.get_contact(call_id)
    assert contact.state is ContactState.ABANDONED


async def test_disconnect_mid_call_resync_restores_without_duplicates(rig: Rig) -> None:
    pbx, telephony = rig.pbx, rig.telephony
    await rig.services.router.set_status("agent01", AgentStatus.AVAILABLE)
    caller, call_id = await caller_queued(rig)
    leg = await offer_answered(rig, call_id, "agent01")
    await until(lambda: together(pbx, caller, leg), message="bridged")
    waiting, waiting_id = await caller_queued(rig)  # a second caller, waiting (no agent free)

    # The AMI connection drops; meanwhile the waiting caller hangs up (AMI never replays that).
    arrived = len([m for m in pbx.actions if m.get("Action") == "Setvar"])
    pbx.admitting.clear()  # the client cannot get back in until the caller has gone
    await pbx.drop_connections()
    await until(lambda: not telephony.client.connected, timeout=15, message="client notices")
    await pbx.hang_up(waiting.uniqueid)
    pbx.admitting.set()
    await until(
        lambda: telephony.client.connected and telephony.client.generation == 2,
        timeout=15,
        message="resynced",
    )
    await telephony.client.drained()
    assert (await rig.services.store.get_contact(waiting_id)).state is ContactState.ABANDONED
    assert (await rig.services.store.get_contact(call_id)).state is ContactState.CONNECTED

    # A fresh adapter (a restart) re-adopts the live call and the agent's leg from the channel variables.
    telephony.calls.clear()
    telephony._by_uid.clear()
    telephony._legs.clear()
    await pbx.drop_connections()
    await until(
        lambda: telephony.client.generation == 3 and telephony.client.connected,
        timeout=15,
        message="3rd login",
    )
    await telephony.client.drained()
    assert set(telephony.calls) == {call_id}
    assert telephony.calls[call_id].agent == "agent01"
    assert set(telephony.calls[call_id].legs) == {"agent01"}
    # No call reached the domain twice.
    assert len([m for m in pbx.actions if m.get("Action") == "Setvar"]) == arrived
    await rig.services.calls.hangup("agent01", call_id)
    await until(lambda: not pbx.channels, message="the agent can still end the re-adopted call")


class CallbackIvr:
    """An IVR that offers every caller a call back (the real flows reach it through menus)."""

    async def start(self, call: CallStart) -> tuple[dict[str, Any], list[Action]]:
        return {}, [Say("We will call you back."), CallbackRequested("asc_triage", "+447700900123")]

    async def handle(self, state: dict[str, Any], event: CallerInput) -> tuple[dict[str, Any], list[Action]]:
        return state, [Hangup()]


async def test_callback_keeps_the_place_and_dials_the_caller_when_the_agent_answers(rig: Rig) -> None:
    pbx, telephony = rig.pbx, rig.telephony
    telephony.attach_ivr(CallbackIvr())
    caller = await pbx.caller_dials(CITY_SPOC_LINE, CALLER)
    call_id = f"ast-{caller.uniqueid}"
    await until(lambda: caller.uniqueid not in pbx.channels, message="the caller is let go")
    await telephony.client.drained()
    contact = await rig.services.store.get_contact(call_id)
    assert contact.state is ContactState.QUEUED  # not abandoned: the place is kept
    assert contact.attrs["ivr"]["callback"] == "+447700900123"
    await rig.services.router.set_status("agent01", AgentStatus.AVAILABLE)
    leg = await offer_answered(rig, call_id, "agent01")
    await until(
        lambda: any(c.name.startswith("Local/+447700900123@frontdoor-out") for c in pbx.channels.values())
    )
    callee = next(c for c in pbx.channels.values() if c.name.startswith("Local/+447700900123@frontdoor-out"))
    await pbx.answer(callee.uniqueid)
    await until(lambda: together(pbx, callee, leg), message="agent and called-back caller talk")
    await pbx.hang_up(callee.uniqueid)
    await until(lambda: not pbx.channels, message="the agent's phone is released")
    assert (await rig.services.store.get_contact(call_id)).state is ContactState.WRAP_UP


async def test_missing_recordings_are_skipped_and_the_caller_still_reaches_an_agent(rig: Rig) -> None:
    rig.pbx.sounds = set()  # not one prompt recorded yet
    await rig.services.router.set_status("agent01", AgentStatus.AVAILABLE)
    caller, call_id = await caller_queued(rig)
    leg = await offer_answered(rig, call_id, "agent01")
    await until(lambda: together(rig.pbx, caller, leg), message="bridged despite the silence")


async def test_warm_handover_through_the_handover_service(rig: Rig) -> None:
    """The real cti.handover drives the adapter: request, specialist rung and answers, consult, complete."""
    from cti import handover
    from cti.handover.model import Note

    pbx, services = rig.pbx, rig.services
    service = handover.build(services)
    await service.start()
    follower = handover.HandoverFollower(services.bus, service)
    await follower.start()
    try:
        await services.router.set_status("agent01", AgentStatus.AVAILABLE)
        caller, call_id = await caller_queued(rig)
        leg = await offer_answered(rig, call_id, "agent01")
        await until(lambda: together(pbx, caller, leg), message="caller with agent01")
        await services.router.set_status("specialist01", AgentStatus.AVAILABLE)
        await services.calls.hold("agent01", call_id)
        request = await service.request(
            "agent01",
            call_id,
            Note(reason="Carer breakdown (illustrative)"),
            target=None,
            worker="specialist01",
        )
        consult_id = request.consult_contact_id
        specialist = await offer_answered(rig, consult_id, "specialist01")
        await until(lambda: together(pbx, leg, specialist), message="agent01 briefs specialist01")
        assert caller.context == "frontdoor-park" and not caller.bridge
        await service.complete("agent01", "agent", request.id)
        await until(lambda: together(pbx, caller, specialist), message="caller with specialist01")
        await until(lambda: leg.uniqueid not in pbx.channels, message="agent01's phone released")
        await pbx.hang_up(caller.uniqueid)
        await until(lambda: not pbx.channels, message="everyone's phone released")

        async def wrapped() -> bool:
            return (await services.store.get_contact(consult_id)).state is ContactState.WRAP_UP

        await until(wrapped, message="the specialist's contact goes to wrap-up")
    finally:
        await follower.stop()
        await service.stop()


async def test_transfer_out_withheld_caller_and_dtmf(rig: Rig) -> None:
    pbx, telephony = rig.pbx, rig.telephony
    caller = await pbx.caller_dials(CITY_SPOC_LINE, "", "")  # number withheld
    call_id = f"ast-{caller.uniqueid}"
    await until(lambda: call_id in telephony.calls, message="call tracked")
    assert telephony.calls[call_id].cli is None
    await telephony.send_dtmf(call_id, "1#x")
    assert [m["Digit"] for m in pbx.actions if m.get("Action") == "PlayDTMF"] == ["1", "#"]
    await telephony.transfer_out(call_id, "+44 116 496 0999; Dial(evil)")
    await until(lambda: caller.context == "frontdoor-out", message="sent out through the dialplan")
    assert caller.exten == "+441164960999"  # only dialable characters reach the dialplan
    assert not caller.agi


async def test_a_call_before_the_ivr_is_attached_waits_for_it(rig: Rig) -> None:
    engine = rig.telephony.ivr
    rig.telephony.attach_ivr(None)  # as between the AMI login and the app's start hooks
    caller = await rig.pbx.caller_dials(CITY_SPOC_LINE, CALLER)
    await until(lambda: f"ast-{caller.uniqueid}" in rig.telephony.calls, message="call tracked")
    assert caller.agi_commands == [] and caller.uniqueid in rig.pbx.channels
    rig.telephony.attach_ivr(engine)
    await until(lambda: any(c.startswith("WAIT FOR DIGIT") for c in caller.agi_commands), message="IVR runs")
