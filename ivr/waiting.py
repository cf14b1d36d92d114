"""What a caller waiting in a queue hears, turn by turn: their position, the expected wait, and the
queue's periodic messages (the ``hold_messages`` of the flow's enqueue node), each turn ending with a
pause. Adapters call ``hold_actions`` from their hold loop (Twilio's hold URL, Asterisk's MOH loop).

Turn 0 gives the position and the average wait; later turns alternate the flow's messages, with the
position again every other turn.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from cti.domain.errors import NotFound
from cti.domain.states import ContactState
from ivr.actions import Action, Pause, Play, Say
from ivr.engine import IvrEngine
from ivr.model import EnqueueNode, Flow
from ivr.phrases import phrase
from ivr.steps import prompts_of

if TYPE_CHECKING:
    from cti.wiring import Services

DEFAULT_INTERVAL_S = 30.0


async def hold_actions(services: Services, call_id: str, turn: int) -> list[Action]:
    """What to play on hold-loop turn ``turn`` (0, 1, ...) to the caller of contact ``call_id``."""
    try:
        contact = await services.store.get_contact(call_id)
    except NotFound:
        return [Say(phrase("en-GB", "hold")), Pause(DEFAULT_INTERVAL_S)]
    ivr: dict[str, Any] = dict(contact.attrs.get("ivr") or {})
    lang = str(ivr.get("language") or "en-GB")
    node = _enqueue_node(services, ivr)
    interval = node.hold_interval_s if node is not None else DEFAULT_INTERVAL_S
    out: list[Action] = []
    announce = node is None or node.announce_position
    if announce and turn % 2 == 0 and contact.state is ContactState.QUEUED:
        position = await _position(services, contact.id, set(contact.targets))
        if position is not None:
            out.append(
                Say(phrase(lang, "position_next" if position == 1 else "position", position=position), lang)
            )
        if turn == 0 and (node is None or node.announce_wait):
            wait = _average_wait_s(services, contact.queue)
            if wait is not None:
                minutes = math.ceil(wait / 60)
                key = "wait_short" if wait < 60 else "wait"
                out.append(Say(phrase(lang, key, minutes=minutes), lang))
    if turn > 0:
        flow = _flow(services, ivr)
        messages: list[Say | Play] = []
        if node is not None and flow is not None:
            messages = [
                action for message in node.hold_messages for action in prompts_of(flow, message, lang)
            ]
        out.append(messages[(turn - 1) % len(messages)] if messages else Say(phrase(lang, "hold"), lang))
    out.append(Pause(interval))
    return out


def _flow(services: Services, ivr: dict[str, Any]) -> Flow | None:
    engine = services.extras.get("ivr")
    return engine.flows.get(str(ivr.get("flow"))) if isinstance(engine, IvrEngine) else None


def _enqueue_node(services: Services, ivr: dict[str, Any]) -> EnqueueNode | None:
    flow = _flow(services, ivr)
    node = flow.nodes.get(str(ivr.get("node"))) if flow is not None else None
    return node if isinstance(node, EnqueueNode) else None


async def _position(services: Services, contact_id: str, targets: set[str]) -> int | None:
    """1 + the waiting contacts ahead in the global order that could take the same agents."""
    ahead = 0
    for waiting in await services.store.waiting():
        if waiting.id == contact_id:
            return ahead + 1
        if targets & set(waiting.targets):
            ahead += 1
    return None


def _average_wait_s(services: Services, queue: str) -> float | None:
    live = services.extras.get("live")
    try:
        figures = live.stats.queue_figures(queue, services.clock.now_ms()) if live is not None else {}
    except (AttributeError, KeyError):
        return None
    value = figures.get("asa_s")
    return float(value) if isinstance(value, int | float) else None
