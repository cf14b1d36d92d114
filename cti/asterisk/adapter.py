"""The Asterisk telephony adapter: Frontdoor routes, Asterisk carries the media.

How calls map onto the PBX (dialplan in ``examples/extensions.conf``):

- A call to a front-door number enters ``frontdoor-in``, which runs ``AGI(agi:async)``: the channel is
  driven over the AMI connection itself (Async AGI; no FastAGI server). Its id is ``ast-<Uniqueid>``.
  IVR steps become AGI commands: ``Say``/``Play`` -> ``STREAM FILE`` (a key interrupts), ``Gather`` ->
  ``WAIT FOR DIGIT``, ``Pause`` -> ``EXEC Wait``. After ``Enqueue`` the hold loop plays
  ``ivr.waiting.hold_actions`` with ``MusicOnHold`` for the pauses; no Asterisk queue is used.
- ``ring`` originates ``Local/<agent id>@frontdoor-agents`` into ``frontdoor-agent``, where the answered
  phone waits; ``connect`` joins the two with the ``Bridge`` action (which ends the caller's AGI).
- ``hold`` is one dual ``Redirect``: the caller to ``frontdoor-park`` (Async AGI: music), the agent back
  to waiting; ``resume`` bridges them again.
- Warm handover: the consult rings the specialist like any call; ``consult`` bridges first agent and
  specialist; ``complete_transfer`` bridges the caller to the specialist and hangs up the first agent.
- Channels we own carry ``FRONTDOOR_CALL`` / ``FRONTDOOR_AGENT``, which ``cti.asterisk.resync`` reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from typing import TYPE_CHECKING
from urllib.parse import unquote

import structlog

from cti.asterisk.client import AmiClient, AmiConnectionError, AmiError, Resync
from cti.asterisk.legs import (
    AGENT_WAIT,
    AGENT_WAIT_LOOP,
    AGENTS,
    IN,
    KEYS,
    NOT_DIALLABLE,
    OUT,
    PARK,
    SAFE,
    Call,
    CallGone,
    IvrLike,
    Leg,
    play_file,
    prompt_file,
)
from cti.asterisk.protocol import Message
from cti.domain.clock import Clock
from cti.tasks import stop_task
from cti.telephony.port import CallHandler, InboundCall, Telephony
from ivr.actions import (
    Action,
    CallbackRequested,
    CallerInput,
    CallStart,
    Digits,
    Enqueue,
    Gather,
    Hangup,
    NoInput,
    Pause,
    Play,
    Say,
    SelfServiceDone,
    TransferOut,
)

if TYPE_CHECKING:
    from cti.wiring import Services

log = structlog.get_logger(__name__)


class AsteriskTelephony(Telephony):
    name = "asterisk"

    def __init__(self, client: AmiClient, clock: Clock, *, ring_timeout_s: float = 60.0) -> None:
        self.client = client
        self.clock = clock
        self.ring_timeout_s = ring_timeout_s
        self.ivr: IvrLike | None = None
        self.ivr_wait_s = 30.0
        self._ivr_ready = asyncio.Event()
        self.services: Services | None = None
        self._handler: CallHandler | None = None
        self.calls: dict[str, Call] = {}
        self._by_uid: dict[str, str] = {}  # caller channel Uniqueid -> call id
        self._legs: dict[str, Leg] = {}  # agent leg Uniqueid -> leg
        self._agi_pending: dict[str, tuple[str, asyncio.Future[str]]] = {}
        self._missing: set[str] = (
            set()
        )  # prompt files Asterisk could not play (logged once)  # CommandID -> (Uniqueid, result)
        client.on_event(self._on_event)
        client.on_resync(self._on_resync)

    # --- wiring --------------------------------------------------------------------------------------
    def attach_ivr(self, engine: IvrLike | None) -> None:
        self.ivr = engine
        if engine is None:
            self._ivr_ready.clear()
        else:
            self._ivr_ready.set()

    def attach_services(self, services: Services | None) -> None:
        self.services = services

    async def start(self, handler: CallHandler) -> None:
        self._handler = handler
        await self.client.start()

    async def stop(self) -> None:
        for call in self.calls.values():
            if call.task is not None:
                await stop_task(call.task)
        await self.client.close()
        self._handler = None

    # --- AMI and AGI ---------------------------------------------------------------------------------
    async def _send(self, name: str, headers: list[tuple[str, str]]) -> bool:
        """A command for the PBX; a refusal or a lost connection is logged, not raised: the domain has
        already moved on, and the resync after a reconnect puts things straight."""
        try:
            await self.client.send(name, headers)
            return True
        except (AmiError, AmiConnectionError, TimeoutError) as exc:
            log.warning("asterisk.action_failed", action=name, error=str(exc))
            return False

    async def _agi(self, call: Call, command: str) -> int:
        """Run one AGI command on the caller's channel; its ``result=`` value."""
        if call.gone or call.channel is None or call.uniqueid is None:
            raise CallGone(call.call_id)
        command_id = f"fd{secrets.token_hex(6)}"
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._agi_pending[command_id] = (call.uniqueid, future)
        try:
            await self.client.send(
                "AGI", [("Channel", call.channel), ("Command", command), ("CommandID", command_id)]
            )
            text = await future
        except AmiError as exc:
            raise CallGone(call.call_id) from exc
        finally:
            self._agi_pending.pop(command_id, None)
        # "200 result=-1" is a failure of the command (a prompt file missing, an application that
        # failed), not necessarily a hang-up: the caller's hang-up ends the AGI, which fails the wait.
        match = re.search(r"^(\d{3}) result=(-?\d+)", text)
        if match is None or match.group(1) != "200":
            raise CallGone(call.call_id)
        return int(match.group(2))

    async def _play(self, call: Call, item: Say | Play, keys: str = "") -> str:
        """Play a prompt; the key that interrupted it, if any."""
        name = prompt_file(item) if isinstance(item, Say) else play_file(item)
        code = await self._agi(call, f'STREAM FILE {name} "{keys}"')
        if code < 0 and name not in self._missing:
            self._missing.add(name)  # skipped, so a missing recording never stalls a caller
            log.warning("asterisk.prompt_missing", file=name, text_kind=type(item).__name__)
        return chr(code) if code > 0 else ""

    async def _gather(self, call: Call, gather: Gather) -> CallerInput:
        digits = ""
        for prompt in gather.prompts:
            digits = await self._play(call, prompt, KEYS)
            if digits:
                break
        finish = gather.finish_on_key
        timeout_ms = int(gather.timeout_s * 1000)
        while digits[-1:] != finish or not finish:
            if gather.max_digits is not None and len(digits) >= gather.max_digits:
                break
            code = await self._agi(call, f"WAIT FOR DIGIT {timeout_ms}")
            if code <= 0:
                break
            digits += chr(code)
        if finish and digits.endswith(finish):
            digits = digits[: -len(finish)]
        return Digits(digits) if digits else NoInput()

    # --- the IVR and the hold loop -------------------------------------------------------------------
    async def _run_ivr(self, call: Call) -> None:
        try:
            if self.ivr is None:
                # The AMI connects before the app's start hooks attach the engine: callers who ring in
                # that moment (or are found by the first resync) hear music until it is there.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._ivr_ready.wait(), self.ivr_wait_s)
            engine = self.ivr
            if engine is None:
                log.error("asterisk.no_ivr_engine", call=call.call_id)
                await self._agi(call, "HANGUP")
                return
            state, actions = await engine.start(CallStart(call.call_id, call.cli, call.dialled))
            while True:
                call.ivr = state
                heard = await self._perform(call, actions)
                if heard is None:
                    return
                state, actions = await engine.handle(state, heard)
        except CallGone:
            return
        except AmiConnectionError:
            log.warning("asterisk.ivr_interrupted", call=call.call_id)  # the resync starts it again

    async def _perform(self, call: Call, actions: list[Action]) -> CallerInput | None:
        for item in actions:
            if isinstance(item, Say | Play):
                await self._play(call, item)
            elif isinstance(item, Pause):
                await self._agi(call, f"EXEC Wait {item.seconds:g}")
            elif isinstance(item, Gather):
                return await self._gather(call, item)
            elif isinstance(item, Enqueue):
                inbound = InboundCall(
                    call.call_id,
                    call.cli,
                    call.dialled,
                    item.queue,
                    item.caller_type,
                    dict(item.choices),
                    item.nhs_number,
                )
                await self._hand_over(call, inbound)
                await self._hold_loop(call, item.hold_interval_s)
            elif isinstance(item, CallbackRequested):
                # The caller keeps their place and hangs up; the agent's answer dials them back.
                call.callback = item.number
                choices = {**item.choices, "callback": item.number}
                await self._hand_over(
                    call,
                    InboundCall(call.call_id, call.cli, call.dialled, item.queue, item.caller_type, choices),
                )
                await self._agi(call, "HANGUP")
            elif isinstance(item, TransferOut):
                await self.transfer_out(call.call_id, item.number)
            elif isinstance(item, SelfServiceDone | Hangup):
                await self._agi(call, "HANGUP")
        return None

    async def _hand_over(self, call: Call, inbound: InboundCall) -> None:
        if call.handed or self._handler is None:
            return
        await self._send(
            "Setvar",
            [("Channel", call.channel or ""), ("Variable", "FRONTDOOR_CALL"), ("Value", call.call_id)],
        )
        call.handed = True
        await self._handler.call_arrived(inbound)

    async def _hold_loop(self, call: Call, interval_s: float = 30.0) -> None:
        """Music on hold until bridged, with the queue's messages between turns (not while held by an
        agent: then only music)."""
        from ivr.waiting import hold_actions

        turn = 0
        while not call.gone:
            actions: list[Action] = [Pause(interval_s)]
            if not call.held and self.services is not None:
                actions = await hold_actions(self.services, call.call_id, turn)
            for item in actions:
                if isinstance(item, Say | Play):
                    await self._play(call, item)
                elif isinstance(item, Pause):
                    seconds = max(1, round(item.seconds))
                    # No music class: silence instead; if even Wait fails, the channel is dead.
                    music = await self._agi(call, f"EXEC MusicOnHold ,{seconds}")
                    if music < 0 and await self._agi(call, f"EXEC Wait {seconds}") < 0:
                        raise CallGone(call.call_id)
            turn += 1

    def _start(self, call: Call, job: str) -> None:
        async def run() -> None:
            try:
                if job == "ivr":
                    await self._run_ivr(call)
                else:
                    await self._hold_loop(call)
            except (CallGone, AmiConnectionError):
                pass
            except Exception:
                log.exception("asterisk.call_task_failed", call=call.call_id, job=job)

        if call.task is not None and not call.task.done():
            call.task.cancel()
        call.task = asyncio.create_task(run(), name=f"asterisk-{job}")

    # --- events from the PBX -------------------------------------------------------------------------
    async def _on_event(self, event: Message) -> None:
        name = (event.event or "").lower()
        uid = event.get("Uniqueid") or ""
        if name == "asyncagiexec":
            pending = self._agi_pending.get(event.get("CommandID") or "")
            if pending is not None and not pending[1].done():
                pending[1].set_result(unquote(event.get("Result") or ""))
        elif name == "asyncagistart":
            await self._agi_started(event, uid)
        elif name == "asyncagiend":
            for owner, future in list(self._agi_pending.values()):
                if owner == uid and not future.done():
                    future.set_exception(CallGone(uid))
        elif name == "newchannel" and uid in self._legs:
            self._legs[uid].channel = event.get("Channel")
        elif name == "newchannel" and uid in self._by_uid:  # a dial-back we originated
            self.calls[self._by_uid[uid]].channel = event.get("Channel")
        elif name == "rename":
            self._renamed(uid, event.get("Newname") or "")
        elif name == "originateresponse":
            leg = self._legs.get(uid)
            if leg is not None and (event.response or "").lower() == "success":
                leg.channel = event.get("Channel") or leg.channel
                leg.answered = True
                if leg.bridge_on_answer:
                    await self._bridge(self.calls.get(leg.call_id), leg)
        elif name == "hangup":
            if uid in self._by_uid:
                await self._caller_gone(self._by_uid[uid])
            elif uid in self._legs:
                await self._leg_gone(self._legs[uid])

    def _renamed(self, uid: str, new: str) -> None:
        if uid in self._legs:
            self._legs[uid].channel = new
        call = self.calls.get(self._by_uid.get(uid, ""))
        if call is not None:
            call.channel = new

    async def _agi_started(self, event: Message, uid: str) -> None:
        known = self._by_uid.get(uid)
        if known is not None:  # back in Async AGI (parked, or a dial-back answered)
            call = self.calls[known]
            call.channel = event.get("Channel")
            leg = call.legs.get(call.agent or "")
            if call.called_back and leg is not None and leg.answered and not call.held:
                await self._bridge(call, leg)
            else:
                self._start(call, "hold")
            return
        if (event.get("Context") or "") != IN:
            return
        env = dict(
            line.split(": ", 1) for line in unquote(event.get("Env") or "").splitlines() if ": " in line
        )
        cli = env.get("agi_callerid") or event.get("CallerIDNum") or ""
        call = Call(
            f"ast-{uid}",
            uid,
            event.get("Channel"),
            cli=None if cli in ("", "unknown", "anonymous", "<unknown>") else cli,
            dialled=env.get("agi_extension") or event.get("Exten") or "",
        )
        self.calls[call.call_id] = call
        self._by_uid[uid] = call.call_id
        log.info("asterisk.call_in", call=call.call_id, withheld=call.cli is None)
        self._start(call, "ivr")

    async def _caller_gone(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None or call.gone:
            return
        self._by_uid.pop(call.uniqueid or "", None)
        if call.callback is not None and not call.called_back:
            call.uniqueid = call.channel = None  # waiting for a call back: the contact goes on
            return
        call.gone = True
        if call.task is not None and call.task is not asyncio.current_task():
            call.task.cancel()
        for leg in list(call.legs.values()):
            await self._drop_leg(leg)
        log.info("asterisk.caller_gone", call=call_id)
        if not call.handed and call.ivr is not None and self.ivr is not None:
            await self.ivr.hung_up(call.ivr)  # hung up in the IVR: recorded once, with the path
        if call.handed and self._handler is not None:
            await self._handler.caller_hung_up(call_id)

    async def _leg_gone(self, leg: Leg) -> None:
        self._legs.pop(leg.uniqueid, None)
        call = self.calls.get(leg.call_id)
        if call is None or call.legs.get(leg.agent) is not leg:
            return
        del call.legs[leg.agent]
        # The agent put the phone down on a live conversation: the call is over for the caller too.
        if (
            call.agent == leg.agent
            and not call.held
            and call.consult is None
            and call.uniqueid
            and not call.gone
        ):
            await self._send("Hangup", [("Channel", call.channel or ""), ("Cause", "16")])

    async def _drop_leg(self, leg: Leg) -> None:
        self._legs.pop(leg.uniqueid, None)
        call = self.calls.get(leg.call_id)
        if call is not None and call.legs.get(leg.agent) is leg:
            del call.legs[leg.agent]
        await self._send("Hangup", [("Channel", leg.channel or leg.uniqueid), ("Cause", "16")])

    # --- resync --------------------------------------------------------------------------------------
    async def _on_resync(self, snapshot: Resync) -> None:
        from cti.asterisk.resync import reconcile

        await reconcile(self, snapshot)

    # --- what the domain tells the PBX ---------------------------------------------------------------
    async def ring(self, call_id: str, agent_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None or call.gone or agent_id in call.legs:
            return
        uid = f"fd{secrets.token_hex(8)}"
        leg = Leg(agent_id, call_id, uid)
        call.legs[agent_id] = leg
        self._legs[uid] = leg
        caller = call.cli or "withheld"
        await self._send(
            "Originate",
            [
                ("Channel", f"Local/{SAFE.sub('', agent_id)}@{AGENTS}"),
                ("Context", AGENT_WAIT),
                ("Exten", "s"),
                ("Priority", "1"),
                ("Timeout", str(int(self.ring_timeout_s * 1000))),
                ("CallerID", f'"Frontdoor" <{SAFE.sub("", caller)}>'),
                ("Async", "true"),
                ("ChannelId", uid),
                ("OtherChannelId", f"{uid}-2"),
                ("Variable", f"FRONTDOOR_CALL={call_id}"),
                ("Variable", f"FRONTDOOR_AGENT={agent_id}"),
            ],
        )

    async def stop_ringing(self, call_id: str, agent_id: str) -> None:
        call = self.calls.get(call_id)
        leg = call.legs.get(agent_id) if call is not None else None
        if call is not None and leg is not None and call.agent != agent_id:
            await self._drop_leg(leg)

    async def connect(self, call_id: str, agent_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None or call.gone:
            return
        call.agent = agent_id
        if agent_id not in call.legs:
            await self.ring(call_id, agent_id)
        leg = call.legs.get(agent_id)
        if leg is None or (call.uniqueid is None and call.callback is None):
            return  # a consult the caller has not joined: the specialist waits for ``consult``
        if leg.answered:
            await self._bridge(call, leg)
        else:
            leg.bridge_on_answer = True

    async def _bridge(self, call: Call | None, leg: Leg) -> None:
        if call is not None and call.callback is not None and not call.called_back and not call.gone:
            await self._dial_back(call)  # the agent is on the line: now call the caller
            return
        if call is None or call.gone or call.channel is None or leg.channel is None:
            return
        leg.bridge_on_answer = False
        call.held = False
        call.agent = leg.agent
        if call.task is not None:
            await stop_task(call.task)  # the Bridge action takes the caller out of the AGI
        await self._send("Bridge", [("Channel1", call.channel), ("Channel2", leg.channel), ("Tone", "no")])

    async def _dial_back(self, call: Call) -> None:
        call.called_back = True
        uid = f"fd{secrets.token_hex(8)}"
        call.uniqueid = uid
        self._by_uid[uid] = call.call_id
        await self._send(
            "Originate",
            [
                ("Channel", f"Local/{NOT_DIALLABLE.sub('', call.callback or '')}@{OUT}"),
                ("Context", PARK),
                ("Exten", "s"),
                ("Priority", "1"),
                ("Timeout", str(int(self.ring_timeout_s * 1000))),
                ("Async", "true"),
                ("ChannelId", uid),
                ("OtherChannelId", f"{uid}-2"),
                ("Variable", f"FRONTDOOR_CALL={call.call_id}"),
            ],
        )

    async def hold(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None or call.gone or call.held:
            return
        call.held = True
        leg = call.legs.get(call.agent or "")
        headers = [("Channel", call.channel or ""), ("Context", PARK), ("Exten", "s"), ("Priority", "1")]
        if leg is not None and leg.channel:
            headers += [
                ("ExtraChannel", leg.channel),
                ("ExtraContext", AGENT_WAIT),
                ("ExtraExten", "s"),
                ("ExtraPriority", str(AGENT_WAIT_LOOP)),
            ]
        await self._send("Redirect", headers)

    async def resume(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        leg = call.legs.get(call.agent or "") if call is not None else None
        if call is not None and leg is not None and call.held:
            await self._bridge(call, leg)

    async def hangup(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None:
            return
        if call.consult is not None and not call.gone:
            leg = call.legs.get(call.agent or "")  # the first agent leaves; the held caller stays
            call.agent = None
            if leg is not None:
                await self._drop_leg(leg)
            return
        for leg in list(call.legs.values()):
            await self._drop_leg(leg)
        if call.channel is not None and not call.gone:
            await self._send("Hangup", [("Channel", call.channel), ("Cause", "16")])

    async def transfer_out(self, call_id: str, number: str) -> None:
        call = self.calls.get(call_id)
        if call is None or call.gone or call.channel is None:
            return
        for leg in list(call.legs.values()):
            await self._drop_leg(leg)
        target = NOT_DIALLABLE.sub("", number)
        await self._send(
            "Redirect", [("Channel", call.channel), ("Context", OUT), ("Exten", target), ("Priority", "1")]
        )

    async def send_dtmf(self, call_id: str, digits: str) -> None:
        """Send tones to the caller's channel (e.g. an agent keying into a far-end IVR)."""
        call = self.calls.get(call_id)
        for digit in digits:
            if call is not None and call.channel and digit in KEYS:
                await self._send("PlayDTMF", [("Channel", call.channel), ("Digit", digit)])

    # --- consults (warm handover) --------------------------------------------------------------------
    async def open_consult(
        self, parent_call_id: str, consult_call_id: str, from_agent: str, queue: str
    ) -> None:
        parent = self.calls.get(parent_call_id)
        self.calls[consult_call_id] = Call(consult_call_id, handed=True, parent=parent_call_id)
        if parent is not None:
            parent.consult = consult_call_id
            if not parent.held:
                await self.hold(parent_call_id)

    async def consult(
        self, parent_call_id: str, consult_call_id: str, from_agent: str, specialist: str
    ) -> None:
        parent, consult = self.calls.get(parent_call_id), self.calls.get(consult_call_id)
        first = parent.legs.get(from_agent) if parent is not None else None
        second = consult.legs.get(specialist) if consult is not None else None
        if first is not None and second is not None and first.channel and second.channel:
            await self._send(
                "Bridge", [("Channel1", first.channel), ("Channel2", second.channel), ("Tone", "no")]
            )

    async def complete_transfer(
        self, parent_call_id: str, consult_call_id: str, from_agent: str, specialist: str | None
    ) -> None:
        parent, consult = self.calls.get(parent_call_id), self.calls.get(consult_call_id)
        if parent is None or consult is None or consult.uniqueid is not None or parent.uniqueid is None:
            return  # done already, or the caller is gone
        # The caller's channel now belongs to the consult call: its hang-up is reported under that id.
        consult.uniqueid, consult.channel, consult.cli = parent.uniqueid, parent.channel, parent.cli
        consult.dialled, consult.held = parent.dialled, True
        self._by_uid[parent.uniqueid] = consult_call_id
        if parent.task is not None:
            await stop_task(parent.task)
        parent.uniqueid, parent.channel, parent.consult, parent.gone = None, None, None, True
        await self._send(
            "Setvar",
            [("Channel", consult.channel or ""), ("Variable", "FRONTDOOR_CALL"), ("Value", consult_call_id)],
        )
        leg = consult.legs.get(specialist or "")
        if specialist is not None and leg is not None and leg.answered:
            await self._bridge(consult, leg)
        else:
            consult.held = False  # waiting in the consult's queue: the queue's messages, not just music
            self._start(consult, "hold")
        first = parent.legs.get(from_agent)
        if first is not None:
            await self._drop_leg(first)

    async def cancel_consult(self, parent_call_id: str, consult_call_id: str) -> None:
        parent, consult = self.calls.get(parent_call_id), self.calls.get(consult_call_id)
        if parent is not None and parent.consult == consult_call_id:
            parent.consult = None
        if consult is not None and consult.uniqueid is None:
            for leg in list(consult.legs.values()):
                await self._drop_leg(leg)
            consult.gone = True
