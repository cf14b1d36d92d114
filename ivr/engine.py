"""The per-call IVR engine: a flow's nodes walked one caller input at a time.

The engine is pure with respect to telephony: it is given ``CallStart`` and ``CallerInput`` events and
returns ``Action`` lists (``ivr.actions``). The whole session is the JSON ``IvrState`` it returns, so
any node of a cluster can carry on a call another node started. Each step runs nodes that need no
input (say, set, hours...) until one needs the caller (a ``Gather``) or the call leaves the IVR (a
terminal action).
"""

from __future__ import annotations

import copy
from typing import Any

import structlog

from cti.config import hours
from cti.config.centre import CentreConfig
from cti.domain.clock import Clock
from cti.domain.errors import Conflict, InvalidInput, NotFound
from cti.domain.identifiers import normalise_cli, normalise_phone
from ivr.actions import (
    Action,
    CallbackRequested,
    CallerInput,
    CallStart,
    Digits,
    Enqueue,
    Hangup,
    NoInput,
    Pause,
    Say,
    Speech,
    TransferOut,
)
from ivr.flows import FlowSet
from ivr.hangup import HangUpSteps
from ivr.inputs import REPEAT_WORDS, says_any, spoken_digits, validate
from ivr.model import (
    Asking,
    CallbackNode,
    CollectNode,
    EnqueueNode,
    Flow,
    HangupNode,
    HoursNode,
    LanguageNode,
    MenuNode,
    SayNode,
    SetNode,
    StatusNode,
    TransferNode,
)
from ivr.phrases import PHRASES, phrase
from ivr.progress import ProgressSteps
from ivr.status import LONDON, StatusRecords
from ivr.steps import Go, Next, prompts_of

log = structlog.get_logger(__name__)

STATE_VERSION = 1
MAX_STEPS = 64  # nodes run without input in one step; the linter refuses loops, this is the backstop
MIN_CONFIDENCE = 0.4


