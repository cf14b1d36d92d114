"""The built-in simulator: a telephony adapter with simulated call legs instead of a provider.

It behaves like a provider that parks the caller while Frontdoor routes (Twilio, Asterisk): the
caller's leg and the agent's phone are separate, so when a caller hangs up while an agent is being
rung, the agent's phone keeps ringing until the domain says ``stop_ringing`` (lesson 6: the domain
must cancel offers, or the agent answers silence).

Every command the domain gives is appended to the leg's log, including commands for legs that have
already ended (``ok=False``): races are visible, never fatal. Logs carry call ids and states only,
never the caller's number.
"""

from __future__ import annotations

import asyncio
import random
from collections import OrderedDict, deque
from collections.abc import Callable

import structlog

from cti.domain.clock import Clock
from cti.domain.errors import Conflict
from cti.sim.legs import Command, Leg, LegState, LegView, Ring, RingListener
from cti.telephony.port import CallHandler, InboundCall, Telephony

__all__ = ["Command", "LegState", "LegView", "Ring", "RingListener", "SimTelephony"]

log = structlog.get_logger(__name__)


class SimTelephony(Telephony):
    name = "sim"

    def __init__(
        self,
        clock: Clock,
        seed: int = 42,
        *,
        max_live_legs: int = 2000,
        keep_ended_ms: int = 600_000,
        max_ended_legs: int = 1000,
        max_commands_per_leg: int = 64,
    ) -> None:
        self.clock = clock
        self.max_live_legs = max_live_legs
        self.keep_ended_ms = keep_ended_ms
        self.max_ended_legs = max_ended_legs
        self.max_commands_per_leg = max_commands_per_leg
        self._handler: CallHandler | None = None
        self._legs: dict[str, Leg] = {}
        self._ended: OrderedDict[str, int] = OrderedDict()  # call id -> ended at, oldest first
        self._listeners: dict[str, list[RingListener]] = {}
        # A run tag keeps call ids unique across restarts (contact ids are primary keys in records).
        self._run = f"{clock.now_ms():x}{random.Random(seed).getrandbits(16):04x}"
        self._call_seq = 0

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self, handler: CallHandler) -> None:
        self._handler = handler

    async def stop(self) -> None:
        self._handler = None
        self._listeners.clear()

    # --- the simulated callers -----------------------------------------------------------------
    def new_call_id(self) -> str:
        self._call_seq += 1
        return f"sim-{self._run}-{self._call_seq:06d}"

    async def place_call(self, call: InboundCall) -> None:
        """A simulated caller dials in; the domain identifies, records and queues the call."""
        handler = self._handler
        if handler is None:
            raise Conflict("the simulator is not started", error_id="telephony_not_started")
        if call.call_id in self._legs:
            raise Conflict("a call with this id is already in progress", error_id="call_exists")
        self._prune()
        if self.live_count() >= self.max_live_legs:
            raise Conflict("all simulated lines are busy", error_id="sim_lines_busy")
        now = self.clock.now_ms()
        leg = Leg(call, LegState.RINGING_IN, now, deque(maxlen=self.max_commands_per_leg))
        self._legs[call.call_id] = leg
        log.info("sim.call_placed", call=call.call_id, queue=call.queue, withheld=call.cli is None)
        try:
            await handler.call_arrived(call)
        except Exception:
            self._end(leg, "failed")
            raise
        if leg.state is LegState.RINGING_IN:
            self._change(leg, LegState.QUEUED)

    async def caller_hangs_up(self, call_id: str) -> bool:
        """The simulated caller hangs up; False if the leg is unknown or already over."""
        leg = self._legs.get(call_id)
        if leg is None or leg.state is LegState.ENDED:
            return False
        self._end(leg, "caller")
        log.info("sim.caller_hung_up", call=call_id)
        handler = self._handler
        if handler is not None:
            await handler.caller_hung_up(call_id)
        return True

    # --- what the domain tells the provider ----------------------------------------------------
    async def ring(self, call_id: str, agent_id: str) -> None:
        leg = self._record(call_id, "ring", agent_id, allowed=(LegState.RINGING_IN, LegState.QUEUED))
        if leg is None:
            return
        leg.ringing_agent = agent_id
        self._change(leg, LegState.RINGING_AGENT)
        self._alert(Ring(call_id, agent_id, leg.call.queue, self.clock.now_ms()))

    async def stop_ringing(self, call_id: str, agent_id: str) -> None:
        leg = self._legs.get(call_id)
        ringing = leg is not None and leg.ringing_agent == agent_id
        # Stopping the agent's phone works even after the caller's leg ended: it is the agent's leg.
        self._record(call_id, "stop_ringing", agent_id, allowed=None, ok=ringing)
        if leg is None or not ringing:
            return
        leg.ringing_agent = None
        self._change(leg, LegState.QUEUED if leg.state is LegState.RINGING_AGENT else leg.state)

    async def connect(self, call_id: str, agent_id: str) -> None:
        allowed = (LegState.RINGING_IN, LegState.QUEUED, LegState.RINGING_AGENT)
        leg = self._record(call_id, "connect", agent_id, allowed=allowed)
        if leg is None:
            return
        leg.ringing_agent = None
        leg.agent = agent_id
        self._change(leg, LegState.CONNECTED)

    async def hold(self, call_id: str) -> None:
        leg = self._record(call_id, "hold", None, allowed=(LegState.CONNECTED,))
        if leg is not None:
            self._change(leg, LegState.HELD)

    async def resume(self, call_id: str) -> None:
        leg = self._record(call_id, "resume", None, allowed=(LegState.HELD,))
        if leg is not None:
            self._change(leg, LegState.CONNECTED)

    async def hangup(self, call_id: str) -> None:
        live = tuple(s for s in LegState if s is not LegState.ENDED)
        leg = self._record(call_id, "hangup", None, allowed=live)
        if leg is not None:
            self._end(leg, "agent")

    async def transfer_out(self, call_id: str, number: str) -> None:
        live = tuple(s for s in LegState if s is not LegState.ENDED)
        leg = self._record(call_id, "transfer_out", None, allowed=live, target=number)
        if leg is not None:
            self._end(leg, "transfer")

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

    # --- listeners -----------------------------------------------------------------------------
    def on_ring(self, agent_id: str, listener: RingListener) -> Callable[[], None]:
        """Call ``listener`` whenever the agent's phone starts ringing; returns the unsubscriber.

        Listeners run inside ``ring``: they must not block (schedule work, put on a queue).
        """
        self._listeners.setdefault(agent_id, []).append(listener)

        def unsubscribe() -> None:
            listeners = self._listeners.get(agent_id, [])
            if listener in listeners:
                listeners.remove(listener)
            if not listeners:
                self._listeners.pop(agent_id, None)

        return unsubscribe

    def _alert(self, ring: Ring) -> None:
        for listener in list(self._listeners.get(ring.agent_id, ())):
            try:
                listener(ring)
            except Exception:
                log.exception("sim.ring_listener_failed", call=ring.call_id, agent=ring.agent_id)

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
