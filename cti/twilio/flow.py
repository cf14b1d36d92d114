"""What Twilio's webhooks ask of Frontdoor: the IVR step by step, the caller into the queue, agents'
legs answered, call and conference status callbacks, the hold loop.

Each answer is TwiML text. Every handler is safe to repeat: a repeated incoming call or gather gets
the TwiML already given (the gather URL carries its step number), a status callback that is
duplicated, late or out of order changes nothing (a leg ends once; ``SequenceNumber`` only rises).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from twilio.twiml.voice_response import VoiceResponse

from cti.domain.errors import Conflict, FrontdoorError, NotFound
from cti.domain.states import ContactState
from cti.telephony.port import InboundCall
from cti.twilio.adapter import TwilioTelephony
from cti.twilio.book import Doc
from cti.twilio.twiml import (
    dial_conference,
    dial_number,
    gather,
    gone_page,
    hold_page,
    prompts,
    to_person,
    twiml,
)
from ivr.actions import (
    Action,
    CallbackRequested,
    CallerInput,
    CallStart,
    Digits,
    Enqueue,
    Gather,
    Hangup,
    Say,
    SelfServiceDone,
    TransferOut,
)
from ivr.engine import IvrEngine
from ivr.waiting import hold_actions

if TYPE_CHECKING:
    from cti.wiring import Services

log = structlog.get_logger(__name__)

ENDED = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
ANSWERED = frozenset({"answered", "in-progress"})
NO_LONGER_WAITING = "This call is no longer waiting for you. Goodbye."
PLEASE_HOLD = Say("Thank you for waiting. Please stay on the line.")


class TwilioFlow:
    def __init__(self, services: Services, telephony: TwilioTelephony, fallback_number: str) -> None:
        self.services = services
        self.tel = telephony
        self.urls = telephony.urls
        self.book = telephony.book
        self.fallback_number = fallback_number

    @property
    def engine(self) -> IvrEngine:
        engine = self.services.extras.get("ivr")
        if not isinstance(engine, IvrEngine):
            raise Conflict("the IVR is not running", error_id="ivr_not_running")
        return engine

    # --- the IVR ---------------------------------------------------------------------------------
    async def incoming(self, sid: str, cli: str | None, dialled: str) -> str:
        known = await self.tel.call_doc(sid)
        if known.get("twiml"):
            return str(known["twiml"])  # Twilio asked again: the same answer
        await self.tel.set_call(sid, role="caller", cli=cli, dialled=dialled, step=0)
        try:
            state, actions = await self.engine.start(CallStart(call_id=sid, cli=cli, dialled=dialled))
        except Exception:
            return await self._to_person(sid, "start")
        log.info("twilio.call_started", call=sid, withheld=cli is None)
        return await self._step(sid, state, actions, 0)

    async def gathered(self, sid: str, step: int, event: CallerInput) -> str:
        doc = await self.tel.call_doc(sid)
        if doc.get("role") != "caller" or "ivr" not in doc:
            raise NotFound("no such call in the phone menu", error_id="twilio_unknown_call")
        if doc.get("ended"):
            return twiml(gone_page("Goodbye."))
        if doc.get("step") != step or not await self.book.once("gather", f"{sid}:{step}"):
            return str(doc["twiml"])  # a repeated or stale gather: the answer already given
        if isinstance(event, Digits) and doc.get("finish") and event.digits == doc["finish"]:
            event = Digits("")  # only the finishing key: Twilio may send the key itself
        try:
            state, actions = await self.engine.handle(doc["ivr"], event)
        except Exception:
            return await self._to_person(sid, "handle")
        return await self._step(sid, state, actions, step)

    async def _to_person(self, sid: str, where: str) -> str:
        """The IVR failed (a bug, a flow changed under a call, no engine): a person, not an error tone."""
        log.exception("twilio.ivr_failed", call=sid, step=where)
        text = twiml(to_person(VoiceResponse(), self.fallback_number))
        await self.tel.set_call(sid, released=True, twiml=text, step=-1)  # a retry gets the same
        return text

    async def _step(self, sid: str, state: Any, actions: list[Action], step: int) -> str:
        last: Action = actions[-1] if actions else Hangup()
        response = prompts(VoiceResponse(), actions[:-1] if actions else [])
        finish = None
        if isinstance(last, Gather):
            gather(response, last, self.urls.gather(step + 1))
            finish = last.finish_on_key
        else:
            prompts(response, [last])
            await self._terminal(sid, last, response)
        text = twiml(response)
        await self.tel.set_call(sid, ivr=state, step=step + 1, twiml=text, finish=finish)
        return text

    async def _terminal(self, sid: str, action: Action, response: VoiceResponse) -> None:
        leg = await self.tel.call_doc(sid)
        if isinstance(action, Enqueue):
            call = InboundCall(
                call_id=sid,
                cli=leg.get("cli"),
                dialled=str(leg.get("dialled", "")),
                queue=action.queue,
                caller_type=action.caller_type,
                ivr=dict(action.choices),
                nhs_number=action.nhs_number,
                priority=action.priority,
            )
            await self._arrive(sid, call, response)
        elif isinstance(action, CallbackRequested):
            call = InboundCall(
                call_id=sid,
                cli=leg.get("cli"),
                dialled=str(leg.get("dialled", "")),
                queue=action.queue,
                caller_type=action.caller_type,
                ivr={**action.choices, "callback": action.number},
            )
            await self.tel.set_contact(sid, caller=None, callback=action.number, phase="callback")
            await self.tel.set_call(sid, contact=sid, released=True)
            try:
                await self.tel.handler.call_arrived(call)
            except FrontdoorError as exc:
                log.warning("twilio.callback_refused", call=sid, error_id=exc.error_id)
                to_person(response, self.fallback_number)
                return
            response.hangup()
        elif isinstance(action, TransferOut):
            await self.tel.set_call(sid, released=True)
            dial_number(response, action.number)
        else:  # SelfServiceDone (the engine recorded it) or Hangup
            await self.tel.set_call(sid, released=True)
            if isinstance(action, SelfServiceDone):
                log.info("twilio.self_service", call=sid, reason=action.reason)
            response.hangup()

    async def _arrive(self, sid: str, call: InboundCall, response: VoiceResponse) -> None:
        await self.tel.set_contact(sid, caller=sid, phase="arriving")
        await self.tel.set_call(sid, contact=sid)
        try:
            placement = await self.tel.handler.call_arrived(call)
        except FrontdoorError as exc:
            # Whatever the domain refused, the caller still reaches a person.
            log.warning("twilio.enqueue_refused", call=sid, error_id=exc.error_id)
            await self.tel.set_call(sid, released=True)
            to_person(response, self.fallback_number)
            return
        transfer_to = getattr(placement, "transfer_to", None)
        if transfer_to:
            await self.tel.set_call(sid, released=True)
            await self.tel.set_contact(sid, phase="transferred")
            dial_number(response, str(transfer_to))
            return
        await self.tel.set_contact(sid, phase="queued")
        dial_conference(response, self.urls, sid, caller=True)
        if (await self.tel.call_doc(sid)).get("ended"):
            await self.tel.handler.caller_hung_up(sid)  # hung up while being queued

    # --- waiting -----------------------------------------------------------------------------------
    async def hold(self, contact: str, turn: int) -> str:
        try:
            actions = await hold_actions(self.services, contact, turn)
        except Exception:
            log.exception("twilio.hold_actions_failed", contact=contact, turn=turn)
            actions = [PLEASE_HOLD]
        return twiml(hold_page(actions, self.urls.hold(contact, turn + 1)))

    # --- agents' legs ------------------------------------------------------------------------------
    async def agent_answered(self, sid: str, contact_id: str, agent: str) -> str:
        leg = await self.tel.call_doc(sid)
        if leg.get("agent") != agent or leg.get("contact") != contact_id:
            raise NotFound("no such agent leg", error_id="twilio_unknown_call")
        await self.tel.set_call(sid, answered=True)
        doc = await self.tel.contact_doc(contact_id)
        if doc.get("connected") != agent:
            await self._accept_by_phone(contact_id, agent)
            doc = await self.tel.contact_doc(contact_id)
        if doc.get("connected") != agent or leg.get("released"):
            await self.tel.set_call(sid, released=True)
            return twiml(gone_page(NO_LONGER_WAITING))
        log.info("twilio.agent_joined", contact=contact_id, agent=agent)
        return twiml(dial_conference(VoiceResponse(), self.urls, contact_id, caller=False))

    async def _accept_by_phone(self, contact_id: str, agent: str) -> None:
        """Answering the phone accepts the offer (as accepting on the desktop would)."""
        try:
            contact = await self.services.store.get_contact(contact_id)
            if contact.state is ContactState.OFFERED and contact.agent_id == agent and contact.offer_id:
                await self.services.calls.accept(agent, contact.offer_id)
        except FrontdoorError as exc:
            log.info("twilio.accept_by_phone_lost", contact=contact_id, agent=agent, error_id=exc.error_id)

    async def callback_answered(self, sid: str, contact_id: str) -> str:
        leg = await self.tel.call_doc(sid)
        if leg.get("contact") != contact_id or leg.get("role") != "caller":
            raise NotFound("no such call", error_id="twilio_unknown_call")
        await self.tel.set_call(sid, answered=True)
        return twiml(dial_conference(VoiceResponse(), self.urls, contact_id, caller=True))

    # --- status callbacks --------------------------------------------------------------------------
    async def call_status(self, sid: str, status: str, seq: int | None) -> None:
        ended_now = False

        def change(doc: Doc | None) -> Doc | None:
            nonlocal ended_now
            ended_now = False
            current = doc or {"role": "unknown"}
            if current.get("ended"):
                return None  # over: late and repeated callbacks change nothing
            if seq is not None and seq <= int(current.get("seq", -1)):
                return None  # out of order
            new = {**current, "status": status}
            if seq is not None:
                new["seq"] = seq
            if status in ANSWERED:
                new["answered"] = True
            if status in ENDED:
                new["ended"] = True
                ended_now = True
            return new

        leg = await self.book.update("call", sid, change) or {}
        if not ended_now or leg.get("released"):
            return
        role, contact = leg.get("role"), leg.get("contact")
        if role == "caller" and not contact and isinstance(leg.get("ivr"), dict):
            log.info("twilio.caller_hung_up_in_ivr", call=sid, status=status)
            engine = self.services.extras.get("ivr")
            if isinstance(engine, IvrEngine):
                await engine.hung_up(leg["ivr"])  # recorded once, with the path so far
            return
        if role == "caller":
            log.info("twilio.caller_hung_up", call=sid, contact=contact, status=status)
            await self.tel.handler.caller_hung_up(str(contact or sid))
        elif role == "agent" and contact and leg.get("answered"):
            await self._agent_hung_up(str(contact), str(leg.get("agent")))

    async def _agent_hung_up(self, contact_id: str, agent: str) -> None:
        """The agent put the phone down mid-call: the same as ending the call on the desktop."""
        doc = await self.tel.contact_doc(contact_id)
        if doc.get("connected") != agent:
            return
        try:
            contact = await self.services.store.get_contact(contact_id)
            if contact.agent_id == agent and contact.state in (ContactState.CONNECTED, ContactState.HELD):
                await self.services.calls.hangup(agent, contact_id)
        except FrontdoorError as exc:
            log.info("twilio.agent_hangup_ignored", contact=contact_id, error_id=exc.error_id)

    async def conference_status(self, name: str, conference_sid: str, event: str) -> None:
        if not name.startswith("fd-"):
            return
        ended = event == "conference-end"

        def change(doc: Doc | None) -> Doc | None:
            if doc and doc.get("sid") == conference_sid and (doc.get("ended") or not ended):
                return None  # known already, or a late callback of a conference that has ended
            return {"sid": conference_sid, "ended": ended}

        await self.book.update("conference", name, change)