class IvrEngine(ProgressSteps, HangUpSteps):
    def __init__(
        self,
        flows: FlowSet,
        centre: CentreConfig,
        clock: Clock,
        records: StatusRecords | None = None,
        *,
        default_flow: str = "front_door",
    ) -> None:
        if default_flow not in flows:
            raise NotFound(f"no IVR flow '{default_flow}'", error_id="ivr_flow_not_found")
        self.flows = flows
        self.centre = centre
        self.clock = clock
        self.records = records
        self.default_flow = default_flow

    # --- the contract ----------------------------------------------------------------------------
    async def start(self, call: CallStart) -> tuple[dict[str, Any], list[Action]]:
        number = self.centre.number_for(call.dialled)
        name = number.flow if number is not None and number.flow in self.flows else self.default_flow
        flow = self.flows.flows[name]
        language = call.language if call.language in flow.languages else flow.default_language
        attrs: dict[str, str] = {}
        if number is not None and number.service:
            attrs["service"] = number.service
        state: dict[str, Any] = {
            "v": STATE_VERSION,
            "flow": name,
            "node": flow.start,
            "call_id": call.call_id,
            "cli": call.cli,
            "dialled": call.dialled,
            "number_queue": number.queue if number is not None else None,
            "lang": language,
            "attrs": attrs,
            "nhs_number": None,
            "path": [],
            "tries": 0,
            "started_ms": self.clock.now_ms(),
            "done": False,
        }
        log.info("ivr.started", call=call.call_id, flow=name)
        actions = await self._run(flow, state, flow.start, [])
        return state, actions

    async def handle(self, state: dict[str, Any], event: CallerInput) -> tuple[dict[str, Any], list[Action]]:
        state = copy.deepcopy(state)
        if state.get("v") != STATE_VERSION:
            raise InvalidInput("not an IVR session state", error_id="ivr_state_invalid", field="state")
        if state.get("done"):
            raise Conflict("this call has left the IVR", error_id="ivr_session_over")
        flow = self.flows.get(str(state.get("flow")))
        node = flow.nodes.get(str(state.get("node"))) if flow is not None else None
        if flow is None or node is None:
            raise NotFound("the IVR flow or node of this call is gone", error_id="ivr_node_not_found")
        if isinstance(node, MenuNode):
            step = self._on_menu(flow, node, state, event)
        elif isinstance(node, CollectNode):
            step = self._on_collect(flow, node, state, event)
        elif isinstance(node, LanguageNode):
            step = self._on_language(flow, node, state, event)
        elif isinstance(node, CallbackNode):
            step = self._on_callback(flow, node, state, event)
        elif isinstance(node, StatusNode):
            step = await self._on_status(flow, node, state, event)
        else:
            raise Conflict("the call is not waiting for input", error_id="ivr_not_waiting")
        if isinstance(step, str):
            step = Go(step)
        if isinstance(step, Go):
            return state, await self._run(flow, state, step.target, list(step.before))
        return state, step

    # --- running nodes that need no input --------------------------------------------------------
    async def _run(self, flow: Flow, state: dict[str, Any], node_id: str, out: list[Action]) -> list[Action]:
        for _ in range(MAX_STEPS):
            node = flow.nodes[node_id]
            state["node"] = node_id
            state["tries"] = 0
            lang = state["lang"]
            if isinstance(node, SayNode):
                out += prompts_of(flow, node, lang)
                if node.pause_s:
                    out.append(Pause(node.pause_s))
                if node.next is None:
                    return self._end(state, [*out, Hangup()])
                node_id = node.next
            elif isinstance(node, HoursNode):
                is_open = self._is_open(node)
                state["path"].append(f"{node_id}:{'open' if is_open else 'closed'}")
                node_id = node.open if is_open else node.closed
            elif isinstance(node, SetNode):
                attrs = state["attrs"]
                attrs.update(node.attributes)
                for name in ("caller_type", "service"):
                    if getattr(node, name) is not None:
                        attrs[name] = getattr(node, name)
                if node.priority is not None:
                    attrs["priority"] = str(node.priority)
                node_id = node.next
            elif isinstance(node, EnqueueNode):
                return self._end(
                    state, [*out, *prompts_of(flow, node, lang), self._enqueue(flow, node, state)]
                )
            elif isinstance(node, TransferNode):
                number = normalise_phone(node.number)
                out += prompts_of(flow, node, lang)
                return self._end(state, [*out, TransferOut(number, node.reason or node_id)])
            elif isinstance(node, HangupNode):
                return self._end(state, [*out, *prompts_of(flow, node, lang), Hangup()])
            elif isinstance(node, CallbackNode) and self._callback_number(state) is None:
                node_id = node.next  # nothing to call back: hold instead
            elif isinstance(node, StatusNode):
                return await self._status_enter(flow, node, state, out)
            else:
                assert isinstance(node, Asking)
                return [*out, self._ask(flow, node, state)]
        log.error("ivr.loop", flow=flow.name, node=node_id)
        return self._end(state, [*out, Hangup()])

    def _is_open(self, node: HoursNode) -> bool:
        if node.queue is not None:
            return self.centre.is_open(node.queue, self._now())
        assert node.calendar is not None
        return hours.is_open(self.centre.calendars[node.calendar], self._now())

    # --- nodes that wait for the caller ------------------------------------------------------------
    def _on_menu(self, flow: Flow, node: MenuNode, state: dict[str, Any], event: CallerInput) -> Next:
        fail = node.on_fail or flow.adviser
        keys = {o.key for o in node.options if o.key is not None}
        if isinstance(event, NoInput):
            return self._again(flow, node, state, "no_input", fail)
        if self._wants_adviser(flow, node, event, keys):
            return self._to_adviser(flow, state)
        if isinstance(event, Speech) and event.confidence < MIN_CONFIDENCE:
            return self._again(flow, node, state, "low_confidence", fail)
        said = event.digits if isinstance(event, Digits) else None
        if isinstance(event, Speech):
            if says_any(event.text, REPEAT_WORDS):
                return [self._ask(flow, node, state)]
            for option in node.options:
                if says_any(event.text, option.words):
                    return self._choose(state, option.key or option.words[0], option.next, option.set)
            said = spoken_digits(event.text)
        if node.repeat_key is not None and said == node.repeat_key:
            return [self._ask(flow, node, state)]
        for option in node.options:
            if option.key is not None and option.key == said:
                return self._choose(state, option.key, option.next, option.set)
        return self._again(flow, node, state, "invalid", fail)

    def _on_language(self, flow: Flow, node: LanguageNode, state: dict[str, Any], event: CallerInput) -> Next:
        keys = {o.key for o in node.options}
        if self._wants_adviser(flow, node, event, keys):
            return self._to_adviser(flow, state)
        for option in node.options:
            if (isinstance(event, Digits) and event.digits == option.key) or (
                isinstance(event, Speech) and says_any(event.text, option.words)
            ):
                state["lang"] = option.language
                return self._choose(state, option.key, node.next, {"language": option.language})
        why = "no_input" if isinstance(event, NoInput) else "invalid"
        return self._again(flow, node, state, why, node.on_fail or node.next)

    def _on_collect(self, flow: Flow, node: CollectNode, state: dict[str, Any], event: CallerInput) -> Next:
        fail = node.on_fail or (node.next if node.optional else flow.adviser)
        if isinstance(event, NoInput):
            return self._again(flow, node, state, "no_digits", fail)
        if self._wants_adviser(flow, node, event, set()):
            return self._to_adviser(flow, state)
        raw = event.digits if isinstance(event, Digits) else spoken_digits(event.text)
        if raw == "" and node.optional:
            state["path"].append(f"{state['node']}:skipped")
            return node.next
        try:
            if not node.min_digits <= len(raw) <= node.max_digits and node.validate_as == "digits":
                raise InvalidInput("wrong length", error_id="invalid_ivr_input", problem="length")
            collected = validate(node.validate_as, raw, self._now().astimezone(LONDON).date())
        except InvalidInput as exc:
            problem = str(exc.details.get("problem", ""))
            key = f"{node.validate_as}.{problem}"
            why = key if key in _KNOWN_PROBLEMS else "invalid_digits"
            state["attrs"][f"{node.store}_errors"] = str(
                int(state["attrs"].get(f"{node.store}_errors", "0")) + 1
            )
            return self._again(flow, node, state, why, fail)
        if node.validate_as == "nhs_number":
            state["nhs_number"] = collected.value  # kept apart: InboundCall.nhs_number, not the choices
        else:
            state["attrs"][node.store] = collected.value
        state["path"].append(f"{state['node']}:ok")
        before = (
            [Say(phrase(state["lang"], "confirm", value=collected.spoken), state["lang"])]
            if node.confirm
            else []
        )
        return Go(node.next, tuple(before))

    def _on_callback(self, flow: Flow, node: CallbackNode, state: dict[str, Any], event: CallerInput) -> Next:
        if isinstance(event, NoInput) or (isinstance(event, Digits) and event.digits == node.hold_key):
            state["path"].append(f"{state['node']}:hold")
            return node.next
        accepted = (isinstance(event, Digits) and event.digits == node.accept_key) or (
            isinstance(event, Speech) and says_any(event.text, ("yes", "call back", "callback", "ie"))
        )
        if not accepted:
            if isinstance(event, Speech) and says_any(event.text, ("no", "hold", "na")):
                return node.next
            return self._again(flow, node, state, "invalid", node.on_fail or node.next)
        number = self._callback_number(state)
        queue = self._queue(node.queue, node.from_number, state)
        if number is None or queue is None:
            return node.next
        state["path"].append(f"{state['node']}:callback")
        lang = state["lang"]
        out: list[Action] = [Say(t, lang) for t in [flow.text(node.confirm, lang)] if t]
        choices = self._choices(flow, state, state["node"])
        caller_type = state["attrs"].get("caller_type", "public")
        return self._end(state, [*out, CallbackRequested(queue, number, caller_type, choices)])

    # --- leaving the IVR -------------------------------------------------------------------------
    def _queue(self, queue: str | None, from_number: bool, state: dict[str, Any]) -> str | None:
        if from_number and state.get("number_queue"):
            return str(state["number_queue"])
        return queue

    def _callback_number(self, state: dict[str, Any]) -> str | None:
        try:
            number = normalise_cli(state.get("cli"))
        except InvalidInput:
            return None
        return number if number is not None and number.startswith("+") else None

    def _choices(self, flow: Flow, state: dict[str, Any], node_id: str) -> dict[str, str]:
        choices = {k: v for k, v in state["attrs"].items() if k != "priority"}
        choices.update(flow=flow.name, node=node_id, language=state["lang"])
        if state["path"]:
            choices["path"] = " > ".join(state["path"])
        if "priority" in state["attrs"]:
            choices["priority"] = state["attrs"]["priority"]
        return choices

    def _enqueue(self, flow: Flow, node: EnqueueNode, state: dict[str, Any]) -> Enqueue:
        queue = self._queue(node.queue, node.from_number, state)
        if queue is None:
            raise NotFound("the dialled number has no queue", error_id="ivr_no_queue")
        attrs = state["attrs"]
        priority = node.priority if node.priority is not None else _int(attrs.get("priority"))
        lang = state["lang"]
        hold = tuple(p for message in node.hold_messages for p in prompts_of(flow, message, lang))
        return Enqueue(
            queue=queue,
            caller_type=attrs.get("caller_type", "public"),
            priority=priority,
            nhs_number=state.get("nhs_number"),
            choices=self._choices(flow, state, state["node"]),
            hold_messages=hold,
            hold_interval_s=node.hold_interval_s,
            announce_position=node.announce_position,
        )


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


_KNOWN_PROBLEMS = frozenset(key for key in PHRASES["en-GB"] if "." in key)
