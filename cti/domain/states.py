"""State machines of the domain, as transition tables.

Each machine has one writer (the state store for contacts, offers and agents' engine state; the
handover service for handovers). ``advance`` is the only way to move a state: anything not in the table
raises ``IllegalTransition`` naming the machine, the current state and the event.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from cti.domain.errors import IllegalTransition


class ContactState(StrEnum):
    IVR = "ivr"
    QUEUED = "queued"
    OFFERED = "offered"
    CONNECTED = "connected"
    HELD = "held"
    CONSULTING = "consulting"
    WRAP_UP = "wrap_up"
    CLOSED = "closed"
    ABANDONED = "abandoned"
    CALLBACK_PENDING = "callback_pending"


class OfferState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"
    RESCINDED = "rescinded"
    CANCELLED = "cancelled"


class AgentStatus(StrEnum):
    """What the agent chose."""

    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    NOT_READY = "not_ready"


class EngineState(StrEnum):
    """What the engine is doing with the agent, kept apart from the agent's choice."""

    IDLE = "idle"
    OFFERED = "offered"
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    RESERVED = "reserved"


C = ContactState
CONTACT_TRANSITIONS: dict[str, dict[ContactState, ContactState]] = {
    "enqueue": {C.IVR: C.QUEUED, C.CALLBACK_PENDING: C.QUEUED},
    "offer": {C.QUEUED: C.OFFERED},
    "requeue": {C.OFFERED: C.QUEUED},
    "connect": {C.OFFERED: C.CONNECTED},
    "hold": {C.CONNECTED: C.HELD},
    "resume": {C.HELD: C.CONNECTED, C.CONSULTING: C.CONNECTED},
    "consult": {C.CONNECTED: C.CONSULTING, C.HELD: C.CONSULTING},
    "end_talk": {C.CONNECTED: C.WRAP_UP, C.HELD: C.WRAP_UP, C.CONSULTING: C.WRAP_UP},
    "close": {C.WRAP_UP: C.CLOSED, C.IVR: C.CLOSED},
    "abandon": {C.IVR: C.ABANDONED, C.QUEUED: C.ABANDONED, C.OFFERED: C.ABANDONED},
    "request_callback": {C.QUEUED: C.CALLBACK_PENDING},
}

OS = OfferState
OFFER_TRANSITIONS: dict[str, dict[OfferState, OfferState]] = {
    "accept": {OS.PENDING: OS.ACCEPTED},
    "reject": {OS.PENDING: OS.REJECTED},
    "time_out": {OS.PENDING: OS.TIMED_OUT},
    "rescind": {OS.PENDING: OS.RESCINDED},
    "cancel": {OS.PENDING: OS.CANCELLED},
}

E = EngineState
ENGINE_TRANSITIONS: dict[str, dict[EngineState, EngineState]] = {
    "offer": {E.IDLE: E.OFFERED},
    "release": {E.OFFERED: E.IDLE, E.WRAP_UP: E.IDLE, E.RESERVED: E.IDLE},
    "connect": {E.OFFERED: E.BUSY, E.RESERVED: E.BUSY},
    "wrap_up": {E.BUSY: E.WRAP_UP},
    "reserve": {E.IDLE: E.RESERVED},
}

A = AgentStatus
STATUS_TRANSITIONS: dict[str, dict[AgentStatus, AgentStatus]] = {
    "make_available": {A.LOGGED_OUT: A.AVAILABLE, A.NOT_READY: A.AVAILABLE, A.AVAILABLE: A.AVAILABLE},
    "make_not_ready": {A.LOGGED_OUT: A.NOT_READY, A.AVAILABLE: A.NOT_READY, A.NOT_READY: A.NOT_READY},
    "log_out": {A.AVAILABLE: A.LOGGED_OUT, A.NOT_READY: A.LOGGED_OUT, A.LOGGED_OUT: A.LOGGED_OUT},
}
# The not-ready reason given to an agent whose desktop stopped sending heartbeats (presence, live view).
UNREACHABLE_REASON = "unreachable"

STATUS_EVENT = {A.AVAILABLE: "make_available", A.NOT_READY: "make_not_ready", A.LOGGED_OUT: "log_out"}

TERMINAL_CONTACT = frozenset({C.CLOSED, C.ABANDONED})
TERMINAL_OFFER = frozenset(set(OS) - {OS.PENDING})


S = TypeVar("S", bound=StrEnum)


def advance(machine: str, table: dict[str, dict[S, S]], current: S, event: str) -> S:
    """Return the state after ``event`` or raise ``IllegalTransition``."""
    moves = table[event]
    try:
        return moves[current]
    except KeyError:
        raise IllegalTransition(machine, str(current), event, tuple(str(s) for s in moves)) from None
