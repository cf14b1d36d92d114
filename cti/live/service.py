"""The live view: follows the centre stream, keeps the supervisor feed, publishes its messages.

Start: load the checkpoint (Redis mode), replay the centre events after its seq with ``read_after``,
then follow live. If those events were trimmed away, rebuild what the state store still knows (who is
waiting, agents' states) and flag ``partial`` until the next Europe/London midnight: today's counters
miss events. A live ``Resync`` (the follower fell behind) is caught up the same way.

Every ``tick_s`` time is moved to ``now - settle_ms`` (time-based alerts and throttled figures fall
due). The settle delay leaves time for centre events stamped just before ``now`` to arrive, so that
every node puts a time-based message between the same two events. Messages go through an outbox
drained by one sender task, so a slow publish never holds up following; unsent messages are saved
with the checkpoint and sent again on start (``publish_once`` drops repeats).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

import structlog

from cti.bus.port import EventBus
from cti.calls.follower import StreamFollower
from cti.domain.clock import Clock
from cti.domain.events import CENTRE_STREAM, Event, Resync
from cti.live.alerts import WARN_RATIO, current_alerts
from cti.live.checkpoint import Checkpoint, Checkpoints, NoCheckpoints
from cti.live.feed import Message, SupervisorFeed
from cti.live.messages import SUPERVISOR_STREAM
from cti.live.stats import AgentView, LiveStats, QueueTargets, Waiting
from cti.state.port import StateStore

log = structlog.get_logger(__name__)

OUTBOX_MAX = 50_000
PUBLISH_RUN = 64  # queued messages published in one round trip


class LiveView(StreamFollower):
    name = "live"

    def __init__(
        self,
        bus: EventBus,
        store: StateStore,
        targets: Mapping[str, QueueTargets],
        clock: Clock,
        *,
        checkpoints: Checkpoints | None = None,
        tick_s: float = 1.0,
        settle_ms: int = 250,
        checkpoint_every_s: float = 5.0,
        warn_ratio: float = WARN_RATIO,
    ) -> None:
        super().__init__(bus)
        self.store = store
        self.targets = dict(targets)
        self.clock = clock
        self.checkpoints = checkpoints or NoCheckpoints()
        self.tick_s, self.settle_ms, self.checkpoint_every_s = tick_s, settle_ms, checkpoint_every_s
        self.warn_ratio = warn_ratio
        self.feed = SupervisorFeed.for_queues(self.targets, warn_ratio=warn_ratio)
        self._outbox: deque[Message] = deque()
        self._wake = asyncio.Event()
        self._sending = asyncio.Lock()
        self._helpers: list[asyncio.Task[None]] = []
        self._stopping = False
        self._saved_seq = -1

    @property
    def stats(self) -> LiveStats:
        return self.feed.stats

    # --- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        """Restore and catch up first, so the figures are current when this returns."""
        if self._task is not None:
            return
        checkpoint = await self.checkpoints.load()
        if checkpoint is not None:
            self.feed = SupervisorFeed.from_json(
                checkpoint.state["feed"], self.targets, warn_ratio=self.warn_ratio
            )
            self._queue([Message(*m) for m in checkpoint.state["outbox"]])
            self._saved_seq = checkpoint.seq
        await self._catch_up(self.stats.seq)
        await self._add_quiet_agents()
        self.last_seq = self.stats.seq
        self._task = asyncio.create_task(self._follow(), name=self.name)
        await self._ready.wait()
        self._stopping = False
        self._helpers = [
            asyncio.create_task(self._send_loop(), name="live-send"),
            asyncio.create_task(self._tick_loop(), name="live-tick"),
        ]
        log.info("live.started", seq=self.stats.seq, partial=self.stats.partial)

    async def stop(self) -> None:
        helpers, self._helpers = self._helpers, []
        self._stopping = True
        self._wake.set()
        for task in helpers:
            # redis-py (Python 3.11) can swallow a cancel that lands as a reply arrives; the loops
            # also check ``_stopping``, and the cancel is repeated until the task ends.
            while not task.done():
                task.cancel()
                await asyncio.wait([task], timeout=0.05)
        await super().stop()
        try:
            await self.flush()
            await self.save()
        except Exception:  # Redis gone: the next start replays from the last checkpoint instead
            log.exception("live.stop_incomplete", outbox=len(self._outbox))

    # --- following -------------------------------------------------------------------------------
    async def apply(self, event: Event) -> None:
        self._queue(self.feed.apply(event))

    async def on_resync(self, resync: Resync) -> None:
        log.warning("live.resync", reason=resync.reason, last_seq=resync.last_seq, at=self.stats.seq)
        await self._catch_up(self.stats.seq, upto=resync.last_seq)
        self.last_seq = resync.last_seq

    async def _catch_up(self, after: int, upto: int | None = None) -> None:
        while True:
            batch = await self.bus.read_after(CENTRE_STREAM, after, limit=1000)
            if isinstance(batch, Resync):
                await self._rebuild(batch.last_seq if upto is None else max(upto, batch.last_seq))
                return
            batch = [e for e in batch if upto is None or e.seq <= upto]
            if not batch:
                return
            for event in batch:
                self._queue(self.feed.apply(event))
            after = batch[-1].seq

    async def _add_quiet_agents(self) -> None:
        """Agents with no event yet (logged out since the store began) are on the team all the same."""
        for agent in await self.store.agents():
            if agent.id not in self.stats.agents:
                self.stats.agents[agent.id] = AgentView(
                    agent.id,
                    str(agent.status),
                    agent.reason,
                    str(agent.engine),
                    agent.status_since,
                    agent.contact_id,
                )

    async def _rebuild(self, seq: int) -> None:
        """The events since the checkpoint are gone: take the state store's word for the present."""
        log.warning("live.rebuild_partial", from_seq=self.stats.seq, to_seq=seq)
        feed = SupervisorFeed.for_queues(self.targets, warn_ratio=self.warn_ratio)
        stats = feed.stats
        stats.move_to(self.clock.now_ms())
        stats.partial, stats.seq, feed.slot = True, seq, seq
        for agent in await self.store.agents():
            stats.agents[agent.id] = AgentView(
                agent.id,
                str(agent.status),
                agent.reason,
                str(agent.engine),
                agent.status_since,
                agent.contact_id,
            )
            if agent.engine == "offered" and agent.contact_id is not None:
                with contextlib.suppress(Exception):
                    c = await self.store.get_contact(agent.contact_id)
                    stats.waiting[c.id] = Waiting(c.id, c.queue, c.priority, c.enqueued_at, agent.id)
        for c in await self.store.waiting():
            stats.waiting[c.id] = Waiting(c.id, c.queue, c.priority, c.enqueued_at)
        stats.reindex()
        self.feed = feed
        self._queue(feed.advance(stats.time))

    # --- time, publishing, checkpoints -----------------------------------------------------------
    async def _tick_loop(self) -> None:
        last_save = time.monotonic()
        while not self._stopping:
            await asyncio.sleep(self.tick_s)
            try:
                self._queue(self.feed.advance(self.clock.now_ms() - self.settle_ms))
                if time.monotonic() - last_save >= self.checkpoint_every_s:
                    last_save = time.monotonic()
                    await self.save()
            except Exception:
                log.exception("live.tick_failed")

    def _queue(self, messages: list[Message]) -> None:
        if not messages:
            return
        self._outbox.extend(messages)
        overflow = len(self._outbox) - OUTBOX_MAX
        if overflow > 0:
            log.warning("live.outbox_full", dropped=overflow)  # clients recover with a snapshot
            for _ in range(overflow):
                self._outbox.popleft()
        self._wake.set()

    async def _send_loop(self) -> None:
        delay = 0.05
        while not self._stopping:
            await self._wake.wait()
            if self._stopping:
                return  # stop() sends what is left
            self._wake.clear()
            try:
                await self.flush()
                delay = 0.05
            except Exception as exc:
                log.warning("live.publish_failed", error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                self._wake.set()

    async def flush(self) -> None:
        """Publish every queued message, in order, in runs of up to ``PUBLISH_RUN`` per round trip (the
        first failure stops it, to be retried: messages already appended are then skipped)."""
        async with self._sending:
            while self._outbox:
                run = list(itertools.islice(self._outbox, PUBLISH_RUN))
                items = [(m.key, m.type, m.data, m.at) for m in run]
                await self.bus.publish_once_many(SUPERVISOR_STREAM, items)
                for m in run:  # (an overflow may have dropped some of them meanwhile)
                    if self._outbox and self._outbox[0] is m:
                        self._outbox.popleft()

    async def save(self) -> None:
        """Checkpoint the feed (and its unsent messages) if it moved since the last one."""
        seq = self.stats.seq
        if seq == self._saved_seq:
            return
        state = {"feed": self.feed.to_json(), "outbox": [list(m) for m in self._outbox]}
        await self.checkpoints.save(Checkpoint(seq, state))
        self._saved_seq = seq

    # --- reads -----------------------------------------------------------------------------------
    def snapshot(self, now: int) -> dict[str, Any]:
        """Queues, agents and active alerts at ``now``, as of the centre seq ``as_of_seq``."""
        stats = self.stats
        if now >= stats.day_end > 0:  # midnight passed and no tick yet: today's counters start at 0
            stats = LiveStats.from_json(stats.to_json(), self.targets)
            stats.move_to(now)
        alerts = sorted(current_alerts(stats, now, self.warn_ratio).values(), key=lambda a: (a.at, a.id))
        return {
            "as_of_seq": stats.seq,
            "at": now,
            "day": stats.day,
            "partial": stats.partial,
            "queues": [stats.queue_figures(q, now) for q in stats.known_queues()],
            "agents": [stats.agents[a].figures() for a in sorted(stats.agents)],
            "alerts": [a.to_json() for a in alerts],
        }
