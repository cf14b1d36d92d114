"""The living centre: simulated callers and bot agents that keep the demo busy.

Callers come from the seeded ``CallerGenerator`` and dial in through the IVR when the app runs one
(``SimTelephony.dial``), else straight to their queue (``SimTelephony.place_call``); each
waits in queue up to its patience and then abandons, and some end a conversation before the agent
does. Bots answer as agents (``cti.sim.bots``). People logged in as the other agents get offers
from the same queues. All timing is on the services' clock (see ``cti.sim.timing``).

Bounded: at most ``max_live_calls`` caller tasks (arrivals beyond it are turned away and counted),
one task per bot, one generator, one follower of the centre stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from cti.domain.errors import FrontdoorError
from cti.domain.events import CENTRE_STREAM, Resync
from cti.sim.bots import Bot, BotProfile
from cti.sim.generator import Arrival, CallerGenerator, CallerMix
from cti.sim.ivr import caller_inputs
from cti.sim.timing import real_seconds, sleep_until
from cti.tasks import stop_task
from cti.telephony.port import InboundCall
from cti.telephony.sim import LegState, SimTelephony

if TYPE_CHECKING:
    from cti.wiring import Services

log = structlog.get_logger(__name__)

TALKING = frozenset({LegState.CONNECTED, LegState.HELD})
WAITING = frozenset({LegState.RINGING_IN, LegState.QUEUED, LegState.RINGING_AGENT})
ENDED = frozenset({LegState.ENDED})


@dataclass(slots=True)
class CentreStats:
    placed: int = 0
    answered: int = 0  # callers who reached an agent
    abandoned: int = 0  # callers who gave up waiting
    caller_ended: int = 0  # callers who ended the conversation first
    turned_away: int = 0  # arrivals beyond max_live_calls
    failed: int = 0  # calls the domain refused (e.g. unknown queue)
    ended_in_ivr: int = 0  # callers the IVR helped itself (self-service) or sent elsewhere


class LivingCentre:
    def __init__(
        self,
        services: Services,
        bots: Sequence[str],
        calls_per_minute: float,
        seed: int,
        known_numbers: Sequence[str],
        *,
        professional_numbers: Sequence[str] = (),
        max_calls: int | None = None,
        max_live_calls: int = 200,
        bot_profile: BotProfile | None = None,
        mix: CallerMix | None = None,
    ) -> None:
        if not isinstance(services.telephony, SimTelephony):
            raise TypeError("the living centre needs the simulator telephony (telephony: sim)")
        unknown = [b for b in bots if b not in services.centre.users]
        if unknown:
            raise ValueError(f"bots are not users of this centre: {', '.join(unknown)}")
        self.services = services
        self.sim: SimTelephony = services.telephony
        self.clock = services.clock
        # No callers at a rate of 0: the bots alone (people may still place calls).
        self.generator = (
            CallerGenerator(seed, calls_per_minute, known_numbers, professional_numbers, mix)
            if calls_per_minute > 0
            else None
        )
        self.max_calls = max_calls
        self.max_live_calls = max_live_calls
        self.stats = CentreStats()
        self.bots = {
            agent: Bot(agent, services.calls, services.router, self.clock, seed, bot_profile)
            for agent in bots
        }
        self._callers: dict[asyncio.Task[None], str] = {}  # caller task -> its call id
        self._tasks: list[asyncio.Task[None]] = []
        self._following = asyncio.Event()

    @property
    def live_calls(self) -> int:
        return len(self._callers)

    # --- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._tasks:
            return
        after = await self.services.bus.last_seq(CENTRE_STREAM)
        self._tasks.append(asyncio.create_task(self._follow(after), name="sim-follow"))
        await self._following.wait()  # bots must not miss their first offer
        for agent, bot in self.bots.items():
            self._tasks.append(asyncio.create_task(bot.run(), name=f"sim-bot-{agent}"))
        if self.generator is not None:
            self._tasks.append(asyncio.create_task(self._generate(self.generator), name="sim-generator"))
        log.info("sim.centre_started", bots=len(self.bots), generating=self.generator is not None)

    async def stop(self) -> None:
        """Stop generating; callers still waiting hang up; bots finish what they hold and log out.
        Calls people are on are left to them."""
        waiting = list(self._callers.values())
        tasks = [*self._tasks, *self._callers]
        self._tasks.clear()
        for task in tasks:
            await stop_task(task)
        self._callers.clear()
        for call_id in waiting:
            if self._leg_in(call_id, WAITING):
                await self._quietly(self.sim.caller_hangs_up(call_id))
        for bot in self.bots.values():
            await self._quietly(bot.wind_down())
        log.info("sim.centre_stopped", placed=self.stats.placed, answered=self.stats.answered)

    async def _quietly(self, action: Awaitable[object]) -> None:
        try:
            await action
        except FrontdoorError as exc:
            log.info("sim.stop_refused", error_id=exc.error_id)
        except Exception:
            log.exception("sim.stop_failed")

    # --- the event stream, for the bots ----------------------------------------------------------
    async def _follow(self, after: int) -> None:
        subscription = self.services.bus.subscribe(CENTRE_STREAM, after_seq=after, max_pending=10_000)
        self._following.set()
        try:
            async for item in subscription:
                if isinstance(item, Resync):
                    log.warning("sim.resync", reason=item.reason)
                    for bot in self.bots.values():
                        bot.resync()
                    continue
                target = self.bots.get(str(item.data.get("agent")))
                if target is not None:
                    target.deliver(item)
        finally:
            await subscription.close()

    # --- callers ---------------------------------------------------------------------------------
    async def _generate(self, generator: CallerGenerator) -> None:
        started = self.clock.now_ms()
        for arrival in generator:
            if self.max_calls is not None and arrival.seq > self.max_calls:
                return
            await sleep_until(self.clock, started + int(arrival.offset_s * 1000))
            if len(self._callers) >= self.max_live_calls:
                self.stats.turned_away += 1
                log.warning("sim.turned_away", live=len(self._callers))
                continue
            call_id = self.sim.new_call_id()
            task = asyncio.create_task(self._caller(arrival, call_id), name=f"sim-caller-{arrival.seq}")
            self._callers[task] = call_id
            task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._callers.pop(task, None)

    async def _caller(self, arrival: Arrival, call_id: str) -> None:
        call = InboundCall(
            call_id=call_id,
            cli=arrival.cli,
            dialled=arrival.dialled,
            queue=arrival.queue,
            caller_type=arrival.caller_type,
            ivr=dict(arrival.ivr),
        )
        try:
            await self._life(call, arrival)
        except asyncio.CancelledError:
            raise
        except FrontdoorError as exc:
            self.stats.failed += 1
            log.warning("sim.caller_refused", call=call.call_id, error_id=exc.error_id)
        except Exception:
            self.stats.failed += 1
            log.exception("sim.caller_failed", call=call.call_id)

    async def _life(self, call: InboundCall, arrival: Arrival) -> None:
        if self.sim.has_ivr:  # through the IVR, as on a real line
            inputs = caller_inputs(arrival.caller_type, arrival.queue, arrival.ivr)
            await self.sim.dial(call.call_id, call.cli, call.dialled, inputs)
            if self.sim.leg(call.call_id) is None:
                self.stats.ended_in_ivr += 1
                return
        else:
            await self.sim.place_call(call)
        self.stats.placed += 1
        if not await self._wait_leg(call.call_id, arrival.patience_s, TALKING):
            if await self.sim.caller_hangs_up(call.call_id):
                self.stats.abandoned += 1
            return
        if not self._leg_in(call.call_id, TALKING):
            return  # ended: transferred out, or the agent hung up
        self.stats.answered += 1
        if arrival.hangs_up_after_s is None:
            return  # the agent ends this one
        over = await self._wait_leg(call.call_id, arrival.hangs_up_after_s, ENDED)
        if not over and await self.sim.caller_hangs_up(call.call_id):
            self.stats.caller_ended += 1

    def _leg_in(self, call_id: str, states: frozenset[LegState]) -> bool:
        leg = self.sim.leg(call_id)
        while leg is not None and leg.state is LegState.ENDED and leg.transferred_to is not None:
            leg = self.sim.leg(leg.transferred_to)
        return leg is not None and leg.state in states

    async def _wait_leg(self, call_id: str, seconds: float, states: frozenset[LegState]) -> bool:
        """Wait up to ``seconds`` of clock time for the leg to reach one of ``states`` or end;
        False when the time ran out first."""
        deadline = self.clock.now_ms() + int(seconds * 1000)
        while True:
            leg = self.sim.leg(call_id)
            if leg is not None and leg.state is LegState.ENDED and leg.transferred_to is not None:
                call_id = leg.transferred_to  # handed over: the caller is on the consult leg now
                continue
            if leg is None or leg.state in states or leg.state is LegState.ENDED:
                return True
            remaining = deadline - self.clock.now_ms()
            if remaining <= 0:
                return False
            await self.sim.wait_change(call_id, leg.version, real_seconds(self.clock, remaining))
