"""A test AMI server: the real wire format over a real TCP socket.

Two modes, per connection:

- **replay**: answers a recorded connection (``NAME.ami`` + ``NAME.sent.ami`` from the captured
  fixtures). Each recorded message is released once the client has sent the action it answers (the
  client's own ActionIDs are put in place of the recorded ones); events flow in their recorded order.
- **model**: a small PBX with channels, bridges and Async AGI that answers actions the way Asterisk 22
  does (same headers, same order, same error texts as in the captures): Login (plain and MD5
  challenge), Ping, CoreShowChannels, QueueStatus, QueueSummary, CoreSettings, ListCommands, Command,
  Originate, Redirect, Bridge, Hangup, Setvar, Getvar, AGI, PlayDTMF, Events, Logoff.

Tests drive the PBX's outside world with ``caller_dials``, ``press``, ``answer`` and ``hang_up``, and
break the network with ``drop_connections`` and ``mute``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cti.asterisk.protocol import FrameParser, Message, Pair, encode, md5_key
from cti.asterisk.testing_pbx import CallModel, Channel, _Error, _Reply

__all__ = ["AmiTestServer", "Channel", "Session"]

BANNER = b"Asterisk Call Manager/11.0.0\r\n"


@dataclass
class Replay:
    messages: list[Message]
    recorded_actions: list[str]  # ActionIDs in the order the capture client sent them
    mapping: dict[str, str] = field(default_factory=dict)  # recorded ActionID -> the client's
    at: int = 0


class Session:
    def __init__(self, server: AmiTestServer, writer: asyncio.StreamWriter) -> None:
        self.server, self.writer = server, writer
        self.user: str | None = None
        self.challenge: str | None = None
        self.events = True
        self.replay: Replay | None = None

    def send(self, pairs: Sequence[Pair]) -> None:
        if not self.writer.is_closing():
            self.writer.write(encode(pairs))


class AmiTestServer(CallModel):
    def __init__(
        self,
        users: dict[str, str] | None = None,
        *,
        version: str = "22.10.1",
        channelvars: Sequence[str] = ("FRONTDOOR_CALL", "FRONTDOOR_AGENT"),
        login_fail_delay: float = 0.05,
        system_users: Sequence[str] = (),  # users allowed Command (the "system" write class)
    ) -> None:
        self.users = users if users is not None else {"frontdoor": "fd-secret"}
        self.version = version
        self.channelvars = tuple(channelvars)
        self.sounds: set[str] | None = None  # the sound files that exist; None: every file does
        self.login_fail_delay = login_fail_delay
        self.system_users = set(system_users)
        self.sessions: list[Session] = []
        self.actions: list[Message] = []  # every action received, in order
        self.channels: dict[str, Channel] = {}  # by Uniqueid
        self.bridges: dict[str, list[str]] = {}  # bridge id -> Uniqueids
        self.queues: dict[str, list[Message]] = {}  # QueueStatus items per queue (static data)
        self.logins = 0
        self.muted = False
        self.admitting = asyncio.Event()  # cleared: new connections wait, unanswered, until set
        self.admitting.set()
        self.replay_next: Path | None = None
        self._seq = itertools.count(1)
        self._chan_seq = itertools.count(1)
        self._server: asyncio.Server | None = None
        self.host, self.port = "127.0.0.1", 0

    # --- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        await self.drop_connections()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def drop_connections(self) -> None:
        """The network fails: every client connection is cut (the PBX's calls go on).

        Only the sessions open now are forgotten: a client may already be reconnecting while this
        waits for the sockets to close, and its new session must stay."""
        dropped = list(self.sessions)
        for session in dropped:
            session.writer.close()
            with contextlib.suppress(Exception):
                await session.writer.wait_closed()
        self.sessions[:] = [s for s in self.sessions if s not in dropped]

    def mute(self, muted: bool = True) -> None:
        """Stop answering anything (a half-open connection): the client's ping watchdog must notice."""
        self.muted = muted

    def replay(self, name: str, folder: Path) -> None:
        """The next connection replays the recorded connection ``NAME``."""
        self.replay_next = folder / name

    # --- the connection --------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(self, writer)
        self.sessions.append(session)
        if self.replay_next is not None:
            session.replay = _load_replay(self.replay_next)
            self.replay_next = None
        parser = FrameParser(expect_banner=False)
        await self.admitting.wait()
        writer.write(BANNER)
        try:
            while not writer.is_closing():
                chunk = await reader.read(65536)
                if not chunk:
                    break
                for message in parser.feed(chunk):
                    self.actions.append(message)
                    if self.muted:
                        continue
                    if session.replay is not None:
                        self._replay(session, message)
                    else:
                        await self._act(session, message)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if session in self.sessions:
                self.sessions.remove(session)
            writer.close()

    def _replay(self, session: Session, message: Message) -> None:
        replay = session.replay
        assert replay is not None
        index = len(replay.mapping)
        if index < len(replay.recorded_actions):
            replay.mapping[replay.recorded_actions[index]] = message.action_id or ""
        while replay.at < len(replay.messages):
            recorded = replay.messages[replay.at]
            action_id = recorded.action_id
            if action_id is not None and action_id not in replay.mapping:
                break  # answers an action the client has not sent yet
            pairs = [(k, replay.mapping[v] if k.lower() == "actionid" else v) for k, v in recorded.pairs]
            session.send(pairs)
            replay.at += 1
        if replay.at == len(replay.messages):
            session.writer.close()  # every capture ends with Asterisk closing the connection

    # --- actions -------------------------------------------------------------------------------
    async def _act(self, session: Session, message: Message) -> None:
        name = (message.get("Action") or "").lower()
        aid = message.action_id
        head: list[Pair] = [("ActionID", aid)] if aid is not None else []

        def reply(response: str = "Success", *pairs: Pair) -> None:
            session.send([("Response", response), *head, *pairs])

        def error(text: str) -> None:
            reply("Error", ("Message", text))

        if not name:
            return error("Missing action in request")
        if session.user is None and name not in ("login", "challenge", "logoff"):
            return error("Permission denied")
        handler = getattr(self, f"_do_{name}", None)
        if handler is None:
            return error(
                f"Invalid/unknown command: {message.get('Action')}. "
                "Use Action: ListCommands to show available commands."
            )
        await handler(session, message, reply, error, head)

    async def _do_challenge(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        session.challenge = str(secrets.randbelow(900_000_000) + 100_000_000)
        reply("Success", ("Challenge", session.challenge))

    async def _do_login(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        if session.user is not None:
            return reply("Success", ("Message", "Already authenticated"))
        user = m.get("Username") or ""
        secret = self.users.get(user)
        if (m.get("AuthType") or "").lower() == "md5":
            ok = secret is not None and session.challenge is not None
            ok = ok and m.get("Key") == md5_key(session.challenge or "", secret or "")
        else:
            ok = secret is not None and m.get("Secret") == secret
        if not ok:
            await asyncio.sleep(self.login_fail_delay)  # Asterisk waits about a second, then hangs up
            error("Authentication failed")
            await session.writer.drain()
            session.writer.close()
            return
        session.user = user
        session.events = (m.get("Events") or "on").lower() != "off"
        self.logins += 1
        reply("Success", ("Message", "Authentication accepted"))
        self._event_to(
            session,
            "FullyBooted",
            [("Privilege", "system,all"), ("Uptime", "60"), ("LastReload", "60"), ("Status", "Fully Booted")],
        )

    async def _do_logoff(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        reply("Goodbye", ("Message", "Thanks for all the fish."))
        await session.writer.drain()
        session.writer.close()

    async def _do_ping(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        reply("Success", ("Ping", "Pong"), ("Timestamp", f"{asyncio.get_running_loop().time():.6f}"))

    async def _do_events(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        session.events = (m.get("EventMask") or "on").lower() != "off"
        reply("Success", ("Events", "On" if session.events else "Off"))

    async def _do_coresettings(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        reply(
            "Success",
            ("AMIversion", "11.0.0"),
            ("AsteriskVersion", self.version),
            ("SystemName", ""),
            ("CoreMaxCalls", "0"),
            ("CoreRunUser", ""),
            ("CoreRunGroup", ""),
        )

    async def _do_listcommands(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        names = [
            "AGI",
            "Bridge",
            "CoreSettings",
            "CoreShowChannels",
            "Getvar",
            "Hangup",
            "Originate",
            "Ping",
            "PlayDTMF",
            "QueueStatus",
            "QueueSummary",
            "Redirect",
            "Setvar",
        ]
        if session.user in self.system_users:
            names += ["Command", "UpdateConfig"]
        reply("Success", *[(n, f"{n} (Priv: call,all)") for n in names])

    async def _do_command(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        if session.user not in self.system_users:
            return error("Permission denied")
        reply("Success", ("Message", "Command output follows"), ("Output", "No such command"), ("Output", ""))

    async def _do_coreshowchannels(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        reply("Success", ("EventList", "start"), ("Message", "Channels will follow"))
        for ch in list(self.channels.values()):
            session.send(
                [
                    ("Event", "CoreShowChannel"),
                    *head,
                    *self._snapshot(ch),
                    ("Application", ch.app),
                    ("ApplicationData", ch.appdata),
                    ("Duration", "00:00:01"),
                    ("BridgeId", ch.bridge),
                ]
            )
        self._complete(session, "CoreShowChannelsComplete", head, len(self.channels))

    async def _do_queuestatus(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        reply("Success", ("EventList", "start"), ("Message", "Queue status will follow"))
        wanted = m.get("Queue")
        items = [i for q, items in self.queues.items() if wanted in (None, q) for i in items]
        for item in items:
            session.send([*item.pairs, *head])
        self._complete(session, "QueueStatusComplete", head, len(items))

    async def _do_queuesummary(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        reply("Success", ("EventList", "start"), ("Message", "Queue summary will follow"))
        for queue in self.queues:
            session.send(
                [
                    ("Event", "QueueSummary"),
                    ("Queue", queue),
                    ("LoggedIn", "0"),
                    ("Available", "0"),
                    ("Callers", "0"),
                    ("HoldTime", "0"),
                    ("TalkTime", "0"),
                    ("LongestHoldTime", "0"),
                    *head,
                ]
            )
        self._complete(session, "QueueSummaryComplete", head, len(self.queues))

    def _complete(self, session: Session, event: str, head: list[Pair], count: int) -> None:
        session.send([("Event", event), *head, ("EventList", "Complete"), ("ListItems", str(count))])

    def add_queue(self, name: str, members: Sequence[tuple[str, str]] = ()) -> None:
        """Static QueueStatus data: QueueParams and a QueueMember per (name, interface)."""
        items = [
            Message(
                [
                    ("Event", "QueueParams"),
                    ("Queue", name),
                    ("Max", "0"),
                    ("Strategy", "ringall"),
                    ("Calls", "0"),
                    ("Holdtime", "0"),
                    ("TalkTime", "0"),
                    ("Completed", "0"),
                    ("Abandoned", "0"),
                    ("ServiceLevel", "60"),
                    ("ServicelevelPerf", "0.0"),
                    ("ServicelevelPerf2", "0.0"),
                    ("Weight", "0"),
                ]
            )
        ]
        for member, interface in members:
            items.append(
                Message(
                    [
                        ("Event", "QueueMember"),
                        ("Queue", name),
                        ("Name", member),
                        ("Location", interface),
                        ("StateInterface", interface),
                        ("Membership", "static"),
                        ("Penalty", "0"),
                        ("CallsTaken", "0"),
                        ("LastCall", "0"),
                        ("LastPause", "0"),
                        ("LoginTime", "0"),
                        ("InCall", "0"),
                        ("Status", "1"),
                        ("Paused", "0"),
                        ("PausedReason", ""),
                        ("Wrapuptime", "0"),
                    ]
                )
            )
        self.queues[name] = items

    # --- event helpers -----------------------------------------------------------------------------
    def emit(self, event: str, headers: Sequence[Pair], privilege: str = "call,all") -> None:
        for session in self.sessions:
            self._event_to(session, event, [("Privilege", privilege), *headers])

    def _event_to(self, session: Session, event: str, headers: Sequence[Pair]) -> None:
        if session.user is not None and session.events and not self.muted:
            session.send([("Event", event), *headers])


def _load_replay(base: Path) -> Replay:
    received = FrameParser()
    messages = received.feed(base.with_name(base.name + ".ami").read_bytes())
    sent = FrameParser(expect_banner=False).feed(base.with_name(base.name + ".sent.ami").read_bytes())
    return Replay(messages, [m.action_id or "" for m in sent])
