"""Agent presence: a lease per agent, shared by every node.

A lease is refreshed (never shortened) by every message an agent's desktop sends, on whichever node it
is connected, and once more when a connection closes (so a reconnect has ``heartbeat_timeout_s`` to
come back). Each node sweeps for expired leases; claiming one is atomic, so exactly one node acts on
it: if the agent is still ``available`` it is made ``not_ready`` with reason ``unreachable``, which
publishes ``agent.status`` on the centre stream. An agent connected to another node keeps its lease
fresh there, so no node marks it.

Memory: a dict (one node). Redis: the sorted set ``{prefix}:ws:presence`` (member: agent, score: the
lease's expiry in epoch ms, by the services' clock, which nodes share as they share routing timers).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod

import redis.asyncio as aioredis
import structlog

from cti.domain.errors import NotFound
from cti.domain.states import UNREACHABLE_REASON, AgentStatus
from cti.tasks import stop_task
from cti.wiring import Services

log = structlog.get_logger(__name__)

UNREACHABLE = UNREACHABLE_REASON

_CLAIM_LUA = """
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) <= tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
"""


class PresenceStore(ABC):
    @abstractmethod
    async def refresh(self, agent: str, until_ms: int) -> None:
        """Extend the agent's lease to ``until_ms`` (a later lease is kept)."""

    @abstractmethod
    async def expired(self, now_ms: int) -> list[str]:
        """Agents whose lease ran out at or before ``now_ms``."""

    @abstractmethod
    async def claim(self, agent: str, now_ms: int) -> bool:
        """Remove the lease if it is still expired; True for the one caller that did."""

    @abstractmethod
    async def lease(self, agent: str) -> int | None: ...


class MemoryPresence(PresenceStore):
    def __init__(self) -> None:
        self._leases: dict[str, int] = {}

    async def refresh(self, agent: str, until_ms: int) -> None:
        self._leases[agent] = max(until_ms, self._leases.get(agent, 0))

    async def expired(self, now_ms: int) -> list[str]:
        return [agent for agent, until in self._leases.items() if until <= now_ms]

    async def claim(self, agent: str, now_ms: int) -> bool:
        until = self._leases.get(agent)
        if until is None or until > now_ms:
            return False
        del self._leases[agent]
        return True

    async def lease(self, agent: str) -> int | None:
        return self._leases.get(agent)


class RedisPresence(PresenceStore):
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._r = client
        self._key = f"{prefix}:ws:presence"
        self._claim = client.register_script(_CLAIM_LUA)

    async def refresh(self, agent: str, until_ms: int) -> None:
        await self._r.zadd(self._key, {agent: until_ms}, gt=True)  # GT also adds a missing member

    async def expired(self, now_ms: int) -> list[str]:
        raw = await self._r.zrangebyscore(self._key, "-inf", now_ms, start=0, num=500)
        return [m.decode() if isinstance(m, bytes) else str(m) for m in raw]

    async def claim(self, agent: str, now_ms: int) -> bool:
        return bool(await self._claim(keys=[self._key], args=[agent, now_ms]))

    async def lease(self, agent: str) -> int | None:
        score = await self._r.zscore(self._key, agent)
        return None if score is None else int(score)


class PresenceWatcher:
    """Sweeps for expired leases every ``sweep_s`` and moves those agents out of ``available``."""

    def __init__(self, services: Services, store: PresenceStore, timeout_ms: int, sweep_s: float) -> None:
        self.services = services
        self.store = store
        self.timeout_ms = timeout_ms
        self.sweep_s = sweep_s
        self.sweeps = 0  # completed sweeps (tests wait on it)
        self.marked = 0  # agents this node made unreachable
        self._task: asyncio.Task[None] | None = None

    async def refresh(self, agent: str) -> None:
        try:
            await self.store.refresh(agent, self.services.clock.now_ms() + self.timeout_ms)
        except Exception:  # presence is best effort: a store hiccup must not end the connection
            log.warning("ws.presence_refresh_failed", agent=agent, exc_info=True)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ws-presence")

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("ws.presence_sweep_failed")
            await asyncio.sleep(self.sweep_s)

    async def sweep(self) -> None:
        now = self.services.clock.now_ms()
        for agent in await self.store.expired(now):
            if await self.store.claim(agent, now):
                await self._mark(agent)
        self.sweeps += 1

    async def _mark(self, agent_id: str) -> None:
        try:
            before = await self.services.store.get_agent(agent_id)
            if before.status is not AgentStatus.AVAILABLE:
                return
            # Still available? Checked again in the same atomic step as the change.
            agent = await self.services.router.set_status(
                agent_id, AgentStatus.NOT_READY, UNREACHABLE, only_if=AgentStatus.AVAILABLE
            )
        except NotFound:
            return
        if agent.reason != UNREACHABLE:
            return
        self.marked += 1
        log.info("ws.agent_unreachable", agent=agent_id)
