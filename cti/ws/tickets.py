"""Websocket tickets: the bearer token never goes into a URL.

A client posts its bearer token to ``POST /api/ws-ticket`` and gets a random ticket (256 bits) that is
bound to the user and role, valid for ``ticket_ttl_s`` and usable exactly once, on any node. Stores keep
only the ticket's SHA-256. Redis: ``{prefix}:ws:ticket:{sha256}`` with a TTL, consumed with ``GETDEL``
(atomic, so two nodes cannot both accept it); the expiry time is also stored and checked, so both
stores follow the services' clock.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from abc import ABC, abstractmethod

import redis.asyncio as aioredis

from cti.auth.service import Principal

MAX_TICKET_CHARS = 128  # anything longer is not one of ours: refused without a lookup


def new_ticket() -> str:
    return secrets.token_urlsafe(32)


def _hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


class TicketStore(ABC):
    async def issue(self, principal: Principal, now_ms: int, ttl_ms: int) -> str:
        ticket = new_ticket()
        await self._put(_hash(ticket), principal, now_ms + ttl_ms, ttl_ms)
        return ticket

    async def consume(self, ticket: str, now_ms: int) -> Principal | None:
        """The ticket's principal, once; None if unknown, already used or expired."""
        if not ticket or len(ticket) > MAX_TICKET_CHARS:
            return None
        found = await self._take(_hash(ticket))
        if found is None:
            return None
        principal, expires_at = found
        return principal if now_ms < expires_at else None

    @abstractmethod
    async def prune(self, now_ms: int) -> None:
        """Forget expired tickets."""

    @abstractmethod
    async def _put(self, key: str, principal: Principal, expires_at: int, ttl_ms: int) -> None: ...

    @abstractmethod
    async def _take(self, key: str) -> tuple[Principal, int] | None: ...


class MemoryTicketStore(TicketStore):
    def __init__(self) -> None:
        self._tickets: dict[str, tuple[Principal, int]] = {}

    def __len__(self) -> int:
        return len(self._tickets)

    async def _put(self, key: str, principal: Principal, expires_at: int, ttl_ms: int) -> None:
        self._tickets[key] = (principal, expires_at)

    async def _take(self, key: str) -> tuple[Principal, int] | None:
        return self._tickets.pop(key, None)

    async def prune(self, now_ms: int) -> None:
        expired = [key for key, (_, expires_at) in self._tickets.items() if expires_at <= now_ms]
        for key in expired:
            del self._tickets[key]


class RedisTicketStore(TicketStore):
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._r = client
        self._prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self._prefix}:ws:ticket:{key}"

    async def _put(self, key: str, principal: Principal, expires_at: int, ttl_ms: int) -> None:
        value = json.dumps(
            {"u": principal.username, "r": principal.role, "s": principal.session, "x": expires_at}
        )
        await self._r.set(self._key(key), value, px=max(1, ttl_ms), nx=True)

    async def prune(self, now_ms: int) -> None:
        """Redis expires tickets by itself."""

    async def _take(self, key: str) -> tuple[Principal, int] | None:
        raw = await self._r.getdel(self._key(key))
        if raw is None:
            return None
        value = json.loads(raw)
        return Principal(str(value["u"]), str(value["r"]), value.get("s")), int(value["x"])
