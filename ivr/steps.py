"""What every node that talks to the caller shares: prompts, asking, retries and the way to an adviser.

``Steps`` is the engine's base; ``ivr.engine.IvrEngine`` adds the nodes. A node's handler returns a
``Next``: a node id to go on to (``Go`` to say something first), or the finished step's actions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from cti.config.centre import CentreConfig
from cti.domain.clock import Clock
from ivr.actions import Action, CallerInput, Digits, Gather, Play, Say, Speech
from ivr.flows import FlowSet
from ivr.inputs import ADVISER_WORDS, says_any
from ivr.model import Asking, CollectNode, Flow, LanguageNode, MenuNode, Prompted, StatusNode
from ivr.phrases import phrase
from ivr.status import StatusRecords

log = structlog.get_logger("ivr.engine")


@dataclass(frozen=True, slots=True)
class Go:
    """Go on to ``target`` after saying ``before``."""

    target: str
    before: tuple[Action, ...] = ()


Next = str | Go | list[Action]  # a node id to go on to, or the finished step


def prompts_of(flow: Flow, node: Prompted, lang: str) -> list[Say | Play]:
    """What a node plays before anything else, in the caller's language."""
    out: list[Say | Play] = []
    if node.play:
        out.append(Play(node.play))
    text = flow.text(node.say, lang)
    if text:
        out.append(Say(text, lang))
    return out


class Steps:
    flows: FlowSet
    centre: CentreConfig
    clock: Clock
    records: StatusRecords | None

    def _end(self, state: dict[str, Any], actions: list[Action]) -> list[Action]:
        state["done"] = True
        log.info("ivr.left", call=state["call_id"], flow=state["flow"], action=type(actions[-1]).__name__)
        return actions

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now_ms() / 1000, tz=UTC)

    # --- saying and asking -----------------------------------------------------------------------
    def _ask(self, flow: Flow, node: Asking, state: dict[str, Any], before: tuple[str, ...] = ()) -> Gather:
        lang = state["lang"]
        prompts: list[Say | Play] = [Say(text, lang) for text in before]
        prompts += prompts_of(flow, node, lang)
        hints: tuple[str, ...] = ()
        if isinstance(node, MenuNode | LanguageNode):
            hints = tuple(word for option in node.options for word in option.words)
        if isinstance(node, CollectNode | StatusNode):
            digits = node.max_digits if isinstance(node, CollectNode) else 9
            return Gather(tuple(prompts), "dtmf", digits, "#", node.timeout_s, language=lang)
        mode = node.input if isinstance(node, MenuNode) else "dtmf speech"
        return Gather(tuple(prompts), mode, 1, None, node.timeout_s, hints, lang)

    def _again(self, flow: Flow, node: Asking, state: dict[str, Any], why: str, fail: str) -> Next:
        """A wrong or missing answer: ask again, or after the retries go to ``fail``."""
        state["tries"] += 1
        if state["tries"] > node.retries:
            state["path"].append(f"{state['node']}:failed")
            return fail
        lang = state["lang"]
        extra = (flow.text(node.invalid, lang) if why == "invalid" else None) or phrase(lang, why)
        return [self._ask(flow, node, state, (extra,))]

    def _wants_adviser(self, flow: Flow, node: Asking, event: CallerInput, keys: set[str]) -> bool:
        if not node.adviser:
            return False
        if isinstance(event, Digits):
            return event.digits == flow.adviser_key and flow.adviser_key not in keys
        return isinstance(event, Speech) and says_any(event.text, ADVISER_WORDS)

    def _to_adviser(self, flow: Flow, state: dict[str, Any]) -> str:
        state["path"].append(f"{state['node']}:adviser")
        state["attrs"]["asked_for_adviser"] = "yes"
        return flow.adviser

    def _choose(self, state: dict[str, Any], key: str, target: str, attrs: dict[str, str]) -> str:
        state["path"].append(f"{state['node']}:{key}")
        state["attrs"].update(attrs)
        return target
