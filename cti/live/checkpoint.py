"""Checkpoints of the live view: the feed's state and the centre seq it reflects.

Redis layout: ``{prefix}:live:checkpoint`` is a hash with ``seq`` (the centre seq) and ``state`` (the
feed's JSON, ``SupervisorFeed.to_json``). Every node writes it; a write only replaces an older one
(compare-and-set on ``seq`` in one script), so a lagging node never moves it backwards. Every node
computes the same state for a seq, so whose checkpoint wins does not matter.

In memory mode there is no checkpoint: the projection lives with the process, as the event bus does,
and a restarted process starts both afresh.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any, NamedTuple

import redis.asyncio as aioredis

VERSION = 1

# KEYS: checkpoint hash. ARGV: seq, state JSON.
_SAVE = """
local current = tonumber(redis.call('HGET', KEYS[1], 'seq') or '-1')
if tonumber(ARGV[1]) <= current then return 0 end
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'state', ARGV[2])
return 1
"""


class Checkpoint(NamedTuple):
    seq: int
    state: dict[str, Any]


class Checkpoints(ABC):
    @abstractmethod
    async def load(self) -> Checkpoint | None: ...

    @abstractmethod
    async def save(self, checkpoint: Checkpoint) -> bool:
        """Store ``checkpoint`` unless a newer (or as new) one is stored; True if stored."""


class NoCheckpoints(Checkpoints):
    """Memory mode: nothing outlives the process."""

    async def load(self) -> Checkpoint | None:
        return None

    async def save(self, checkpoint: Checkpoint) -> bool:
        return False


class RedisCheckpoints(Checkpoints):
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client = client
        self.key = f"{prefix}:live:checkpoint"
        self._save = client.register_script(_SAVE)

    async def load(self) -> Checkpoint | None:
        raw = await self.client.hmget(self.key, ["seq", "state"])
        if raw[0] is None or raw[1] is None:
            return None
        state = json.loads(raw[1])
        if state.get("version") != VERSION:
            return None  # written by another version: rebuild from the stream instead
        return Checkpoint(int(raw[0]), state["feed"])

    async def save(self, checkpoint: Checkpoint) -> bool:
        state = json.dumps({"version": VERSION, "feed": checkpoint.state}, separators=(",", ":"))
        return bool(await self._save(keys=[self.key], args=[checkpoint.seq, state]))
