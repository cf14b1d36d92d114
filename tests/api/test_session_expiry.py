"""Sessions end after idle_s without a request and after absolute_s in any case, on both stores.

A request extends the session; the store is written back at most once a minute (not on every
request), so a session may end up to that much before idle_s after its very last request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis

from cti.auth.service import TOUCH_EVERY_MS, AuthService
from cti.auth.sessions import MemorySessionStore, RedisSessionStore, Session, SessionStore
from cti.bench.ws_centre import PASSWORD, cheap_hash
from cti.domain.clock import ManualClock
from cti.domain.errors import Unauthorised

IDLE_S = 30 * 60
ABSOLUTE_S = 8 * 3600


@dataclass(frozen=True)
class User:
    username: str
    role: str
    password_hash: str


class CountingStore(SessionStore):
    """Counts the writes a real store receives."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.touches = 0

    async def put(self, token: str, session: Session, idle_ms: int) -> None:
        await self.inner.put(token, session, idle_ms)

    async def get(self, token: str) -> Session | None:
        return await self.inner.get(token)

    async def touch(self, token: str, session: Session, idle_ms: int) -> None:
        self.touches += 1
        await self.inner.touch(token, session, idle_ms)

    async def delete(self, token: str) -> None:
        await self.inner.delete(token)

    async def delete_user(self, username: str) -> int:
        return await self.inner.delete_user(username)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[CountingStore]:
    if request.param == "memory":
        yield CountingStore(MemorySessionStore())
        return
    url = request.getfixturevalue("redis_url")
    prefix = request.getfixturevalue("redis_prefix")
    client = aioredis.Redis.from_url(url)
    try:
        yield CountingStore(RedisSessionStore(client, prefix))
    finally:
        await client.aclose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def auth(store: CountingStore, clock: ManualClock) -> AuthService:
    users = {"agent01": User("agent01", "agent", cheap_hash())}
    return AuthService(users, store, clock, idle_s=IDLE_S, absolute_s=ABSOLUTE_S)


async def _expired(auth: AuthService, token: str) -> str:
    with pytest.raises(Unauthorised) as raised:
        await auth.authenticate(token)
    return raised.value.error_id


async def test_requests_keep_a_session_alive_until_it_idles_out(
    auth: AuthService, clock: ManualClock
) -> None:
    token = (await auth.login("agent01", PASSWORD)).access_token
    for _ in range(5):  # 5 x 20 min of steady use: longer than idle_s, never idle that long
        clock.advance(20 * 60 * 1000)
        assert (await auth.authenticate(token)).username == "agent01"
    clock.advance(IDLE_S * 1000 + 1)
    assert await _expired(auth, token) == "session_expired"
    assert await _expired(auth, token) == "session_invalid"  # and it is gone from the store


async def test_activity_is_written_back_at_most_once_a_minute(
    auth: AuthService, store: CountingStore, clock: ManualClock
) -> None:
    token = (await auth.login("agent01", PASSWORD)).access_token
    for _ in range(100):  # 100 requests in 50 s: the first minute is not over
        clock.advance(500)
        await auth.authenticate(token)
    assert store.touches == 0
    clock.advance(TOUCH_EVERY_MS)
    await auth.authenticate(token)
    assert store.touches == 1
    # The session idles out idle_s after that write-back, at most a minute before idle_s after the
    # last request.
    last_written = clock.now_ms()
    clock.advance(30_000)
    await auth.authenticate(token)
    assert store.touches == 1
    clock.advance(last_written + IDLE_S * 1000 - clock.now_ms())
    assert (await auth.authenticate(token)).username == "agent01"  # exactly idle_s: still valid
    clock.advance(IDLE_S * 1000 + 1)
    assert await _expired(auth, token) == "session_expired"


async def test_a_session_ends_after_absolute_s_however_busy(auth: AuthService, clock: ManualClock) -> None:
    token = (await auth.login("agent01", PASSWORD)).access_token
    for _ in range(ABSOLUTE_S // 600):
        clock.advance(600 * 1000)
        await auth.authenticate(token)
    clock.advance(1)
    assert await _expired(auth, token) == "session_expired"
