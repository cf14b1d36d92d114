"""The Twilio telephony adapter: the domain's commands carried out with Twilio's REST API.

Every caller sits in a conference of their own (``fd-{contact}``), parked there while the router
decides; every agent's phone is an outbound leg that joins that conference when the agent answers.
So hold is participant hold, and a warm handover is a second conference (``fd-{consult}``):
- ``consult``: the first agent's leg moves into the consult conference, where the specialist is;
  the caller stays alone, held, in theirs;
- ``complete_transfer``: the caller's leg moves into the consult conference; the first agent's leg
  is hung up; from then on the caller's CallSid reports under the consult's contact id;
- ``cancel_consult``: the specialist's leg is hung up, the first agent's leg goes back to the caller.

State (``CallBook``) is shared by all nodes: ``call`` documents by CallSid, ``contact`` documents by
contact id, ``conference`` documents by conference name (their ConferenceSid, from the conference
status callbacks). Legs we end ourselves are marked ``released`` first, so their status callbacks
are not taken for a hang-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

import aiohttp
import structlog
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.twiml.voice_response import VoiceResponse

from cti.domain.errors import Conflict, FrontdoorError
from cti.telephony.port import CallHandler, Telephony
from cti.twilio.book import CallBook, Doc
from cti.twilio.twiml import Urls, conference_name, dial_conference, dial_number, twiml

log = structlog.get_logger(__name__)

T = TypeVar("T")
UNREACHABLE = (TwilioException, aiohttp.ClientError, TimeoutError, OSError)  # after TwilioRestException
AGENT_EVENTS = ["initiated", "ringing", "answered", "completed"]


def endpoint_for(endpoints: Mapping[str, str], agent: str) -> str:
    """An agent's phone: a number from the settings, else their Twilio Client identity (username)."""
    return endpoints.get(agent) or f"client:{agent}"


