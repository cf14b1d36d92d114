"""The node's desktop-channel hub: tickets, handshakes, connections, feeds, heartbeats and presence.

One per app, kept in ``services.extras["ws"]``; created and stopped by the hooks ``install`` adds.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections import Counter
from collections.abc import Mapping
from typing import Any

import structlog
from starlette.websockets import WebSocket, WebSocketDisconnect

from cti.auth.service import AUTH_STREAM, Principal
from cti.domain.events import Event, Resync
from cti.tasks import stop_task
from cti.wiring import Services
from cti.ws.connection import Connection
from cti.ws.feeds import Feeds
from cti.ws.handshake import Refused, allowed_origins, check_origin, parse_batch, parse_last_seq
from cti.ws.options import (
    AGENT_ROLES,
    CLOSE_GOING_AWAY,
    CLOSE_HEARTBEAT,
    CLOSE_INTERNAL,
    CLOSE_POLICY,
    SUPERVISOR_ROLES,
    SUPERVISOR_STREAM,
    WsOptions,
    agent_stream,
)
from cti.ws.outbox import Control
from cti.ws.presence import MemoryPresence, PresenceStore, PresenceWatcher, RedisPresence
from cti.ws.snapshots import SnapshotProvider, default_providers
from cti.ws.tickets import MemoryTicketStore, RedisTicketStore, TicketStore

log = structlog.get_logger(__name__)

ROLES = {"agent": AGENT_ROLES, "supervisor": SUPERVISOR_ROLES}
HEARTBEAT_SLICES = 10


class Hub:
    def __init__(
        self,
        services: Services,
        options: WsOptions | None = None,
        snapshot_providers: Mapping[str, SnapshotProvider] | None = None,
    ) -> None:
        self.services = services
        self.options = options = options or WsOptions()
        timeout_s = options.heartbeat_timeout_s or float(services.centre.routing.heartbeat_timeout_s)
        self.heartbeat_timeout_ms = max(1, int(timeout_s * 1000))
        self.lease_refresh_ms = self.heartbeat_timeout_ms // 10
        self.heartbeat_data: dict[str, Any] = {
            "interval_s": options.heartbeat_interval_s,
            "timeout_s": self.heartbeat_timeout_ms / 1000,
        }
        self.tickets: TicketStore
        presence: PresenceStore
        if services.redis is not None:
            prefix = services.settings.redis_prefix
            self.tickets = RedisTicketStore(services.redis, prefix)
            presence = RedisPresence(services.redis, prefix)
        else:
            self.tickets = MemoryTicketStore()
            presence = MemoryPresence()
        self.presence = PresenceWatcher(
            services, presence, self.heartbeat_timeout_ms, options.presence_sweep_s
        )
        self.feeds = Feeds(services.bus, options.feed_max_pending)
        self.snapshot_providers: dict[str, SnapshotProvider] = default_providers()
        self.snapshot_providers.update(snapshot_providers or {})
        self.connections: set[Connection] = set()
        self._per_user: Counter[str] = Counter()
        self._origins = allowed_origins(services.settings)
        self._idle = asyncio.Event()
        self._idle.set()
        self._ticker: asyncio.Task[None] | None = None
        self._auth_follower: asyncio.Task[None] | None = None
        self._stopping = False
        self._froze_gc = False
        self._admitted = 0

    def now_ms(self) -> int:
        return self.services.clock.now_ms()

    # --- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        self.presence.start()
        self._ticker = asyncio.create_task(self._tick(), name="ws-heartbeats")
        after = await self.services.bus.last_seq(AUTH_STREAM)
        self._auth_follower = asyncio.create_task(self._follow_auth(after), name="ws-auth")
        if self.options.freeze_gc:
            gc.freeze()  # start-up objects leave the collector's view (performance.md)
            self._froze_gc = True

    async def stop(self) -> None:
        self._stopping = True
        for conn in list(self.connections):
            conn.request_close(CLOSE_GOING_AWAY, "server shutting down")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.options.send_timeout_s + 1):
                await self._idle.wait()
        if self._ticker is not None:
            await stop_task(self._ticker)
        if self._auth_follower is not None:
            await stop_task(self._auth_follower)
        await self.presence.stop()
        await self.feeds.close()
        if self._froze_gc:
            gc.unfreeze()

    async def _tick(self) -> None:
        # The connections are beaten in HEARTBEAT_SLICES groups spread over the interval: each one
        # still hears from the server every interval, but 2,000 heartbeats never go out in one burst
        # (a burst is a pause of tens of milliseconds for every offer behind it).
        step = self.options.heartbeat_interval_s / HEARTBEAT_SLICES
        turn = 0
        while True:
            await asyncio.sleep(step)
            try:
                self.heartbeat(turn % HEARTBEAT_SLICES)
                turn += 1
                if turn % HEARTBEAT_SLICES == 0:
                    await self.tickets.prune(self.now_ms())
            except Exception:
                log.exception("ws.tick_failed")

    async def _follow_auth(self, after: int) -> None:
        """Sessions ended on any node (sign-out, user disabled) close their websockets here too."""
        subscription = self.services.bus.subscribe(AUTH_STREAM, after_seq=after)
        try:
            async for item in subscription:
                if isinstance(item, Resync):
                    log.warning("ws.auth_resync", reason=item.reason)  # tickets still end with sessions
                    continue
                self.sessions_ended(item)
        finally:
            await subscription.close()

    def sessions_ended(self, event: Event) -> None:
        for conn in list(self.connections):
            p = conn.principal
            if (
                event.type == "session.ended"
                and p.session is not None
                and p.session == event.data.get("session")
            ) or (event.type == "user.sessions_ended" and p.username == event.data.get("user")):
                conn.request_close(CLOSE_POLICY, "signed out")

    def heartbeat(self, group: int | None = None) -> None:
        """Send a heartbeat to the connections of ``group`` (all when None); close those that have
        been silent too long."""
        now = self.now_ms()
        beat = Control("heartbeat", self.heartbeat_data)
        for conn in list(self.connections):
            if group is not None and conn.heartbeat_group != group:
                continue
            if now - conn.last_heard_ms > self.heartbeat_timeout_ms:
                conn.timed_out = True
                conn.request_close(CLOSE_HEARTBEAT, "heartbeat timeout")
            else:
                conn.outbox.control(beat)

    # --- API used by the routes ------------------------------------------------------------------
    async def issue_ticket(self, principal: Principal) -> str:
        return await self.tickets.issue(principal, self.now_ms(), int(self.options.ticket_ttl_s * 1000))

    async def snapshot(self, kind: str, principal: Principal) -> dict[str, Any]:
        return await self.snapshot_providers[kind](self.services, principal)

    async def serve(self, ws: WebSocket, kind: str) -> None:
        # Accept first, then check: a browser cannot see why a handshake was refused, but it does
        # see the code and reason of a close.
        try:
            await ws.accept()
        except (OSError, WebSocketDisconnect):
            return
        try:
            conn = await self._admit(ws, kind)
        except Exception as exc:
            refused = exc if isinstance(exc, Refused) else Refused("internal error", CLOSE_INTERNAL)
            if not isinstance(exc, Refused):
                log.error("ws.admit_failed", channel=kind, exc_info=exc)
            log.info("ws.refused", channel=kind, reason=refused.reason)
            with contextlib.suppress(Exception):
                await ws.close(refused.code, refused.reason)
            return
        self.connections.add(conn)
        self._per_user[conn.principal.username] += 1
        self._idle.clear()
        log.info("ws.connected", channel=kind, user=conn.principal.username, resume=conn.start is not None)
        try:
            await conn.run()
        finally:
            self.connections.discard(conn)
            self._per_user[conn.principal.username] -= 1
            if self._per_user[conn.principal.username] <= 0:
                del self._per_user[conn.principal.username]
            if not self.connections:
                self._idle.set()
            if kind == "agent" and not conn.timed_out:
                await self.presence.refresh(conn.principal.username)  # the grace period starts now
            log.info("ws.disconnected", channel=kind, user=conn.principal.username, sent=conn.sent)

    async def _admit(self, ws: WebSocket, kind: str) -> Connection:
        if self._stopping:
            raise Refused("server shutting down", CLOSE_GOING_AWAY)
        check_origin(ws.headers.get("origin"), ws.headers.get("host"), self._origins)
        start = parse_last_seq(ws.query_params.get("last_seq"))
        batch = parse_batch(ws.query_params.get("batch"))
        ticket = ws.query_params.get("ticket")
        if not ticket:
            raise Refused("a ticket is required: POST /api/ws-ticket")
        principal = await self.tickets.consume(ticket, self.now_ms())
        if principal is None:
            raise Refused("invalid, used or expired ticket")
        if principal.role not in ROLES[kind]:
            raise Refused(f"this channel needs one of the roles: {', '.join(ROLES[kind])}")
        user = self.services.centre.users.get(principal.username)
        if user is None or user.role != principal.role:
            raise Refused("the session has ended: sign in again")
        if self._per_user[principal.username] >= self.options.max_connections_per_user:
            raise Refused("too many connections for this user")
        stream = agent_stream(principal.username) if kind == "agent" else SUPERVISOR_STREAM
        conn = Connection(self, ws, principal, kind, stream, start, batch)
        conn.heartbeat_group = self._admitted % HEARTBEAT_SLICES
        self._admitted += 1
        return conn
