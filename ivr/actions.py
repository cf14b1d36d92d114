"""The contract between the IVR engine and every telephony adapter (sim, Twilio, Asterisk).

An adapter starts a session when a call arrives and feeds it what the caller does; each step returns
the actions to carry out, in order. The last action of a step is either a ``Gather`` (wait for the
caller: feed back ``Digits``, ``Speech`` or ``NoInput``) or a terminal one (``Enqueue``,
``TransferOut``, ``Hangup``, ``SelfServiceDone``). The session's state is plain JSON
(``IvrState``), so an adapter can keep it anywhere (Twilio webhooks may reach any node).

    engine = IvrEngine(...)
    state, actions = await engine.start(call)            # call: CallStart
    state, actions = await engine.handle(state, Digits("1"))
    ...
    await engine.hung_up(state)    # the caller hung up before a terminal action

``hung_up(state) -> None`` is called by the adapter when the caller's line ends while the call is
still in the IVR (the last step ended in a ``Gather``, or the state is not ``done``). It records the
call as a contact: ``abandoned_in_ivr`` with the IVR path so far, or, for a caller who had heard
their self-service status, the self-service contact ``SelfServiceDone`` would have written. It is
idempotent (the contact id is the call id: a second call, or one after ``SelfServiceDone`` was
recorded, writes nothing), does nothing for a state that has left the IVR, and never raises.

``Enqueue`` carries what the adapter needs to build ``cti.telephony.port.InboundCall`` and hand the
caller to the domain (``CallHandler.call_arrived``); ``hold_messages`` are what to play while the
caller waits (position and expected wait come from the router).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

IvrState = dict[str, Any]  # JSON-serialisable; opaque to adapters


# --- what the adapter tells the engine -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CallStart:
    call_id: str
    cli: str | None  # the caller's number (E.164 or as given); None when withheld
    dialled: str  # the number dialled
    language: str = "en-GB"


@dataclass(frozen=True, slots=True)
class Digits:
    digits: str  # DTMF keys pressed, without the finishing key


@dataclass(frozen=True, slots=True)
class Speech:
    text: str
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class NoInput:
    """The caller said and pressed nothing before the gather's timeout."""


CallerInput = Digits | Speech | NoInput


# --- what the engine tells the adapter -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Say:
    text: str
    language: str = "en-GB"


@dataclass(frozen=True, slots=True)
class Play:
    url: str


@dataclass(frozen=True, slots=True)
class Pause:
    seconds: float


@dataclass(frozen=True, slots=True)
class Gather:
    """Play ``prompts`` while listening; then wait ``timeout_s`` for input."""

    prompts: tuple[Say | Play, ...]
    input: Literal["dtmf", "speech", "dtmf speech"] = "dtmf"
    max_digits: int | None = 1  # None: until ``finish_on_key`` or the timeout
    finish_on_key: str | None = None  # e.g. "#"
    timeout_s: float = 5.0
    speech_hints: tuple[str, ...] = ()
    language: str = "en-GB"


@dataclass(frozen=True, slots=True)
class Enqueue:
    queue: str
    caller_type: str = "public"  # "professional" | "public" | "carer"
    priority: int | None = None  # None: the queue's own
    nhs_number: str | None = None  # validated by the IVR, if captured
    choices: dict[str, str] = field(default_factory=dict)  # attributes set in the IVR (InboundCall.ivr)
    hold_messages: tuple[Say | Play, ...] = ()  # played in turn while waiting
    hold_interval_s: float = 30.0
    announce_position: bool = True


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """The caller keeps their place and is called back on ``number`` when an agent is free."""

    queue: str
    number: str  # E.164
    caller_type: str = "public"
    choices: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TransferOut:
    number: str  # E.164, or a short code such as "999" / "111"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SelfServiceDone:
    """The caller was helped without an agent (e.g. progress chase); recorded as a contact, then hang up."""

    reason: str  # e.g. "progress_chase"
    resolution: str  # e.g. "self_service"
    choices: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Hangup:
    pass


Action = Say | Play | Pause | Gather | Enqueue | CallbackRequested | TransferOut | SelfServiceDone | Hangup
TERMINAL = (Enqueue, CallbackRequested, TransferOut, SelfServiceDone, Hangup)