class TwilioTelephony(Telephony):
    name = "twilio"

    def __init__(
        self,
        rest: Any,  # twilio.rest.Client with an asynchronous HTTP client
        book: CallBook,
        urls: Urls,
        *,
        caller_id: str,
        endpoints: Mapping[str, str],
        ring_timeout_s: int = 20,
    ) -> None:
        self.rest = rest
        self.book = book
        self.urls = urls
        self.caller_id = caller_id
        self.endpoints = dict(endpoints)
        self.ring_timeout_s = ring_timeout_s
        self._handler: CallHandler | None = None

    # --- lifecycle -----------------------------------------------------------------------------
    async def start(self, handler: CallHandler) -> None:
        self._handler = handler

    async def stop(self) -> None:
        self._handler = None
        close = getattr(getattr(self.rest, "http_client", None), "close", None)
        if close is not None:
            result = close()
            if isinstance(result, Awaitable):
                await result
        await self.book.close()

    @property
    def handler(self) -> CallHandler:
        if self._handler is None:
            raise Conflict("the twilio adapter is not started", error_id="telephony_not_started")
        return self._handler

    # --- documents -----------------------------------------------------------------------------
    async def contact_doc(self, contact: str) -> Doc:
        return await self.book.get("contact", contact) or {}

    async def call_doc(self, sid: str) -> Doc:
        return await self.book.get("call", sid) or {}

    async def set_contact(self, contact: str, **fields: Any) -> Doc:
        def change(doc: Doc | None) -> Doc:
            return {**(doc or {"conference": conference_name(contact), "agents": {}}), **fields}

        return await self.book.update("contact", contact, change) or {}

    async def set_call(self, sid: str, **fields: Any) -> Doc:
        return await self.book.update("call", sid, lambda doc: {**(doc or {}), **fields}) or {}

    async def _rest(self, what: str, action: Awaitable[T]) -> T:
        try:
            return await action
        except TwilioRestException as exc:
            log.warning("twilio.rest_failed", command=what, status=exc.status, code=exc.code)
            raise Conflict("the phone provider refused the command", error_id="telephony_failed") from exc
        except UNREACHABLE as exc:
            log.warning("twilio.rest_unreachable", command=what, error=type(exc).__name__)
            raise Conflict("the phone provider cannot be reached", error_id="telephony_failed") from exc

    async def _end_leg(self, sid: str | None, what: str) -> None:
        """Hang up one of our legs (cancel it if it never answered); a leg already over is fine."""
        if not sid:
            return
        before = await self.call_doc(sid)
        if before.get("ended") or before.get("released"):
            return  # over, or already ended by us
        leg = await self.set_call(sid, released=True)
        status = "completed" if leg.get("answered") or leg.get("role") == "caller" else "canceled"
        try:
            await self.rest.calls(sid).update_async(status=status)
        except TwilioRestException as exc:
            log.info("twilio.leg_already_over", command=what, status=exc.status)
        except UNREACHABLE as exc:
            log.warning("twilio.rest_unreachable", command=what, error=type(exc).__name__)

    async def _redirect(self, sid: str, response: VoiceResponse, what: str) -> None:
        await self._rest(what, self.rest.calls(sid).update_async(twiml=twiml(response)))

    async def conference_sid(self, contact: str) -> str:
        name = conference_name(contact)
        known = await self.book.get("conference", name)
        if known and known.get("sid") and not known.get("ended"):
            return str(known["sid"])
        found = await self._rest(
            "find_conference",
            self.rest.conferences.list_async(friendly_name=name, status="in-progress", limit=1),
        )
        if not found:
            raise Conflict("the call's conference is not running", error_id="conference_not_found")
        sid = str(found[0].sid)
        await self.book.put("conference", name, {"sid": sid})
        return sid

    # --- offers --------------------------------------------------------------------------------
    async def ring(self, call_id: str, agent_id: str) -> None:
        doc = await self.contact_doc(call_id)
        if not doc:
            log.warning("twilio.ring_unknown_contact", contact=call_id, agent=agent_id)
            return
        call = await self._rest(
            "ring",
            self.rest.calls.create_async(
                to=endpoint_for(self.endpoints, agent_id),
                from_=self.caller_id,
                url=self.urls.agent(call_id, agent_id),
                method="POST",
                status_callback=self.urls.status(),
                status_callback_method="POST",
                status_callback_event=AGENT_EVENTS,
                timeout=self.ring_timeout_s,
            ),
        )
        sid = str(call.sid)
        await self.set_call(sid, role="agent", contact=call_id, agent=agent_id)

        def add_leg(found: Doc | None) -> Doc:
            current = found or {"conference": conference_name(call_id)}
            return {**current, "agents": {**current.get("agents", {}), agent_id: sid}}

        await self.book.update("contact", call_id, add_leg)
        log.info("twilio.ringing", contact=call_id, agent=agent_id)

    async def stop_ringing(self, call_id: str, agent_id: str) -> None:
        doc = await self.contact_doc(call_id)
        if doc.get("connected") == agent_id:
            return  # answered after all: the leg is the conversation now
        sid = doc.get("agents", {}).get(agent_id)
        await self._end_leg(sid, "stop_ringing")

    async def connect(self, call_id: str, agent_id: str) -> None:
        """The agent's leg joins when answered (``/twilio/agent``); a callback is dialled out now."""
        doc = await self.set_contact(call_id, connected=agent_id)
        if doc.get("caller") is None and doc.get("callback"):
            call = await self._rest(
                "call_back",
                self.rest.calls.create_async(
                    to=doc["callback"],
                    from_=self.caller_id,
                    url=self.urls.join(call_id),
                    method="POST",
                    status_callback=self.urls.status(),
                    status_callback_method="POST",
                    status_callback_event=AGENT_EVENTS,
                ),
            )
            await self.set_call(str(call.sid), role="caller", contact=call_id)
            await self.set_contact(call_id, caller=str(call.sid))

    def agent_leg(self, doc: Doc, agent: str | None) -> str | None:
        sid = doc.get("agents", {}).get(agent) if agent else None
        return str(sid) if sid else None

    # --- the call in hand ----------------------------------------------------------------------
    async def _participant(self, call_id: str, hold: bool) -> None:
        doc = await self.contact_doc(call_id)
        caller = doc.get("caller")
        if not caller or not doc.get("carries_caller", True):
            log.info("twilio.hold_without_caller", contact=call_id)
            return
        conference = await self.conference_sid(call_id)
        params: dict[str, Any] = {"hold": hold}
        if hold:
            params.update(hold_url=self.urls.held(), hold_method="POST")
        what = "hold" if hold else "resume"
        await self._rest(what, self.rest.conferences(conference).participants(caller).update_async(**params))

    async def hold(self, call_id: str) -> None:
        await self._participant(call_id, True)

    async def resume(self, call_id: str) -> None:
        await self._participant(call_id, False)

    async def hangup(self, call_id: str) -> None:
        doc = await self.contact_doc(call_id)
        if doc.get("consult") or not doc.get("carries_caller", True) or not doc.get("caller"):
            # A consult is open (the caller stays held) or there is no caller here: the agent leaves.
            await self._end_leg(self.agent_leg(doc, doc.get("connected")), "hangup")
            return
        await self._end_leg(doc["caller"], "hangup")  # the caller ends the conference on leaving

    async def transfer_out(self, call_id: str, number: str) -> None:
        doc = await self.set_contact(call_id, transferred_out=number)
        caller = doc.get("caller")
        if not caller:
            return
        leg = await self.set_call(caller, released=True)
        if doc.get("phase") == "arriving" or leg.get("ended"):
            return  # still in its webhook: the webhook answers with the <Dial>
        await self._redirect(caller, dial_number(VoiceResponse(), number), "transfer_out")

    # --- consults (warm handover) --------------------------------------------------------------
    async def open_consult(
        self, parent_call_id: str, consult_call_id: str, from_agent: str, queue: str
    ) -> None:
        parent = await self.contact_doc(parent_call_id)
        await self.book.put(
            "contact",
            consult_call_id,
            {
                "conference": conference_name(consult_call_id),
                "agents": {},
                "parent": parent_call_id,
                "from_agent": from_agent,
                "from_agent_leg": self.agent_leg(parent, from_agent),
                "caller": parent.get("caller"),
                "carries_caller": False,
                "queue": queue,
            },
        )
        await self.set_contact(parent_call_id, consult=consult_call_id)
        log.info("twilio.consult_opened", contact=parent_call_id, consult=consult_call_id)

    async def consult(
        self, parent_call_id: str, consult_call_id: str, from_agent: str, specialist: str
    ) -> None:
        doc = await self.contact_doc(consult_call_id)
        leg = doc.get("from_agent_leg")
        if not leg or doc.get("agent_in_consult") or doc.get("carries_caller"):
            return
        await self._redirect(
            leg, dial_conference(VoiceResponse(), self.urls, consult_call_id, caller=False), "consult"
        )
        await self.set_contact(consult_call_id, agent_in_consult=True)

    async def complete_transfer(
        self, parent_call_id: str, consult_call_id: str, from_agent: str, specialist: str | None
    ) -> None:
        doc = await self.contact_doc(consult_call_id)
        caller = doc.get("caller")
        if not doc or doc.get("carries_caller") or not caller:
            return  # already there (or gone): asked again, it does nothing
        leg = await self.call_doc(caller)
        if leg.get("ended"):
            return
        started = specialist is not None and doc.get("connected") == specialist
        move = dial_conference(VoiceResponse(), self.urls, consult_call_id, caller=True, started=started)
        await self._redirect(caller, move, "complete_transfer")
        await self.set_call(caller, contact=consult_call_id)
        await self.set_contact(consult_call_id, carries_caller=True)
        await self.set_contact(parent_call_id, consult=None, transferred_to=consult_call_id, caller=None)
        await self._end_leg(doc.get("from_agent_leg"), "complete_transfer")
        log.info("twilio.transferred", contact=parent_call_id, consult=consult_call_id)

    async def cancel_consult(self, parent_call_id: str, consult_call_id: str) -> None:
        doc = await self.contact_doc(consult_call_id)
        parent = await self.contact_doc(parent_call_id)
        if parent.get("consult") == consult_call_id:
            await self.set_contact(parent_call_id, consult=None)
        if not doc or doc.get("carries_caller") or doc.get("cancelled"):
            return
        await self.set_contact(consult_call_id, cancelled=True)
        for sid in doc.get("agents", {}).values():
            await self._end_leg(sid, "cancel_consult")
        leg = doc.get("from_agent_leg")
        caller = doc.get("caller")
        if leg and doc.get("agent_in_consult") and caller and (await self.call_doc(caller)).get("ended"):
            await self._end_leg(leg, "cancel_consult")  # the caller has gone: nobody to go back to
        elif leg and doc.get("agent_in_consult"):
            back = dial_conference(VoiceResponse(), self.urls, parent_call_id, caller=False)
            try:
                await self._redirect(leg, back, "cancel_consult")
            except FrontdoorError:
                log.warning("twilio.agent_not_returned", contact=parent_call_id)

    # --- supervisor listen ---------------------------------------------------------------------
    async def listen(self, call_id: str, supervisor: str, *, coach: bool = False) -> str:
        """Add a supervisor to the call: muted (listen), or heard by the agent only (coach)."""
        doc = await self.contact_doc(call_id)
        if not doc or not doc.get("connected"):
            raise Conflict("nobody is talking on this call", error_id="contact_not_connected")
        conference = await self.conference_sid(call_id)
        params: dict[str, Any] = {
            "from_": self.caller_id,
            "to": endpoint_for(self.endpoints, supervisor),
            "muted": not coach,
            "beep": "false",
            "start_conference_on_enter": False,
            "end_conference_on_exit": False,
            "status_callback": self.urls.status(),
            "status_callback_method": "POST",
        }
        agent_leg = self.agent_leg(doc, doc.get("connected"))
        if coach and agent_leg:
            params.update(coaching=True, call_sid_to_coach=agent_leg)
        participant = await self._rest(
            "listen", self.rest.conferences(conference).participants.create_async(**params)
        )
        sid = str(participant.call_sid)
        await self.set_call(sid, role="supervisor", contact=call_id, agent=supervisor, released=True)
        return sid
