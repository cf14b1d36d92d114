"""Twilio's webhooks: the only routes without a bearer token, so every one is signature-checked.

The signature is checked with the twilio library's ``RequestValidator`` over the URL Twilio called,
rebuilt from ``FRONTDOOR_PUBLIC_BASE_URL`` and the request's path and query (a proxy may change the
host, scheme and port: the Host header is never trusted), and the form parameters. Unsigned or
wrongly signed: 403 ``twilio_signature_invalid``, logged without the caller's details. A body that
is not a form, too big or missing a field: 4xx naming the field.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

import structlog
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator

from cti.api.deps import ServicesDep, Supervisor
from cti.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from cti.twilio.flow import TwilioFlow
from cti.twilio.twiml import fallback_page, held_page, twiml
from ivr.actions import CallerInput, Digits, NoInput, Speech

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/twilio", tags=["twilio"])
api = APIRouter(prefix="/api/twilio", tags=["twilio"])

MAX_BODY = 64 * 1024
FORM = "application/x-www-form-urlencoded"
SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
CONFERENCE_SID = re.compile(r"^CF[0-9a-fA-F]{32}$")
SEQUENCE = re.compile(r"^[0-9]{1,12}$")
CONTACT = re.compile(r"^[A-Za-z0-9._-]{1,80}$")
DIGITS = re.compile(r"^[0-9*#]{0,64}$")
STATUS = re.compile(r"^[a-z-]{1,20}$")
ContactId = Annotated[str, Query(pattern=CONTACT.pattern)]


class Form:
    """The signed form parameters (the last value of each)."""

    def __init__(self, params: dict[str, list[str]]) -> None:
        self.params = params

    def get(self, name: str, limit: int = 256) -> str | None:
        values = self.params.get(name)
        if values is None:
            return None
        value = values[-1]
        if len(value) > limit:
            raise InvalidInput(f"'{name}' is too long", error_id="twilio_bad_field", field=name)
        return value

    def need(self, name: str, pattern: re.Pattern[str]) -> str:
        value = self.get(name)
        if value is None or not pattern.match(value):
            raise InvalidInput(f"'{name}' is missing or malformed", error_id="twilio_bad_field", field=name)
        return value


def flow_of(svc: ServicesDep) -> TwilioFlow:
    flow = svc.extras.get("twilio")
    if not isinstance(flow, TwilioFlow):
        raise NotFound("Twilio telephony is not enabled here", error_id="twilio_not_enabled")
    return flow


Flow = Annotated[TwilioFlow, Depends(flow_of)]


def _refuse(request: Request, reason: str) -> Forbidden:
    log.warning("twilio.signature_rejected", path=request.url.path, reason=reason)
    return Forbidden("the request is not signed by Twilio", error_id="twilio_signature_invalid")


async def signed_form(request: Request, svc: ServicesDep, flow: Flow) -> Form:
    settings = svc.settings
    token, base = settings.twilio_auth_token, settings.public_base_url
    if token is None or base is None:
        raise Conflict("Twilio webhooks are not configured", error_id="twilio_not_configured")
    signature = request.headers.get("x-twilio-signature")
    if not signature:
        raise _refuse(request, "unsigned")
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        raise InvalidInput(f"expected a {FORM} body", error_id="twilio_bad_body", field="body")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InvalidInput("the body is too large", error_id="twilio_bad_body", field="body")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("the body is not a valid form", error_id="twilio_bad_body", field="body") from None
    params: dict[str, list[str]] = {}
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    query = request.url.query
    url = f"{base}{request.url.path}" + (f"?{query}" if query else "")
    signed = ImmutableMultiDict(pairs)  # has getlist(): the validator signs every value of a name
    if not RequestValidator(token.get_secret_value()).validate(url, signed, signature):
        raise _refuse(request, "bad_signature")
    return Form(params)


Signed = Annotated[Form, Depends(signed_form)]


def xml(text: str) -> Response:
    return Response(content=text, media_type="application/xml")


def caller_number(value: str | None) -> str | None:
    """Twilio's From; withheld numbers come as 'anonymous', 'restricted' or a non-number."""
    if value is None or not re.match(r"^\+?[0-9]{3,16}$", value) or value in ("+266696687", "+7378742833"):
        return None
    return value


