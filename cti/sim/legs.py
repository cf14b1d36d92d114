"""Simulated call legs: their states, the log of commands the domain gave them, and snapshots.

A leg is the caller's side of a call. The agent's phone is apart from it (``ringing_agent``): it keeps
ringing after the caller has gone until the domain says ``stop_ringing``.

A consult leg (warm handover) is the first agent's call to a specialist, a segment of its own with its
own call id: ``parent`` names the caller's leg, which points back at it (``consult``) while the consult
is open. It is queued and rung like a caller's leg; answering it only reserves the specialist
(``RESERVED``) until the domain says ``consult``. ``complete_transfer`` moves the caller onto it
(``has_caller``) and ends the caller's first segment (``transferred_to``).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import structlog

from cti.domain.clock import Clock
from cti.telephony.port import InboundCall

log = structlog.get_logger("cti.telephony.sim")


class LegState(StrEnum):
    RINGING_IN = "ringing_in"  # the caller is in the IVR, the domain has not queued the call yet
    QUEUED = "queued"
    RINGING_AGENT = "ringing_agent"
    CONNECTED = "connected"
    HELD = "held"
    RESERVED = "reserved"  # consult leg: the specialist answered; nobody is put through yet
    CONSULTING = "consulting"  # consult leg: first agent and specialist talk; the caller is on hold
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Command:
    at: int  # epoch ms
    # ring | stop_ringing | connect | hold | resume | hangup | transfer_out
    # | open_consult | consult | complete_transfer | cancel_consult (logged on both legs)
    name: str
    agent: str | None = None
    # transfer_out: the service number (never a caller's number); consult commands: the other leg
    target: str | None = None
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
    parent: str | None = None  # consult leg: the caller's leg it was opened from
    from_agent: str | None = None  # consult leg: the first agent
    consult: str | None = None  # caller's leg: the consult leg open for it
    transferred_to: str | None = None  # caller's leg: the consult leg the caller was moved onto
    has_caller: bool = True  # False for a consult leg until the caller is moved onto it


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
    parent: str | None = None
    from_agent: str | None = None
    consult: str | None = None
    transferred_to: str | None = None
    has_caller: bool = True

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
            parent=self.parent,
            from_agent=self.from_agent,
            consult=self.consult,
            transferred_to=self.transferred_to,
            has_caller=self.has_caller,
        )


class LegBook:
    """The legs of a simulator, live and recently ended, and the log of commands given to them."""

    def __init__(
        self, clock: Clock, keep_ended_ms: int, max_ended_legs: int, max_commands_per_leg: int
    ) -> None:
        self.clock = clock
        self.keep_ended_ms = keep_ended_ms
        self.max_ended_legs = max_ended_legs
        self.max_commands_per_leg = max_commands_per_leg
        self._legs: dict[str, Leg] = {}
        self._ended: OrderedDict[str, int] = OrderedDict()  # call id -> ended at, oldest first

    # --- reading -------------------------------------------------------------------------------
    def legs(self) -> list[LegView]:
        """Every leg still kept (live and recently ended), oldest first."""
        return [leg.view() for leg in self._legs.values()]

    def calls(self) -> list[LegView]:
        """Live legs only."""
        return [leg.view() for leg in self._legs.values() if leg.state is not LegState.ENDED]

    def leg(self, call_id: str) -> LegView | None:
        leg = self._legs.get(call_id)
        return None if leg is None else leg.view()

    def log(self, call_id: str) -> list[str]:
        """Names of the commands the domain gave for a call, in order."""
        leg = self._legs.get(call_id)
        return [] if leg is None else [c.name for c in leg.commands]

    def ringing(self, agent_id: str) -> str | None:
        """The call ringing on the agent's phone, if any."""
        for leg in self._legs.values():
            if leg.ringing_agent == agent_id:
                return leg.call.call_id
        return None

    def live_count(self) -> int:
        return len(self._legs) - len(self._ended)

    async def wait_change(self, call_id: str, seen_version: int, timeout_s: float) -> int:
        """Wait until the leg changes after ``seen_version`` (or the timeout); returns its version.

        -1 when the leg is not (or no longer) kept.
        """
        leg = self._legs.get(call_id)
        if leg is None:
            return -1
        if leg.version == seen_version:
            changed = leg.changed
            try:
                async with asyncio.timeout(max(0.0, timeout_s)):
                    await changed.wait()
            except TimeoutError:
                pass
        return leg.version

    # --- internals -----------------------------------------------------------------------------
    def _record(
        self,
        call_id: str,
        name: str,
        agent_id: str | None,
        *,
        allowed: tuple[LegState, ...] | None,
        target: str | None = None,
        ok: bool | None = None,
    ) -> Leg | None:
        """Log the command on its leg; the leg if it can be carried out, else None."""
        leg = self._legs.get(call_id)
        if leg is None:
            log.warning("sim.command_for_unknown_call", command=name, call=call_id, agent=agent_id)
            return None
        done = (leg.state in allowed) if allowed is not None else bool(ok)
        leg.commands.append(Command(self.clock.now_ms(), name, agent_id, target, done))
        if not done:
            log.info("sim.command_ignored", command=name, call=call_id, agent=agent_id, state=leg.state)
            return None
        return leg

    def _change(self, leg: Leg, state: LegState) -> None:
        leg.state = state
        leg.version += 1
        changed, leg.changed = leg.changed, asyncio.Event()
        changed.set()

    def _end(self, leg: Leg, by: str) -> None:
        leg.ended_at = self.clock.now_ms()
        leg.ended_by = by
        self._ended[leg.call.call_id] = leg.ended_at
        self._change(leg, LegState.ENDED)

    def _prune(self) -> None:
        """Forget ended legs past their keep time, and the oldest beyond the cap."""
        horizon = self.clock.now_ms() - self.keep_ended_ms
        while self._ended:
            call_id, ended_at = next(iter(self._ended.items()))
            if ended_at > horizon and len(self._ended) <= self.max_ended_legs:
                break
            del self._ended[call_id]
            self._legs.pop(call_id, None)
