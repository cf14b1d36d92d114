"""Log in, authenticate bearer tokens, end sessions. Roles are checked server-side by the API."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cti.auth.sessions import Session, SessionStore, token_key
from cti.bus.port import EventBus
from cti.domain.clock import Clock
from cti.domain.errors import Unauthorised

log = structlog.get_logger(__name__)

ROLES = ("agent", "specialist", "supervisor", "admin", "clinical_safety")


class UserRecord(Protocol):
    @property
    def username(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def password_hash(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Principal:
    username: str
    role: str
    session: str | None = None  # the session's id (the token's hash), so it can be ended everywhere


# Every node follows this stream and closes what an ended session had open (its websockets).
AUTH_STREAM = "auth"
TOUCH_EVERY_MS = 60_000  # a session's last activity is written back at most once a minute


@dataclass(frozen=True, slots=True)
class LoginResult:
    access_token: str
    role: str
    username: str


class AuthService:
    def __init__(
        self,
        users: Mapping[str, UserRecord],
        sessions: SessionStore,
        clock: Clock,
        idle_s: int,
        absolute_s: int,
        bus: EventBus | None = None,
    ) -> None:
        self._bus = bus
        self._users = users
        self._sessions = sessions
        self._clock = clock
        self._idle_ms = idle_s * 1000
        self._absolute_ms = absolute_s * 1000
        # Activity is written back at most this often, not on every request: a session may end up
        # to this much earlier than idle_s after its last request (1 min of the default 30).
        self._touch_ms = min(TOUCH_EVERY_MS, self._idle_ms // 30)
        self._hasher = PasswordHasher()
        # Checked when the user is unknown, so that both failures take about as long.
        self._decoy = self._hasher.hash(secrets.token_hex(16))

    async def login(self, username: str, password: str) -> LoginResult:
        user = self._users.get(username)
        try:
            self._hasher.verify(user.password_hash if user else self._decoy, password)
        except (VerificationError, InvalidHashError):
            user = None
        if user is None:
            log.info("auth.login_failed")  # no username: it may be personal data or a password typo
            raise Unauthorised("wrong username or password", error_id="invalid_credentials")
        token = secrets.token_urlsafe(32)
        now = self._clock.now_ms()
        await self._sessions.put(token, Session(user.username, user.role, now, now), self._idle_ms)
        log.info("auth.login", user=user.username, role=user.role)
        return LoginResult(access_token=token, role=user.role, username=user.username)

    async def authenticate(self, token: str) -> Principal:
        session = await self._sessions.get(token)
        now = self._clock.now_ms()
        if session is None:
            raise Unauthorised("not signed in, or the session has ended", error_id="session_invalid")
        if now - session.last_seen > self._idle_ms or now - session.created_at > self._absolute_ms:
            await self._sessions.delete(token)
            raise Unauthorised("the session has expired: sign in again", error_id="session_expired")
        user = self._users.get(session.username)
        if user is None or user.role != session.role:
            # The user was removed or their role changed: the change applies at once.
            await self._sessions.delete(token)
            raise Unauthorised("the session has ended: sign in again", error_id="session_invalid")
        if now - session.last_seen >= self._touch_ms:
            session.last_seen = now
            await self._sessions.touch(token, session, self._idle_ms)
        return Principal(session.username, session.role, token_key(token))

    async def logout(self, token: str) -> None:
        await self._sessions.delete(token)
        await self._announce("session.ended", {"session": token_key(token)})

    async def end_sessions(self, username: str) -> int:
        """The user is disabled or their role changed: every session ends, on every node."""
        ended = await self._sessions.delete_user(username)
        await self._announce("user.sessions_ended", {"user": username})
        return ended

    async def _announce(self, type: str, data: dict[str, str]) -> None:
        if self._bus is not None:
            await self._bus.publish(AUTH_STREAM, type, data, self._clock.now_ms())
