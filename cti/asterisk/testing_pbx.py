"""The call model of the test AMI server: channels, bridges and Async AGI, with the events Asterisk 22
sends for them (the channel snapshot headers in Asterisk's order, ``ChanVariable`` for each of the
manager's ``channelvars``)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

from cti.asterisk.protocol import Message, Pair

if TYPE_CHECKING:
    from cti.asterisk.testing import Session

STATE_DESC = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up"}
AGI_CONTEXTS = ("frontdoor-in", "frontdoor-park")
_Reply = Callable[..., None]
_Error = Callable[[str], None]


@dataclass
class Channel:
    name: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str
    cid_num: str = ""
    cid_name: str = ""
    state: int = 6
    priority: int = 1
    app: str = ""
    appdata: str = ""
    bridge: str = ""
    agi: bool = False
    variables: dict[str, str] = field(default_factory=dict)
    digits: list[str] = field(default_factory=list)  # pressed, not yet read by the AGI
    waiting: asyncio.Future[str] | None = None  # an AGI WAIT FOR DIGIT in progress
    busy: asyncio.Future[None] | None = None  # an AGI EXEC (Wait, MusicOnHold) in progress
    originate: tuple[Session, str, str] | None = None  # (session, ActionID, context) until answered
    agi_commands: list[str] = field(default_factory=list)


class CallModel:
    channels: dict[str, Channel]
    bridges: dict[str, list[str]]
    channelvars: tuple[str, ...]
    sounds: set[str] | None  # the sound files that exist; None: every file does
    _seq: itertools.count[int]
    _chan_seq: itertools.count[int]

    def emit(self, event: str, headers: Sequence[Pair], privilege: str = "call,all") -> None:
        raise NotImplementedError

    def _find(self, name: str | None) -> Channel | None:
        for ch in self.channels.values():
            if name in (ch.name, ch.uniqueid):
                return ch
        return None

    async def _do_hangup(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        ch = self._find(m.get("Channel"))
        if ch is None:
            return error("No such channel")
        reply("Success", ("Message", "Channel Hungup"))
        await self.hang_up(ch.uniqueid, int(m.get("Cause") or 16))

    async def _do_setvar(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        ch = self._find(m.get("Channel"))
        if m.get("Channel") and ch is None:
            return error("No such channel")
        if ch is not None:
            ch.variables[m.get("Variable") or ""] = m.get("Value") or ""
        reply("Success", ("Message", "Variable Set"))

    async def _do_getvar(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        ch = self._find(m.get("Channel"))
        if m.get("Channel") and ch is None:
            return error("No such channel")
        var = m.get("Variable") or ""
        reply("Success", ("Variable", var), ("Value", ch.variables.get(var, "") if ch else ""))

    async def _do_playdtmf(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        ch = self._find(m.get("Channel"))
        if ch is None:
            return error("No such channel")
        reply("Success", ("Message", "DTMF successfully queued"))
        self.emit(
            "DTMFEnd",
            [
                *self._snapshot(ch),
                ("Digit", m.get("Digit") or ""),
                ("DurationMs", "250"),
                ("Direction", "Sent"),
            ],
            "dtmf,all",
        )

    async def _do_originate(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        dial, context = m.get("Channel"), m.get("Context")
        if not dial:
            return error("Channel not specified")
        if m.get("Exten") and (not context or not m.get("Priority")):
            return error("Originate with 'Exten' requires 'Context' and 'Priority'")
        reply("Success", ("Message", "Originate successfully queued"))
        uid = m.get("ChannelId") or self._uniqueid()
        ch = Channel(
            name=f"{dial}-{next(self._chan_seq):08x};1"
            if dial.startswith("Local/")
            else f"{dial}-{next(self._chan_seq):08x}",
            uniqueid=uid,
            linkedid=uid,
            context=context or "",
            exten=m.get("Exten") or "s",
            state=0,
        )
        name_num = m.get("CallerID") or ""
        ch.cid_name, _, rest = name_num.partition("<")
        ch.cid_name, ch.cid_num = ch.cid_name.strip().strip('"'), rest.rstrip(">")
        for var in m.getall("Variable"):
            key, _, value = var.partition("=")
            ch.variables[key] = value
        ch.originate = (session, m.action_id or "", context or "")
        self.channels[uid] = ch
        self.emit("Newchannel", self._snapshot(ch))

    async def answer(self, uniqueid: str) -> None:
        """An originated call is answered (the agent picks up): it starts its dialplan."""
        ch = self.channels[uniqueid]
        ch.state = 6
        self.emit("Newstate", self._snapshot(ch))
        if ch.originate is not None:
            session, aid, context = ch.originate
            ch.originate = None
            session.send(
                [
                    ("Event", "OriginateResponse"),
                    ("Privilege", "call,all"),
                    ("ActionID", aid),
                    ("Response", "Success"),
                    ("Channel", ch.name),
                    ("Context", context),
                    ("Exten", ch.exten),
                    ("Reason", "4"),
                    ("Uniqueid", ch.uniqueid),
                    ("CallerIDNum", ch.cid_num),
                    ("CallerIDName", ch.cid_name),
                    *[
                        (f"ChanVariable({ch.name})", f"{v}={ch.variables.get(v, '')}")
                        for v in self.channelvars
                    ],
                ]
            )
        self._enter(ch, ch.context, ch.exten, 1)

    def _enter(self, ch: Channel, context: str, exten: str, priority: int) -> None:
        ch.context, ch.exten, ch.priority = context, exten, priority
        app, data = ("AGI", "agi:async") if context in AGI_CONTEXTS else ("Wait", "600")
        ch.app, ch.appdata = app, data
        self.emit(
            "Newexten",
            [*self._snapshot(ch), ("Extension", exten), ("Application", app), ("AppData", data)],
            "dialplan,all",
        )
        if context in AGI_CONTEXTS:
            ch.agi = True
            env = (
                f"agi_request: async\nagi_channel: {ch.name}\nagi_uniqueid: {ch.uniqueid}\n"
                f"agi_callerid: {ch.cid_num or 'unknown'}\nagi_calleridname: {ch.cid_name or 'unknown'}\n"
                f"agi_dnid: {exten}\nagi_context: {context}\nagi_extension: {exten}\n\n"
            )
            self.emit("AsyncAGIStart", [*self._snapshot(ch), ("Env", quote(env))], "agi,all")

    async def _do_redirect(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        ch = self._find(m.get("Channel"))
        if ch is None:
            return error("Channel specified does not exist")
        extra = self._find(m.get("ExtraChannel")) if m.get("ExtraChannel") else None
        reply("Success", ("Message", "Redirect successful" if extra is None else "Dual Redirect successful"))
        moves = [(ch, m.get("Context"), m.get("Exten"), m.get("Priority"))]
        if extra is not None:
            moves.append((extra, m.get("ExtraContext"), m.get("ExtraExten"), m.get("ExtraPriority")))
        for chan, context, exten, priority in moves:
            self._leave(chan)
            self._enter(chan, context or chan.context, exten or "s", int(priority or 1))

    def _leave(self, ch: Channel) -> None:
        """Out of the bridge and the AGI it was in."""
        if ch.agi:
            ch.agi = False
            if ch.waiting is not None and not ch.waiting.done():
                ch.waiting.set_result("-1")
            if ch.busy is not None and not ch.busy.done():
                ch.busy.set_result(None)
            self.emit("AsyncAGIEnd", self._snapshot(ch), "agi,all")
        if ch.bridge:
            bridge = ch.bridge
            members = self.bridges.get(bridge, [])
            self.emit("BridgeLeave", [*self._bridge_headers(bridge, len(members) - 1), *self._snapshot(ch)])
            ch.bridge = ""
            if ch.uniqueid in members:
                members.remove(ch.uniqueid)
            if not members:
                self.bridges.pop(bridge, None)
                self.emit("BridgeDestroy", self._bridge_headers(bridge, 0))

    async def _do_bridge(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        one, two = self._find(m.get("Channel1")), self._find(m.get("Channel2"))
        if one is None:
            return error(f"Channel1 does not exist: {m.get('Channel1')}")
        if two is None:
            return error(f"Channel2 does not exist: {m.get('Channel2')}")
        reply("Success", ("Message", "Channels have been bridged"))
        bridge = f"{secrets.token_hex(4)}-0000-4000-8000-{secrets.token_hex(6)}"
        self.bridges[bridge] = []
        self.emit("BridgeCreate", self._bridge_headers(bridge, 0))
        for ch in (one, two):
            self._leave(ch)  # a bridged channel is moved; an AGI channel leaves its AGI
            ch.priority += 1  # after the bridge it would go on at the next priority
            ch.bridge = bridge
            self.bridges[bridge].append(ch.uniqueid)
            self.emit(
                "BridgeEnter", [*self._bridge_headers(bridge, len(self.bridges[bridge])), *self._snapshot(ch)]
            )

    async def _do_agi(
        self, session: Session, m: Message, reply: _Reply, error: _Error, head: list[Pair]
    ) -> None:
        ch = self._find(m.get("Channel"))
        if ch is None or not ch.agi:
            return error("Channel does not exist." if ch is None else "Channel is not in Async AGI.")
        reply("Success", ("Message", "Added AGI command to queue"))
        command, cid = m.get("Command") or "", m.get("CommandID") or ""
        ch.agi_commands.append(command)
        asyncio.get_running_loop().create_task(self._agi(ch, command, cid))

    async def _agi(self, ch: Channel, command: str, cid: str) -> None:
        words = command.split()
        verb = " ".join(words[:2]).upper()
        result = "0"
        if verb == "STREAM FILE":
            escape = words[3].strip('"') if len(words) > 3 else ""
            if self.sounds is not None and words[2] not in self.sounds:
                result = "-1"  # Asterisk: "200 result=-1 endpos=0" for a file it cannot find
            elif ch.digits and ch.digits[0] in escape:
                result = str(ord(ch.digits.pop(0)))
        elif verb == "WAIT FOR":
            if ch.digits:
                result = str(ord(ch.digits.pop(0)))
            else:
                ch.waiting = asyncio.get_running_loop().create_future()
                timeout = int(words[3]) / 1000 if len(words) > 3 and int(words[3]) > 0 else None
                try:
                    digit = await asyncio.wait_for(ch.waiting, timeout)
                    result = digit if digit == "-1" else str(ord(digit))
                except TimeoutError:
                    result = "0"
                ch.waiting = None
        elif verb == "HANGUP":
            await self.hang_up(ch.uniqueid)
            return
        elif words[0].upper() == "EXEC" and len(words) > 2:
            # EXEC Wait 2 / EXEC MusicOnHold ,30: runs for that long, or until the channel leaves the AGI.
            ch.busy = asyncio.get_running_loop().create_future()
            with contextlib.suppress(TimeoutError, ValueError):
                await asyncio.wait_for(ch.busy, float(words[2].split(",")[-1] or 0))
            ch.busy = None
        if ch.agi and ch.uniqueid in self.channels:
            text = f"200 result={result}\n" if result != "-1" else "200 result=-1 endpos=0\n"
            self.emit(
                "AsyncAGIExec", [*self._snapshot(ch), ("CommandID", cid), ("Result", quote(text))], "agi,all"
            )

    # --- the outside world -------------------------------------------------------------------------
    async def caller_dials(self, dialled: str, cli: str = "", name: str = "") -> Channel:
        """A call comes in on a trunk and enters the front-door context (Async AGI)."""
        uid = self._uniqueid()
        ch = Channel(
            name=f"PJSIP/trunk-{next(self._chan_seq):08x}",
            uniqueid=uid,
            linkedid=uid,
            context="from-trunk",
            exten=dialled,
            cid_num=cli,
            cid_name=name,
            state=4,
        )
        self.channels[uid] = ch
        self.emit("Newchannel", self._snapshot(ch))
        ch.state = 6
        self.emit("Newstate", self._snapshot(ch))
        self._enter(ch, "frontdoor-in", dialled, 1)
        return ch

    async def press(self, uniqueid: str, digits: str) -> None:
        ch = self.channels[uniqueid]
        for digit in digits:
            self.emit(
                "DTMFEnd",
                [*self._snapshot(ch), ("Digit", digit), ("DurationMs", "120"), ("Direction", "Received")],
                "dtmf,all",
            )
            if ch.waiting is not None and not ch.waiting.done():
                ch.waiting.set_result(digit)
            else:
                ch.digits.append(digit)

    async def hang_up(self, uniqueid: str, cause: int = 16) -> None:
        ch = self.channels.get(uniqueid)
        if ch is None:
            return
        self._leave(ch)
        del self.channels[uniqueid]
        if ch.originate is not None:
            session, aid, context = ch.originate
            session.send(
                [
                    ("Event", "OriginateResponse"),
                    ("Privilege", "call,all"),
                    ("ActionID", aid),
                    ("Response", "Failure"),
                    ("Channel", ch.name.split("-")[0]),
                    ("Context", context),
                    ("Exten", ch.exten),
                    ("Reason", "1"),
                    ("Uniqueid", "<null>"),
                    ("CallerIDNum", "<unknown>"),
                    ("CallerIDName", "<unknown>"),
                ]
            )
        self.emit("Hangup", [*self._snapshot(ch), ("Cause", str(cause)), ("Cause-txt", "Normal Clearing")])

    def _uniqueid(self) -> str:
        return f"1795416{next(self._seq):03d}.{next(self._seq)}"

    def _snapshot(self, ch: Channel) -> list[Pair]:
        return [
            ("Channel", ch.name),
            ("ChannelState", str(ch.state)),
            ("ChannelStateDesc", STATE_DESC.get(ch.state, "Unknown")),
            ("CallerIDNum", ch.cid_num),
            ("CallerIDName", ch.cid_name),
            ("ConnectedLineNum", ""),
            ("ConnectedLineName", ""),
            ("Language", "en"),
            ("AccountCode", ""),
            ("Context", ch.context),
            ("Exten", ch.exten),
            ("Priority", str(ch.priority)),
            ("Uniqueid", ch.uniqueid),
            ("Linkedid", ch.linkedid),
            *[("ChanVariable", f"{v}={ch.variables.get(v, '')}") for v in self.channelvars],
        ]

    def _bridge_headers(self, bridge: str, count: int) -> list[Pair]:
        return [
            ("BridgeUniqueid", bridge),
            ("BridgeType", "basic"),
            ("BridgeTechnology", "simple_bridge"),
            ("BridgeCreator", "<unknown>"),
            ("BridgeName", "<unknown>"),
            ("BridgeNumChannels", str(count)),
            ("BridgeVideoSourceMode", "none"),
        ]
