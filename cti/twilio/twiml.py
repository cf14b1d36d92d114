"""TwiML, built with the twilio library: IVR actions, conference legs, hold pages and the fallback.

Every URL handed to Twilio is absolute, on ``FRONTDOOR_PUBLIC_BASE_URL``: Twilio signs the URL it
called, and the webhooks check the signature against that same base (see ``signature``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from twilio.twiml.voice_response import Dial, VoiceResponse

from ivr.actions import Action, Gather, Pause, Play, Say

CONFERENCE_EVENTS = "start end join leave hold"
HELD_MESSAGE = "You are on hold. Please stay on the line, we will be with you shortly."
SORRY = "Sorry, we cannot take your call through our phone menu just now. Connecting you to an adviser."


class Urls:
    """The webhook URLs as Twilio must call them (and sign them)."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def _url(self, path: str, **query: str | int) -> str:
        tail = f"?{urlencode(query)}" if query else ""
        return f"{self.base}/twilio/{path}{tail}"

    def voice(self) -> str:
        return self._url("voice")

    def gather(self, step: int) -> str:
        return self._url("gather", step=step)

    def status(self) -> str:
        return self._url("status")

    def conference(self) -> str:
        return self._url("conference")

    def hold(self, contact: str, turn: int) -> str:
        return self._url("hold", contact=contact, turn=turn)

    def held(self) -> str:
        return self._url("held")

    def agent(self, contact: str, agent: str) -> str:
        return self._url("agent", contact=contact, agent=agent)

    def join(self, contact: str) -> str:
        return self._url("join", contact=contact)

    def fallback(self) -> str:
        return self._url("fallback")


def conference_name(contact: str) -> str:
    return f"fd-{contact}"


def _speak(target: Any, action: Say | Play | Pause) -> None:
    if isinstance(action, Say):
        target.say(action.text, language=action.language)
    elif isinstance(action, Play):
        target.play(action.url)
    else:
        target.pause(length=max(1, round(action.seconds)))


def prompts(response: VoiceResponse, actions: Iterable[Action]) -> VoiceResponse:
    """Say / Play / Pause actions onto ``response``; anything else is the caller's business."""
    for action in actions:
        if isinstance(action, Say | Play | Pause):
            _speak(response, action)
    return response


def gather(response: VoiceResponse, action: Gather, url: str) -> VoiceResponse:
    """A <Gather> posting to ``url``, also when the caller gives nothing (then: ``NoInput``)."""
    element = response.gather(
        input=action.input,
        action=url,
        method="POST",
        timeout=max(1, round(action.timeout_s)),
        num_digits=action.max_digits,
        finish_on_key=action.finish_on_key if action.finish_on_key is not None else "",
        language=action.language,
        hints=",".join(action.speech_hints) if action.speech_hints else None,
        action_on_empty_result=True,
    )
    for prompt in action.prompts:
        _speak(element, prompt)
    return response


def dial_conference(
    response: VoiceResponse,
    urls: Urls,
    contact: str,
    *,
    caller: bool,
    started: bool = False,
) -> VoiceResponse:
    """Join the contact's conference. The caller waits (hold loop) until an agent starts it, and the
    conference ends when the caller leaves; agents start it and may leave without ending it."""
    dial = Dial()
    dial.conference(
        conference_name(contact),
        beep=False,
        start_conference_on_enter=not caller or started,
        end_conference_on_exit=caller,
        wait_url=urls.hold(contact, 0) if caller else "",
        wait_method="POST",
        status_callback=urls.conference(),
        status_callback_event=CONFERENCE_EVENTS,
        status_callback_method="POST",
    )
    response.append(dial)
    return response


def dial_number(response: VoiceResponse, number: str) -> VoiceResponse:
    response.dial(number)
    return response


def hold_page(actions: Iterable[Action], next_url: str) -> VoiceResponse:
    """One turn of a hold loop (a conference waitUrl / hold URL may only Say, Play, Pause, Redirect)."""
    response = prompts(VoiceResponse(), actions)
    if not any(isinstance(a, Say | Play | Pause) for a in actions):
        response.pause(length=10)  # never a tight loop
    response.redirect(next_url, method="POST")
    return response


def held_page(urls: Urls) -> VoiceResponse:
    response = VoiceResponse()
    response.say(HELD_MESSAGE, language="en-GB")
    response.pause(length=20)
    response.redirect(urls.held(), method="POST")
    return response


def to_person(response: VoiceResponse, number: str) -> VoiceResponse:
    """Whatever failed, the caller still reaches a person: the fallback number."""
    response.say(SORRY, language="en-GB")
    response.dial(number)
    return response


def fallback_page(number: str) -> VoiceResponse:
    """Static: the same for every request."""
    return to_person(VoiceResponse(), number)


def gone_page(message: str) -> VoiceResponse:
    response = VoiceResponse()
    response.say(message, language="en-GB")
    response.hangup()
    return response


def twiml(response: VoiceResponse) -> str:
    return str(response.to_xml())
