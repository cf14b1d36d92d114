"""One websocket connection: a reader (client messages) and a writer (its own task and outbox).

The writer keeps ``cursor``, the newest seq the client has been given (or told about). It starts with a
snapshot (no ``last_seq``) or a replay after ``last_seq`` from the bus, then serves the outbox that
the stream's feed has been filling since before the replay began: events at or below the cursor are
skipped, a gap is filled from the bus, so the client sees every seq once, in order. Replays that are
trimmed away (or longer than ``max_replay``) become a snapshot.

A client that opened with ``batch=1`` may get several live events in one frame: when a run taken from
the outbox is contiguous from the cursor, it goes out as one JSON array of the already-encoded events
(one send instead of one per event); a ``batch=1`` supervisor's writer first waits
``wallboard_window_s`` (50 ms) for the rest of the run, unless a full run is already waiting.
Everything else (transport messages, replays, gap-filling) is sent one message per frame, as for
every other client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

import structlog
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from cti.auth.service import Principal
from cti.domain.events import Resync
from cti.tasks import stop_task
from cti.ws.feeds import StreamFeed
from cti.ws.messages import encode, envelope
from cti.ws.options import CLOSE_GOING_AWAY, CLOSE_INTERNAL, CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_UNSUPPORTED
from cti.ws.outbox import CloseRequest, Control, Encoded, Outbox, TokenBucket

if TYPE_CHECKING:
    from cti.ws.hub import Hub

log = structlog.get_logger(__name__)

_GONE = (WebSocketDisconnect, WebSocketDisconnected, OSError)
# Events waiting in the outbox are sent in runs of up to this many under one send deadline (one
# timer for the run, not one per message): when the loop is busy, several have usually queued.
SEND_RUN = 64
_Task = asyncio.Task[CloseRequest | None]


class SendTimeout(Exception):
    """A send did not complete within ``send_timeout_s``: the client is not reading."""


class Connection:
    def __init__(
        self,
        hub: Hub,
        ws: WebSocket,
        principal: Principal,
        kind: str,
        stream: str,
        start: int | None,
        batch: bool = False,
    ) -> None:
        self.hub = hub
        self.ws = ws
        self.principal = principal
        self.kind = kind
        self.stream = stream
        self.start = start
        self.batch = batch  # the client opened with batch=1: contiguous live runs go as one array
        # A batch=1 wallboard waits this long after the first event of a run for the rest of it.
        self.window_s = hub.options.wallboard_window_s if batch and kind == "supervisor" else 0.0
        self.outbox = Outbox(stream, hub.options.send_queue)
        self.cursor = 0
        self.sent = 0
        self.timed_out = False
        self.last_heard_ms = hub.now_ms()
        self.heartbeat_group = 0  # which of the hub's heartbeat groups this connection is in
        self._leased_ms: int | None = None
        self._bucket = TokenBucket(hub.options.rate_per_s, hub.options.rate_burst)
        self._writer: _Task | None = None

    def request_close(self, code: int, reason: str) -> None:
        """Close from the server side; a writer blocked in a send to this client stops at once."""
        self.outbox.close(code, reason)
        if self._writer is not None:
            self._writer.cancel()

    async def run(self) -> None:
        feed = self.hub.feeds.join(self.stream, self.outbox)
        close: CloseRequest | None = None
        writer = self._writer = asyncio.create_task(self._write(feed), name=f"ws-writer:{self.stream}")
        reader = asyncio.create_task(self._read(), name=f"ws-reader:{self.stream}")
        try:
            await self._heard()
            await asyncio.wait((writer, reader), return_when=asyncio.FIRST_COMPLETED)
            close = self._outcome(reader, writer)
        finally:
            self.outbox.close(close.code if close else CLOSE_GOING_AWAY, close.reason if close else "")
            for task in (writer, reader):
                await stop_task(task)
            await self.hub.feeds.leave(feed, self.outbox)
        if close is not None:
            await self._close(close)

    def _outcome(self, reader: _Task, writer: _Task) -> CloseRequest | None:
        for task in (reader, writer):  # the reader first: the client's own fault decides the code
            if not task.done() or task.cancelled():
                continue
            exc = task.exception()
            if exc is None:
                result = task.result()
                if result is not None or task is reader:
                    return result  # the reader's None: the client has gone
                continue
            if isinstance(exc, SendTimeout):
                log.warning("ws.send_timeout", stream=self.stream, user=self.principal.username)
                return None  # the close frame could not be sent either: just end the connection
            if isinstance(exc, _GONE):
                return None
            log.error("ws.connection_failed", stream=self.stream, exc_info=exc)
            return CloseRequest(CLOSE_INTERNAL, "internal error")
        return self.outbox.close_request  # asked by the hub or the feed (the writer was cancelled)

    async def _close(self, request: CloseRequest) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.hub.options.send_timeout_s):
                await self.ws.close(request.code, request.reason)

    # --- reading ---------------------------------------------------------------------------------
    async def _read(self) -> CloseRequest | None:
        limit = self.hub.options.max_message_bytes
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return None
            text = message.get("text")
            if text is None:
                return CloseRequest(CLOSE_UNSUPPORTED, "text (JSON) messages only")
            if len(text) > limit or (len(text) * 4 > limit and len(text.encode()) > limit):
                return CloseRequest(CLOSE_TOO_BIG, f"message larger than {limit} bytes")
            if not self._bucket.take():
                return CloseRequest(CLOSE_POLICY, "too many messages")
            await self._heard()
            self._handle(text)

    async def _heard(self) -> None:
        now = self.hub.now_ms()
        self.last_heard_ms = now
        if self.kind == "agent" and (
            self._leased_ms is None or now - self._leased_ms >= self.hub.lease_refresh_ms
        ):
            self._leased_ms = now
            await self.hub.presence.refresh(self.principal.username)

    def _handle(self, text: str) -> None:
        try:
            msg = json.loads(text)
        except ValueError:
            self._error("invalid_json", "messages must be JSON objects")
            return
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind == "ping":
            ident = msg.get("id")
            valid = isinstance(ident, str) and len(ident) <= 64
            valid = valid or (isinstance(ident, int) and not isinstance(ident, bool) and abs(ident) < 2**53)
            self.outbox.control(Control("pong", {"id": ident if valid else None}))
        elif kind == "snapshot":
            self.outbox.control(Control("snapshot"))
        elif isinstance(kind, str):
            self._error("unknown_type", "unknown message type: expected 'ping' or 'snapshot'")
        else:
            self._error("invalid_message", "expected a JSON object with a 'type'")

    def _error(self, error_id: str, message: str) -> None:
        self.outbox.control(Control("error", {"error_id": error_id, "message": message}))

    # --- writing ---------------------------------------------------------------------------------
    async def _write(self, feed: StreamFeed) -> CloseRequest | None:
        await feed.ready.wait()
        if self.outbox.closed:
            return self.outbox.close_request
        if self.start is None:
            await self._snapshot()
        else:
            self.cursor = self.start
            await self._catch_up()
        await self._send(self._transport("heartbeat", self.hub.heartbeat_data))  # caught up: now live
        while True:
            item = await self.outbox.get()
            if item is None:
                return self.outbox.close_request
            if isinstance(item, Control):
                if item.kind == "snapshot":
                    await self._snapshot()
                else:
                    await self._send(self._transport(item.kind, item.data))
            elif isinstance(item, Resync):
                if item.last_seq > self.cursor:  # else the dropped events were all sent already
                    await self._resync(item.last_seq, item.reason)
            elif item.seq > self.cursor:
                if self.window_s:
                    await self.outbox.gather(SEND_RUN - 1, self.window_s)  # a full run goes at once
                await self._deliver_run([item, *self.outbox.take_events(SEND_RUN - 1)])

    async def _deliver_run(self, run: list[Encoded]) -> None:
        """Send ``run`` in order; the whole run has ``send_timeout_s`` to be written. Events at or below
        the cursor are skipped and a gap is filled from the bus first. For a ``batch=1`` client each
        stretch that continues the cursor without a gap goes as one frame (a JSON array when it holds
        more than one event); for any other, each event is a frame of its own."""
        try:
            async with asyncio.timeout(self.hub.options.send_timeout_s):
                i, n = 0, len(run)
                while i < n:
                    item = run[i]
                    i += 1
                    if item.seq <= self.cursor:
                        continue
                    if item.seq > self.cursor + 1:
                        await self._deliver(item)  # a gap: filled from the bus first, one by one
                        continue
                    stretch = [item]
                    while self.batch and i < n and run[i].seq == stretch[-1].seq + 1:
                        stretch.append(run[i])
                        i += 1
                    if len(stretch) == 1:
                        await self.ws.send_text(item.text)
                    else:
                        await self.ws.send_text("[" + ",".join([e.text for e in stretch]) + "]")
                    self.sent += len(stretch)
                    self.cursor = stretch[-1].seq
        except TimeoutError as exc:
            raise SendTimeout from exc

    async def _deliver(self, item: Encoded) -> None:
        if item.seq > self.cursor + 1:
            await self._catch_up()
            if item.seq <= self.cursor:
                return
            if item.seq > self.cursor + 1:  # not in the bus any more: say so, never skip silently
                await self._resync(item.seq - 1, "trimmed")
        await self._send_text(item.text)
        self.cursor = item.seq

    async def _catch_up(self) -> None:
        bus = self.hub.services.bus
        options = self.hub.options
        if await bus.last_seq(self.stream) - self.cursor > options.max_replay:
            await self._snapshot()
            return
        while True:
            batch = await bus.read_after(self.stream, self.cursor, limit=options.replay_chunk)
            if isinstance(batch, Resync):
                await self._snapshot()
                return
            for event in batch:
                if event.seq > self.cursor:
                    await self._send_text(encode(event.to_json()))
                    self.cursor = event.seq
            if len(batch) < options.replay_chunk:
                return

    async def _snapshot(self) -> None:
        seq = await self.hub.services.bus.last_seq(self.stream)  # read first: no event can fall between
        data = await self.hub.snapshot(self.kind, self.principal)
        await self._send(envelope(self.stream, seq, "snapshot", self.hub.now_ms(), data))
        self.cursor = seq

    async def _resync(self, last_seq: int, reason: str) -> None:
        await self._send(self._transport("resync", {"reason": reason}, last_seq))
        self.cursor = last_seq

    def _transport(self, type: str, data: dict[str, Any], seq: int | None = None) -> dict[str, Any]:
        return envelope(self.stream, self.cursor if seq is None else seq, type, self.hub.now_ms(), data)

    async def _send(self, message: dict[str, Any]) -> None:
        await self._send_text(encode(message))

    async def _send_text(self, text: str) -> None:
        try:
            async with asyncio.timeout(self.hub.options.send_timeout_s):
                await self.ws.send_text(text)
        except TimeoutError as exc:
            raise SendTimeout from exc
        self.sent += 1
