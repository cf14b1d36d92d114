"""Session stores: memory (one node) and Redis (shared by every node).

Tokens are 256-bit random values; stores keep only their SHA-256, so a leaked store does not leak
usable tokens.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass

import redis.asyncio as aioredis


@dataclass(slots=True)
class Session:
    username: str
    role: str
    created_at: int  # ms
    last_seen: int  # ms


def token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore(ABC):
    @abstractmethod
    async def put(self, token: str, session: Session, idle_ms: int) -> None: ...

    @abstractmethod
    async def get(self, token: str) -> Session | None: ...

    @abstractmethod
    async def touch(self, token: str, session: Session, idle_ms: int) -> None: ...

    @abstractmethod
    async def delete(self, token: str) -> None: ...

    @abstractmethod
    async def delete_user(self, username: str) -> int:
        """End every session of a user (disabled, or role changed). Returns how many ended."""


class MemorySessionStore(SessionStore):
    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    async def put(self, token: str, session: Session, idle_ms: int) -> None:
        self._sessions[token_key(token)] = session

    async def get(self, token: str) -> Session | None:
        return self._sessions.get(token_key(token))

    async def touch(self, token: str, session: Session, idle_ms: int) -> None:
        self._sessions[token_key(token)] = session

    async def delete(self, token: str) -> None:
        self._sessions.pop(token_key(token), None)

    async def delete_user(self, username: str) -> int:
        keys = [k for k, s in self._sessions.items() if s.username == username]
        for key in keys:
            del self._sessions[key]
        return len(keys)


class RedisSessionStore(SessionStore):
    def __init__(self, client: aioredis.Redis, prefix: str = "fd") -> None:
        self._r = client
        self._prefix = prefix

    def _key(self, token: str) -> str:
        return f"{self._prefix}:session:{token_key(token)}"

    def _user_key(self, username: str) -> str:
        return f"{self._prefix}:user-sessions:{username}"

    async def put(self, token: str, session: Session, idle_ms: int) -> None:
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.set(self._key(token), json.dumps(asdict(session)), px=idle_ms)
            pipe.sadd(self._user_key(session.username), token_key(token))
            await pipe.execute()

    async def get(self, token: str) -> Session | None:
        raw = await self._r.get(self._key(token))
        if raw is None:
            return None
        return Session(**json.loads(raw))

    async def touch(self, token: str, session: Session, idle_ms: int) -> None:
        await self._r.set(self._key(token), json.dumps(asdict(session)), px=idle_ms, xx=True)

    async def delete(self, token: str) -> None:
        await self._r.delete(self._key(token))

    async def delete_user(self, username: str) -> int:
        hashed = await self._r.smembers(self._user_key(username))
        keys = [f"{self._prefix}:session:{h.decode() if isinstance(h, bytes) else h}" for h in hashed]
        ended = int(await self._r.delete(*keys)) if keys else 0
        await self._r.delete(self._user_key(username))
        return ended
