"""Simulated call legs: their states, the log of commands the domain gave them, and snapshots.

A leg is the caller's side of a call. The agent's phone is apart from it (``ringing_agent``): it keeps
ringing after the caller has gone until the domain says ``stop_ringing``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from cti.telephony.port import InboundCall


class LegState(StrEnum):
    RINGING_IN = "ringing_in"  # the caller is in the IVR, the domain has not queued the call yet
    QUEUED = "queued"
    RINGING_AGENT = "ringing_agent"
    CONNECTED = "connected"
    HELD = "held"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Command:
    at: int  # epoch ms
    name: str  # ring | stop_ringing | connect | hold | resume | hangup | transfer_out
    agent: str | None = None
    target: str | None = None  # transfer_out: the service number (never a caller's number)
    ok: bool = True  # False: the leg could not carry it out (already ended, wrong state)


@dataclass(frozen=True, slots=True)
class LegView:
    """A snapshot of one leg, safe to show (no CLI)."""

    call_id: str
    queue: str
    caller_type: str
    withheld: bool
    state: LegState
    started_at: int
    ringing_agent: str | None
    agent: str | None
    ended_at: int | None
    ended_by: str | None
    commands: tuple[Command, ...]
    version: int  # changes on every state change; see ``SimTelephony.wait_change``


@dataclass(frozen=True, slots=True)
class Ring:
    call_id: str
    agent_id: str
    queue: str
    at: int


RingListener = Callable[[Ring], None]


@dataclass(slots=True)
class Leg:
    call: InboundCall
    state: LegState
    started_at: int
    commands: deque[Command]
    ringing_agent: str | None = None
    agent: str | None = None
    ended_at: int | None = None
    ended_by: str | None = None
    version: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def view(self) -> LegView:
        return LegView(
            call_id=self.call.call_id,
            queue=self.call.queue,
            caller_type=self.call.caller_type,
            withheld=self.call.cli is None,
            state=self.state,
            started_at=self.started_at,
            ringing_agent=self.ringing_agent,
            agent=self.agent,
            ended_at=self.ended_at,
            ended_by=self.ended_by,
            commands=tuple(self.commands),
            version=self.version,
        )