def caller_input(form: Form) -> CallerInput:
    """Digits (even none: only the finishing key pressed), else speech, else nothing (timed out)."""
    digits = form.get("Digits", 64)
    if digits is not None and not form.get("SpeechResult"):
        if not DIGITS.match(digits):
            raise InvalidInput("'Digits' is malformed", error_id="twilio_bad_field", field="Digits")
        return Digits(digits)
    speech = form.get("SpeechResult", 1000)
    if speech:
        try:
            confidence = float(form.get("Confidence") or 1.0)
        except ValueError:
            raise InvalidInput(
                "'Confidence' is not a number", error_id="twilio_bad_field", field="Confidence"
            ) from None
        return Speech(speech, min(1.0, max(0.0, confidence)))
    return NoInput()


@router.post("/voice")
async def voice(form: Signed, flow: Flow) -> Response:
    """A call to one of the centre's numbers: the IVR's first step."""
    sid = form.need("CallSid", SID)
    dialled = form.need("To", re.compile(r"^\+?[0-9A-Za-z:@._-]{1,64}$"))
    return xml(await flow.incoming(sid, caller_number(form.get("From")), dialled))


@router.post("/gather")
async def gathered(form: Signed, flow: Flow, step: Annotated[int, Query(ge=0, le=10_000)]) -> Response:
    """What the caller pressed or said (or nothing) in answer to a <Gather>."""
    sid = form.need("CallSid", SID)
    return xml(await flow.gathered(sid, step, caller_input(form)))


@router.post("/status", status_code=204)
async def call_status(form: Signed, flow: Flow) -> Response:
    """Call status callbacks of callers' and agents' legs; repeated and out-of-order ones are harmless."""
    sid = form.need("CallSid", SID)
    status = form.need("CallStatus", STATUS)
    raw_seq = form.get("SequenceNumber", 12)
    if raw_seq is not None and not SEQUENCE.match(raw_seq):
        raise InvalidInput(
            "'SequenceNumber' is not a number", error_id="twilio_bad_field", field="SequenceNumber"
        )
    await flow.call_status(sid, status, int(raw_seq) if raw_seq is not None else None)
    return Response(status_code=204)


@router.post("/conference", status_code=204)
async def conference_status(form: Signed, flow: Flow) -> Response:
    conference_sid = form.need("ConferenceSid", CONFERENCE_SID)
    name = form.need("FriendlyName", re.compile(r"^[A-Za-z0-9._-]{1,90}$"))
    event = form.need("StatusCallbackEvent", re.compile(r"^[a-z-]{1,40}$"))
    await flow.conference_status(name, conference_sid, event)
    return Response(status_code=204)


@router.post("/hold")
async def hold(
    form: Signed, flow: Flow, contact: ContactId, turn: Annotated[int, Query(ge=0, le=100_000)]
) -> Response:
    """The caller's wait in the queue: position, expected wait and the queue's messages, in turns."""
    return xml(await flow.hold(contact, turn))


@router.post("/held")
async def held(form: Signed, flow: Flow) -> Response:
    """What a caller put on hold by the agent hears."""
    return xml(twiml(held_page(flow.urls)))


@router.post("/agent")
async def agent_answered(
    form: Signed, flow: Flow, contact: ContactId, agent: Annotated[str, Query(pattern=CONTACT.pattern)]
) -> Response:
    """An agent answered their phone: into the caller's conference (answering accepts the offer)."""
    sid = form.need("CallSid", SID)
    return xml(await flow.agent_answered(sid, contact, agent))


@router.post("/join")
async def callback_answered(form: Signed, flow: Flow, contact: ContactId) -> Response:
    """A caller we called back answered: into the conference with their agent."""
    sid = form.need("CallSid", SID)
    return xml(await flow.callback_answered(sid, contact))


@router.post("/fallback")
async def fallback(form: Signed, flow: Flow) -> Response:
    """Static TwiML for when the voice URL fails: the caller still reaches a person."""
    log.warning("twilio.fallback_used", error_code=form.get("ErrorCode", 16))
    return xml(twiml(fallback_page(flow.fallback_number)))


class ListenIn(BaseModel):
    mode: Literal["listen", "coach"] = "listen"


@api.post("/contacts/{contact_id}/listen", status_code=201)
async def listen(
    contact_id: str, body: ListenIn, user: Supervisor, flow: Flow, svc: ServicesDep
) -> dict[str, Any]:
    """A supervisor joins the call on their phone: muted, or coaching (heard by the agent only)."""
    if not CONTACT.match(contact_id):
        raise NotFound("no such contact", error_id="contact_not_found")
    sid = await flow.tel.listen(contact_id, user.username, coach=body.mode == "coach")
    await svc.records.audit_view(
        actor=user.username,
        role=user.role,
        action=f"call_{body.mode}",
        subject_type="contact",
        subject_id=contact_id,
        reason=body.mode,
    )
    return {"contact_id": contact_id, "mode": body.mode, "call_sid": sid}
