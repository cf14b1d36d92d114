"""Simulated agents. They work through the same use cases as a person at the agent desktop
(``CallService.accept/reject/hold/resume/hangup/wrap_up`` and ``Router.set_status``), so everything
they do is routed, recorded, published and counted exactly like human work.

A bot learns about its offers and calls from the centre stream: ``LivingCentre`` follows it once and
``deliver``s each event to the bot it names. Every wait is on the centre's clock. Races with callers
(hanging up while being rung or talked to) and with timers (offer or wrap-up time-outs) surface as
domain errors: the bot logs them, looks at its state in the store and carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from cti.calls.service import CallService
from cti.domain.clock import Clock
from cti.domain.errors import FrontdoorError
from cti.domain.events import Event
from cti.domain.states import AgentStatus, EngineState
from cti.router.service import Router
from cti.sim.outcomes import choose_wrap_up, mean_talk_s
from cti.sim.timing import pause, real_seconds

log = structlog.get_logger(__name__)

OFFER_ENDED = frozenset({"offer.timed_out", "offer.rejected", "offer.cancelled", "offer.rescinded"})
BREAK_REASON = "break"


@dataclass(frozen=True, slots=True)
class BotProfile:
    """How bots behave; durations are clock seconds (lo, hi) drawn uniformly unless noted."""

    answer_delay_s: tuple[float, float] = (2.0, 8.0)
    ring_out_share: float = 0.03  # lets the phone ring until the offer times out ("missed")
    reject_share: float = 0.01
    talk_scale: float = 1.0  # times the queue's mean talk time (lognormal around it)
    talk_sigma: float = 0.5
    hold_share: float = 0.15
    hold_s: tuple[float, float] = (10.0, 60.0)
    wrap_s: tuple[float, float] = (15.0, 90.0)
    break_share: float = 0.05
    break_s: tuple[float, float] = (120.0, 600.0)
    back_after_s: tuple[float, float] = (5.0, 20.0)  # after a missed or rejected offer


@dataclass(slots=True)
class BotStats:
    offers: int = 0
    answered: int = 0
    missed: int = 0
    rejected: int = 0
    races: int = 0  # the caller or a timer got there first
    wrapped: int = 0
    caller_ended: int = 0
    breaks: int = 0


class Bot:
    def __init__(
        self,
        agent_id: str,
        calls: CallService,
        router: Router,
        clock: Clock,
        seed: int,
        profile: BotProfile | None = None,
        inbox_size: int = 256,
    ) -> None:
        self.agent_id = agent_id
        self.calls = calls
        self.router = router
        self.clock = clock
        self.profile = profile or BotProfile()
        self.rng = random.Random(f"{seed}:{agent_id}")
        self.stats = BotStats()
        self._inbox: asyncio.Queue[Event] = asyncio.Queue(inbox_size)
        self._backlog: deque[Event] = deque(maxlen=8)  # offers that arrived while busy
        self._stale = False

    # --- fed by the living centre --------------------------------------------------------------
    def deliver(self, event: Event) -> None:
        try:
            self._inbox.put_nowait(event)
        except asyncio.QueueFull:
            self.resync()

    def resync(self) -> None:
        """Events were lost: drop what is queued and read the state from the store."""
        self._stale = True

    # --- the bot's life ------------------------------------------------------------------------
    async def run(self) -> None:
        await self._act("set_status", self.router.set_status(self.agent_id, AgentStatus.AVAILABLE))
        while True:
            try:
                if self._stale:
                    await self._catch_up()
                    continue
                event = self._backlog.popleft() if self._backlog else await self._inbox.get()
                if event.type == "offer.created":
                    await self._on_offer(event.data)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("bot.failed", agent=self.agent_id)
                await pause(self.clock, 5)

    async def _on_offer(self, data: dict[str, Any]) -> None:
        offer_id, contact_id, queue = str(data["offer"]), str(data["contact"]), str(data.get("queue", ""))
        self.stats.offers += 1
        p = self.profile
        draw = self.rng.random()
        if draw < p.ring_out_share:
            expires = int(data.get("expires_at", self.clock.now_ms()))
            ended = await self._wait((expires - self.clock.now_ms()) / 1000 + 30, self._offer_end(offer_id))
            if ended is not None and ended.type == "offer.timed_out":
                self.stats.missed += 1
            await self._come_back()
            return
        ended = await self._wait(self.rng.uniform(*p.answer_delay_s), self._offer_end(offer_id))
        if ended is not None:  # the caller hung up while the phone rang
            self.stats.races += 1
            await self._come_back()
            return
        if draw < p.ring_out_share + p.reject_share:
            await self._act("reject", self.calls.reject(self.agent_id, offer_id))
            self.stats.rejected += 1
            await self._come_back()
            return
        if not await self._act("accept", self.calls.accept(self.agent_id, offer_id)):
            await self._come_back()
            return
        self.stats.answered += 1
        await self._talk(contact_id, queue)

    async def _talk(self, contact_id: str, queue: str) -> None:
        p = self.profile
        mean = mean_talk_s(queue) * p.talk_scale
        talk = self.rng.lognormvariate(math.log(mean) - p.talk_sigma**2 / 2, p.talk_sigma)
        left = self._caller_left(contact_id)
        gone = False
        if self.rng.random() < p.hold_share:
            first = self.rng.uniform(0.2, 0.8) * talk
            gone = await self._wait(first, left) is not None
            talk -= first
            if not gone and await self._act("hold", self.calls.hold(self.agent_id, contact_id)):
                gone = await self._wait(self.rng.uniform(*p.hold_s), left) is not None
                if not gone:
                    await self._act("resume", self.calls.resume(self.agent_id, contact_id))
        if not gone:
            gone = await self._wait(talk, left) is not None
        if gone:
            self.stats.caller_ended += 1
        else:
            await self._act("hangup", self.calls.hangup(self.agent_id, contact_id))
        await self._wrap_up(contact_id, queue)

    async def _wrap_up(self, contact_id: str, queue: str) -> None:
        p = self.profile
        closed = await self._wait(self.rng.uniform(*p.wrap_s), self._closed(contact_id))
        if closed is None:  # not yet closed by the wrap-up time-out
            wrap = choose_wrap_up(self.rng, queue)
            if await self._act("wrap_up", self.calls.wrap_up(self.agent_id, contact_id, wrap)):
                self.stats.wrapped += 1
        if self.rng.random() < p.break_share:
            self.stats.breaks += 1
            await self._act(
                "set_status", self.router.set_status(self.agent_id, AgentStatus.NOT_READY, BREAK_REASON)
            )
            await pause(self.clock, self.rng.uniform(*p.break_s))
            await self._act("set_status", self.router.set_status(self.agent_id, AgentStatus.AVAILABLE))

    async def _come_back(self) -> None:
        """After a missed, rejected or lost offer: back to available unless on a break."""
        agent = await self.router.store.get_agent(self.agent_id)
        if agent.status is AgentStatus.AVAILABLE:
            return
        await pause(self.clock, self.rng.uniform(*self.profile.back_after_s))
        await self._act("set_status", self.router.set_status(self.agent_id, AgentStatus.AVAILABLE))

    async def _catch_up(self) -> None:
        """Rebuild from the store after lost events: answer a pending offer, finish a call in hand."""
        self._stale = False
        while not self._inbox.empty():
            self._inbox.get_nowait()
        self._backlog.clear()
        agent = await self.router.store.get_agent(self.agent_id)
        log.info("bot.resync", agent=self.agent_id, engine=agent.engine)
        if agent.engine is EngineState.OFFERED and agent.offer_id is not None:
            offer = await self.router.store.get_offer(agent.offer_id)
            contact = await self.router.store.get_contact(offer.contact_id)
            data = {"offer": offer.id, "contact": offer.contact_id, "queue": contact.queue}
            await self._on_offer({**data, "expires_at": offer.expires_at})
        elif agent.engine in (EngineState.BUSY, EngineState.WRAP_UP) and agent.contact_id is not None:
            contact = await self.router.store.get_contact(agent.contact_id)
            if agent.engine is EngineState.BUSY:
                await self._act("hangup", self.calls.hangup(self.agent_id, contact.id))
            await self._wrap_up(contact.id, contact.queue)
        elif agent.status is not AgentStatus.AVAILABLE:
            await self._come_back()

    async def wind_down(self) -> None:
        """Leave the centre tidy when the simulation stops (the bot's task already cancelled): end
        any call in hand with a wrap-up, decline a ringing offer, log out."""
        store = self.router.store
        agent = await store.get_agent(self.agent_id)
        if agent.engine is EngineState.OFFERED and agent.offer_id is not None:
            await self._act("reject", self.calls.reject(self.agent_id, agent.offer_id))
        elif agent.engine in (EngineState.BUSY, EngineState.WRAP_UP) and agent.contact_id is not None:
            contact = await store.get_contact(agent.contact_id)
            if agent.engine is EngineState.BUSY:
                await self._act("hangup", self.calls.hangup(self.agent_id, contact.id))
            wrap = choose_wrap_up(self.rng, contact.queue)
            await self._act("wrap_up", self.calls.wrap_up(self.agent_id, contact.id, wrap))
        await self._act("set_status", self.router.set_status(self.agent_id, AgentStatus.LOGGED_OUT))

    # --- helpers -------------------------------------------------------------------------------
    async def _act(self, what: str, action: Awaitable[object]) -> bool:
        """Run a use case; a domain refusal (a race) is logged and reported as False."""
        try:
            await action
        except FrontdoorError as exc:
            self.stats.races += 1
            log.info("bot.refused", agent=self.agent_id, action=what, error_id=exc.error_id)
            return False
        return True

    def _offer_end(self, offer_id: str) -> Callable[[Event], bool]:
        return lambda e: e.type in OFFER_ENDED and e.data.get("offer") == offer_id

    def _caller_left(self, contact_id: str) -> Callable[[Event], bool]:
        return lambda e: e.type == "contact.wrap_up" and e.data.get("contact") == contact_id

    def _closed(self, contact_id: str) -> Callable[[Event], bool]:
        return lambda e: e.type == "contact.closed" and e.data.get("contact") == contact_id

    async def _wait(self, seconds: float, stop: Callable[[Event], bool]) -> Event | None:
        """Wait ``seconds`` of clock time; return early with the first event matching ``stop``.

        Offers that turn up meanwhile are kept for later; other events are not needed once past.
        """
        deadline = self.clock.now_ms() + int(seconds * 1000)
        while not self._stale:
            remaining = deadline - self.clock.now_ms()
            if remaining <= 0:
                return None
            event: Event | None = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(real_seconds(self.clock, remaining)):
                    event = await self._inbox.get()
            if event is None:
                continue
            if stop(event):
                return event
            if event.type == "offer.created":
                self._backlog.append(event)
        return None
