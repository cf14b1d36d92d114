"""The resync after each AMI login: AMI never replays what was missed, so the adapter's view is set
from ``CoreShowChannels`` again. Channels carry ``FRONTDOOR_CALL`` / ``FRONTDOOR_AGENT`` (manager.conf
``channelvars``), so a restarted adapter re-adopts calls and agents' legs; nothing reaches the domain twice
(``call_arrived`` is only ever called from the IVR)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from cti.asterisk.client import Resync
from cti.asterisk.legs import IN, Call, Leg

if TYPE_CHECKING:
    from cti.asterisk.adapter import AsteriskTelephony

log = structlog.get_logger(__name__)


async def reconcile(t: AsteriskTelephony, snapshot: Resync) -> None:
    """After each login: forget what ended while we were away, re-adopt what we own, and restart
    the IVR or hold loop of callers whose AGI commands were lost with the connection."""
    present = {m.get("Uniqueid") or "": m for m in snapshot.channels}
    for call in list(t.calls.values()):
        if call.uniqueid is not None and not call.gone and call.uniqueid not in present:
            await t._caller_gone(call.call_id)
    for leg in list(t._legs.values()):
        if leg.uniqueid not in present:
            await t._leg_gone(leg)
    for uid, channel in present.items():
        variables = channel.variables()
        call_id, agent = variables.get("FRONTDOOR_CALL"), variables.get("FRONTDOOR_AGENT")
        in_agi = (channel.get("Application") or "").upper() == "AGI"
        if agent and call_id:
            if uid not in t._legs:
                up = channel.get("ChannelState") == "6"
                leg = Leg(agent, call_id, uid, channel.get("Channel"), answered=up)
                t._legs[uid] = leg
                t.calls.setdefault(call_id, Call(call_id, handed=True)).legs[agent] = leg
            continue
        if call_id and uid not in t._by_uid:
            call = t.calls.setdefault(call_id, Call(call_id, handed=True))
            call.uniqueid, call.channel, call.gone = uid, channel.get("Channel"), False
            t._by_uid[uid] = call_id
            log.info("asterisk.call_adopted", call=call_id)
        known = t.calls.get(t._by_uid.get(uid, ""))
        if known is not None and in_agi and (known.task is None or known.task.done()):
            t._start(known, "hold" if known.handed else "ivr")
        elif known is None and in_agi and channel.get("Context") == IN:
            await t._agi_started(channel, uid)
    for call in t.calls.values():
        here = present.get(call.uniqueid or "")
        bridge = here.get("BridgeId") if here is not None else None
        for agent, leg in call.legs.items():
            if bridge and leg.uniqueid in present and present[leg.uniqueid].get("BridgeId") == bridge:
                call.agent, call.held = agent, False
