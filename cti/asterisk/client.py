"""An asyncio AMI client: one connection at a time, reconnecting for ever, resyncing after each login.

Layers: ``protocol`` frames bytes; this module correlates actions and replies by ActionID, collects
list actions until their ``...Complete`` event, and runs the policy (login, ping watchdog, reconnect
with backoff, resync). Events go through one ordered queue to the handlers, so handlers see them in the
order Asterisk sent them, and a ``Resync`` lands in that same order after each login (AMI never replays
what was missed while we were away).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import structlog

from cti.asterisk.protocol import FrameParser, Message, Pair, action, md5_key
from cti.tasks import stop_task

log = structlog.get_logger(__name__)


class AmiError(Exception):
    """Asterisk answered ``Response: Error``."""

    def __init__(self, action_name: str, message: str) -> None:
        super().__init__(f"{action_name}: {message}")
        self.action_name = action_name
        self.message = message


class AmiAuthError(AmiError):
    pass


class AmiConnectionError(Exception):
    """Not connected, or the connection went away before the reply."""


@dataclass(slots=True)
class Reply:
    response: Message
    events: list[Message] = field(default_factory=list)  # list items, without the ...Complete event
    complete: Message | None = None

    @property
    def ok(self) -> bool:
        return (self.response.response or "").lower() in ("success", "goodbye", "follows")

    @property
    def message(self) -> str:
        return self.response.get("Message", "") or ""


@dataclass(frozen=True, slots=True)
class Resync:
    """What the PBX has right now, read after a login: ``CoreShowChannel`` events and ``QueueStatus``
    items (``QueueParams``, ``QueueMember``, ``QueueEntry``)."""

    generation: int
    channels: tuple[Message, ...]
    queues: tuple[Message, ...]


@dataclass(slots=True)
class _Pending:
    name: str
    future: asyncio.Future[Reply]
    response: Message | None = None
    events: list[Message] = field(default_factory=list)


EventHandler = Callable[[Message], Awaitable[None] | None]
ResyncHandler = Callable[[Resync], Awaitable[None] | None]
_Item = Message | Resync
_T = TypeVar("_T", Message, Resync)


class AmiClient:
    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        auth: Literal["md5", "plain"] = "md5",
        events: str | None = None,  # Login's Events header; None: the user's own read classes
        connect_timeout: float = 5.0,
        action_timeout: float = 10.0,
        ping_interval: float = 20.0,
        ping_timeout: float = 5.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        resync: bool = True,
    ) -> None:
        self.host, self.port, self.username = host, port, username
        self._secret = secret
        self.auth = auth
        self.events = events
        self.connect_timeout = connect_timeout
        self.action_timeout = action_timeout
        self.ping_interval, self.ping_timeout = ping_interval, ping_timeout
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.resync_enabled = resync
        self.banner: str | None = None
        self.generation = 0  # logins so far
        self.last_error: str | None = None
        self._garbage = 0  # messages that were neither a response nor an event
        self._garbage_lines = 0  # malformed lines on earlier connections
        self._ids = itertools.count(1)
        self._prefix = f"fd{random.getrandbits(24):06x}"
        self._pending: dict[str, _Pending] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._event_handlers: list[EventHandler] = []
        self._resync_handlers: list[ResyncHandler] = []
        self._connected = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._reader_task: asyncio.Task[None] | None = None  # connect_once's reader
        self._parser = FrameParser()

    # --- handlers ------------------------------------------------------------------------------
    def on_event(self, handler: EventHandler) -> None:
        self._event_handlers.append(handler)

    def on_resync(self, handler: ResyncHandler) -> None:
        self._resync_handlers.append(handler)

    @property
    def garbage(self) -> int:
        """Malformed lines and messages seen (ignored, never fatal)."""
        return self._garbage + self._garbage_lines + self._parser.malformed_lines

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # --- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect in the background, and reconnect whenever the connection is lost."""
        if self._supervisor is None:
            self._dispatcher = asyncio.create_task(self._dispatch(), name="ami-dispatch")
            self._supervisor = asyncio.create_task(self._run(), name="ami-supervisor")

    async def wait_connected(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout)
        return self.connected

    async def connect_once(self) -> Resync | None:
        """Connect and log in once (no reconnect); raise on failure. For ``frontdoor asterisk check``."""
        self._dispatcher = self._dispatcher or asyncio.create_task(self._dispatch(), name="ami-dispatch")
        reader = await self._open()
        self._reader_task = asyncio.create_task(self._read(reader), name="ami-reader")
        await self._login()
        self._connected.set()
        return await self.resync() if self.resync_enabled else None

    async def close(self) -> None:
        if self._supervisor is not None:
            await stop_task(self._supervisor)
            self._supervisor = None
        await self._drop()
        if self._reader_task is not None:
            await stop_task(self._reader_task)
            self._reader_task = None
        if self._dispatcher is not None:
            await stop_task(self._dispatcher)
            self._dispatcher = None

    # --- actions -------------------------------------------------------------------------------
    async def send(
        self,
        name: str,
        headers: Sequence[Pair] | Mapping[str, str] = (),
        *,
        timeout: float | None = None,
        check: bool = True,
    ) -> Reply:
        """Send one action and wait for its reply (a list action: until its ``...Complete`` event)."""
        writer = self._writer
        if writer is None or writer.is_closing():
            raise AmiConnectionError("not connected to Asterisk")
        action_id = f"{self._prefix}-{next(self._ids)}"
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = _Pending(name, future)
        try:
            writer.write(action(name, action_id, headers))
            await writer.drain()
            reply = await asyncio.wait_for(future, timeout or self.action_timeout)
        except (OSError, ConnectionError) as exc:
            raise AmiConnectionError(f"connection lost: {exc}") from exc
        finally:
            self._pending.pop(action_id, None)
        if check and not reply.ok:
            raise AmiError(name, reply.message)
        return reply

    async def resync(self) -> Resync:
        """Read the PBX's channels and queues, and hand them to the resync handlers in event order."""
        channels = await self.send("CoreShowChannels")
        queues = await self.send("QueueStatus")
        snapshot = Resync(self.generation, tuple(channels.events), tuple(queues.events))
        self._queue.put_nowait(snapshot)
        return snapshot

    # --- the connection ------------------------------------------------------------------------
    async def _open(self) -> asyncio.StreamReader:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), self.connect_timeout
        )
        self._writer = writer
        self._garbage_lines += self._parser.malformed_lines
        self._parser = FrameParser()
        # The banner comes first, before any frame: wait for it so a wrong port fails here.
        deadline = asyncio.get_running_loop().time() + self.connect_timeout
        while self._parser.banner is None:
            remaining = deadline - asyncio.get_running_loop().time()
            chunk = await asyncio.wait_for(reader.read(4096), max(remaining, 0.001))
            if not chunk:
                raise AmiConnectionError("connection closed before the AMI banner")
            for message in self._parser.feed(chunk):
                self._handle(message)
            if self._parser.banner is None and self._parser.dropped:
                raise AmiConnectionError("no AMI banner")
        self.banner = self._parser.banner
        if not self.banner.startswith("Asterisk Call Manager"):
            raise AmiConnectionError(f"not an AMI server (banner {self.banner[:60]!r})")
        return reader

    async def _login(self) -> None:
        try:
            if self.auth == "md5":
                challenge = await self.send("Challenge", [("AuthType", "MD5")], timeout=self.connect_timeout)
                key = md5_key(challenge.response.get("Challenge", "") or "", self._secret)
                headers = [("AuthType", "MD5"), ("Username", self.username), ("Key", key)]
            else:
                headers = [("Username", self.username), ("Secret", self._secret)]
            if self.events is not None:
                headers.append(("Events", self.events))
            await self.send("Login", headers, timeout=self.connect_timeout)
        except AmiError as exc:
            raise AmiAuthError("Login", exc.message) from None
        self.generation += 1

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                for message in self._parser.feed(chunk):
                    self._handle(message)
        except (OSError, ConnectionError) as exc:
            log.info("ami.read_failed", error=type(exc).__name__)
        finally:
            self._connected.clear()
            self._fail_pending("connection closed")

    def _handle(self, message: Message) -> None:
        action_id = message.action_id
        pending = self._pending.get(action_id) if action_id is not None else None
        # Event first: OriginateResponse is an event that also carries a Response header.
        if message.event is None and message.response is not None:
            if pending is None or pending.future.done():
                log.debug("ami.unmatched_response")
                return
            pending.response = message
            if (message.get("EventList") or "").lower() == "start" and message.response.lower() == "success":
                return  # list items follow, then a ...Complete event
            pending.future.set_result(Reply(message))
            return
        if message.event is None:
            self._garbage += 1
            log.debug("ami.garbage_message", keys=len(message.pairs))
            return
        if pending is not None and pending.response is not None and not pending.future.done():
            # "EventList: Complete" ends a list; older versions only name the event "...Complete".
            complete = (message.get("EventList") or "").lower() == "complete"
            if complete or (message.event or "").endswith("Complete"):
                pending.future.set_result(Reply(pending.response, pending.events, message))
            else:
                pending.events.append(message)
            return
        self._queue.put_nowait(message)

    def _fail_pending(self, why: str) -> None:
        for pending in list(self._pending.values()):
            if not pending.future.done():
                pending.future.set_exception(AmiConnectionError(why))

    async def _drop(self) -> None:
        self._connected.clear()
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)
        self._fail_pending("connection closed")

    async def _run(self) -> None:
        backoff = self.backoff_initial
        while True:
            reader_task: asyncio.Task[None] | None = None
            try:
                reader = await self._open()
                reader_task = asyncio.create_task(self._read(reader), name="ami-reader")
                await self._login()
                # The watchdog runs from the login on: a PBX that goes silent during the resync is
                # noticed too. "Connected" means logged in and resynced.
                watch = asyncio.create_task(self._watch(reader_task), name="ami-watchdog")
                try:
                    if self.resync_enabled:
                        await self.resync()
                    self._connected.set()
                    self.last_error = None
                    backoff = self.backoff_initial
                    log.info("ami.connected", host=self.host, port=self.port, generation=self.generation)
                    await watch
                finally:
                    await stop_task(watch)
                log.warning("ami.connection_lost", host=self.host, port=self.port)
            except AmiAuthError as exc:
                self.last_error = f"login refused: {exc.message}"
                log.error("ami.login_failed", host=self.host, port=self.port, reason=exc.message)
                backoff = max(backoff, 5.0)  # a wrong secret does not get better by hammering
            except (OSError, TimeoutError, AmiConnectionError, AmiError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("ami.connect_failed", host=self.host, port=self.port, error=type(exc).__name__)
            finally:
                await self._drop()
                if reader_task is not None:
                    await stop_task(reader_task)
            await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, self.backoff_max)

    async def _watch(self, reader_task: asyncio.Task[None]) -> None:
        """Ping every ``ping_interval``; a ping unanswered within ``ping_timeout`` drops the connection
        (a half-open TCP connection otherwise looks alive for hours)."""
        while not reader_task.done():
            done, _ = await asyncio.wait([reader_task], timeout=self.ping_interval)
            if done:
                return
            try:
                await self.send("Ping", timeout=self.ping_timeout, check=False)
            except (TimeoutError, AmiConnectionError):
                log.warning("ami.ping_timeout", host=self.host, timeout=self.ping_timeout)
                await self._drop()  # fails whatever else waits on this connection (a resync, say)
                return

    async def _dispatch(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, Resync):
                    for on_resync in self._resync_handlers:
                        await self._call(on_resync, item)
                else:
                    for on_event in self._event_handlers:
                        await self._call(on_event, item)
            finally:
                self._queue.task_done()

    @staticmethod
    async def _call(handler: Callable[[_T], Awaitable[None] | None], item: _T) -> None:
        # A failing handler is logged and skipped: one bad event must not stop the ones after it.
        try:
            result = handler(item)
            if result is not None:
                await result
        except Exception:
            log.exception("ami.handler_failed", kind=type(item).__name__)

    async def drained(self) -> None:
        """Wait until every event received so far has been handled (tests, shutdown)."""
        await self._queue.join()
