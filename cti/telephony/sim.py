"""The built-in simulator: a telephony adapter with simulated call legs instead of a provider.

It behaves like a provider that parks the caller while Frontdoor routes (Twilio, Asterisk): the
caller's leg and the agent's phone are separate, so when a caller hangs up while an agent is being
rung, the agent's phone keeps ringing until the domain says ``stop_ringing`` (lesson 6: the domain
must cancel offers, or the agent answers silence).

Every command the domain gives is appended to the leg's log, including commands for legs that have
already ended (``ok=False``): races are visible, never fatal. Logs carry call ids and states only,
never the caller's number.

Consults (warm handover) are legs of their own (see ``cti.sim.legs``); the commands that join two legs
are logged on both.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace

import structlog

from cti.domain.clock import Clock
from cti.domain.errors import Conflict
from cti.sim.ivr import Engine, IvrRun, drive
from cti.sim.legs import Command, Leg, LegBook, LegState, LegView, Ring, RingListener
from cti.telephony.port import CallHandler, InboundCall, Telephony
from ivr.actions import CallbackRequested, CallerInput, CallStart, Enqueue

__all__ = ["Command", "LegState", "LegView", "Ring", "RingListener", "SimTelephony"]

log = structlog.get_logger(__name__)

LIVE = tuple(s for s in LegState if s is not LegState.ENDED)
CONSULT_WAITING = (LegState.QUEUED, LegState.RINGING_AGENT)
CONSULT_ANSWERED = (LegState.RESERVED, LegState.CONSULTING)


class SimTelephony(LegBook, Telephony):
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
        super().__init__(clock, keep_ended_ms, max_ended_legs, max_commands_per_leg)
        self.max_live_legs = max_live_legs
        self._handler: CallHandler | None = None
        self._listeners: dict[str, list[RingListener]] = {}
        # A run tag keeps call ids unique across restarts (contact ids are primary keys in records).
        self._run = f"{clock.now_ms():x}{random.Random(seed).getrandbits(16):04x}"
        self._call_seq = 0
        self._ivr: Engine | None = None  # attached by ivr.api when the app starts

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self, handler: CallHandler) -> None:
        self._handler = handler

    async def stop(self) -> None:
        self._handler = None
        self._listeners.clear()

    # --- the IVR -------------------------------------------------------------------------------
    def attach_ivr(self, engine: Engine | None) -> None:
        self._ivr = engine

    @property
    def has_ivr(self) -> bool:
        return self._ivr is not None

    async def dial(
        self,
        call_id: str,
        cli: str | None,
        dialled: str,
        inputs: Sequence[CallerInput] = (),
        *,
        hang_up: bool = False,
    ) -> IvrRun:
        """A simulated caller dials ``dialled`` and answers the IVR with ``inputs`` (then silence; with
        ``hang_up``, the caller hangs up once the inputs run out mid-flow, and the IVR records it).

        Like a real adapter: the engine runs first; an Enqueue becomes ``place_call``; a callback is
        queued with the number to call (the leg stands for the call back); self-service, transfers
        and hang-ups end in the IVR, without the domain queueing anything.
        """
        if self._ivr is None:
            raise Conflict("the IVR is not running", error_id="ivr_not_running")
        if call_id in self._legs:
            raise Conflict("a call with this id is already in progress", error_id="call_exists")
        start = CallStart(call_id=call_id, cli=cli, dialled=dialled)
        run = await drive(self._ivr, start, inputs, hang_up=hang_up)
        outcome = run.outcome
        log.info("sim.ivr_done", call=call_id, outcome=type(outcome).__name__, hung_up=run.hung_up)
        if isinstance(outcome, Enqueue):
            await self.place_call(
                InboundCall(
                    call_id,
                    cli,
                    dialled,
                    outcome.queue,
                    outcome.caller_type,
                    dict(outcome.choices),
                    outcome.nhs_number,
                    outcome.priority,
                )
            )
        elif isinstance(outcome, CallbackRequested):
            choices = {**outcome.choices, "callback": outcome.number}
            await self.place_call(
                InboundCall(call_id, cli, dialled, outcome.queue, outcome.caller_type, choices)
            )
        return run

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
        if leg is not None and leg.transferred_to is not None:
            return await self.caller_hangs_up(leg.transferred_to)  # the caller is on the consult leg
        if leg is None or leg.state is LegState.ENDED or not leg.has_caller:
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
        # A consult answered without the caller on it only reserves the specialist (see ``consult``).
        self._change(leg, LegState.CONNECTED if leg.has_caller else LegState.RESERVED)

    async def hold(self, call_id: str) -> None:
        leg = self._record(call_id, "hold", None, allowed=(LegState.CONNECTED,))
        if leg is not None:
            self._change(leg, LegState.HELD)

    async def resume(self, call_id: str) -> None:
        leg = self._record(call_id, "resume", None, allowed=(LegState.HELD,))
        if leg is not None:
            self._change(leg, LegState.CONNECTED)

    async def hangup(self, call_id: str) -> None:
        leg = self._record(call_id, "hangup", None, allowed=LIVE)
        if leg is None:
            return
        if leg.consult is not None and leg.has_caller:
            # A consult is open: the agent leaves, the caller stays parked on hold (like a caller in a
            # conference the agent walked out of) until the domain moves them on.
            leg.agent = None
            self._change(leg, leg.state)
            return
        self._end(leg, "agent")

    async def transfer_out(self, call_id: str, number: str) -> None:
        leg = self._record(call_id, "transfer_out", None, allowed=LIVE, target=number)
        if leg is not None:
            self._end(leg, "transfer")

    # --- consults (warm handover) --------------------------------------------------------------
    async def open_consult(
        self, parent_call_id: str, consult_call_id: str, from_agent: str, queue: str
    ) -> None:
        parent = self._record(
            parent_call_id, "open_consult", from_agent, allowed=LIVE, target=consult_call_id
        )
        existing = self._legs.get(consult_call_id)
        if existing is not None and existing.state is not LegState.ENDED:
            raise Conflict("a call with this id is already in progress", error_id="call_exists")
        self._ended.pop(consult_call_id, None)
        known = self._legs.get(parent_call_id)
        base = known.call if known is not None else InboundCall(parent_call_id, None, "", queue)
        leg = Leg(
            replace(base, call_id=consult_call_id, queue=queue),
            LegState.QUEUED,
            self.clock.now_ms(),
            deque(maxlen=self.max_commands_per_leg),
            parent=parent_call_id,
            from_agent=from_agent,
            has_caller=False,
        )
        leg.commands.append(Command(self.clock.now_ms(), "open_consult", from_agent, parent_call_id))
        self._legs[consult_call_id] = leg
        if parent is not None:
            parent.consult = consult_call_id
        log.info("sim.consult_opened", call=parent_call_id, consult=consult_call_id, queue=queue)

    async def consult(
        self, parent_call_id: str, consult_call_id: str, from_agent: str, specialist: str
    ) -> None:
        leg = self._legs.get(consult_call_id)
        ok = leg is not None and leg.state is LegState.RESERVED and leg.agent == specialist
        self._record(parent_call_id, "consult", specialist, allowed=None, target=consult_call_id, ok=ok)
        if self._record(consult_call_id, "consult", specialist, allowed=None, target=from_agent, ok=ok):
            assert leg is not None
            self._change(leg, LegState.CONSULTING)

    async def complete_transfer(
        self, parent_call_id: str, consult_call_id: str, from_agent: str, specialist: str | None
    ) -> None:
        parent, leg = self._legs.get(parent_call_id), self._legs.get(consult_call_id)
        ok = (
            parent is not None
            and parent.state is not LegState.ENDED
            and leg is not None
            and (leg.state in CONSULT_ANSWERED or (leg.state in CONSULT_WAITING and specialist is None))
            and (specialist is None or leg.agent == specialist)
        )
        name = "complete_transfer"
        self._record(parent_call_id, name, specialist, allowed=None, target=consult_call_id, ok=ok)
        self._record(consult_call_id, name, specialist, allowed=None, target=parent_call_id, ok=ok)
        if not ok or parent is None or leg is None:
            return
        leg.has_caller = True
        parent.consult = None
        parent.transferred_to = consult_call_id
        self._end(parent, "transfer")
        # Answered (even if the domain did not know yet): caller and specialist talk; else the caller waits.
        self._change(leg, LegState.CONNECTED if leg.state in CONSULT_ANSWERED else leg.state)

    async def cancel_consult(self, parent_call_id: str, consult_call_id: str) -> None:
        parent = self._legs.get(parent_call_id)
        leg = self._record(consult_call_id, "cancel_consult", None, allowed=LIVE, target=parent_call_id)
        self._record(parent_call_id, "cancel_consult", None, allowed=LIVE, target=consult_call_id)
        if parent is not None and parent.consult == consult_call_id:
            parent.consult = None
        if leg is not None and not leg.has_caller:
            self._end(leg, "cancelled")

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
