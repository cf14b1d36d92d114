"""The self-service status node ("Where's my nurse"): by the caller's number, else by a keyed reference.

A reference keyed from a number that is not the person's own is only read out once the caller keys
the person's date of birth (``verify``): references are sequential, so without it anyone could hear
the progress of anyone's request by trying numbers.
"""

from __future__ import annotations

from typing import Any

from cti.domain.errors import InvalidInput
from ivr import status as selfservice
from ivr.actions import Action, CallerInput, Digits, Gather, NoInput, Say, SelfServiceDone
from ivr.inputs import spoken_digits, validate
from ivr.model import Flow, StatusNode
from ivr.phrases import phrase
from ivr.status import LONDON
from ivr.steps import Next, Steps


class ProgressSteps(Steps):
    async def _status_enter(
        self, flow: Flow, node: StatusNode, state: dict[str, Any], out: list[Action]
    ) -> list[Action]:
        state["status"] = {"phase": "reference"}
        if node.by_number and self.records is not None:
            found = await selfservice.by_number(self.records, state["cli"])
            if found is not None:
                state["path"].append(f"{state['node']}:by_number")
                return [*out, *self._heard(flow, node, state, found)]
        return [*out, self._ask(flow, node, state)]

    def _heard(
        self, flow: Flow, node: StatusNode, state: dict[str, Any], found: selfservice.Found
    ) -> list[Action]:
        lang = state["lang"]
        first = found.requests[0]
        state["status"] = {
            "phase": "heard",
            "refs": [r.reference for r in found.requests],
            "more": found.more,
            "person_id": first.person_id,
            "service": first.service,
        }
        state["tries"] = 0
        spoken = selfservice.announcement(found, lang, self._now())
        heard = Gather((Say(phrase(lang, "status.heard"), lang),), "dtmf", 1, None, 5.0, language=lang)
        return [*(Say(text, lang) for text in spoken), heard]

    async def _on_status(
        self, flow: Flow, node: StatusNode, state: dict[str, Any], event: CallerInput
    ) -> Next:
        info = state.get("status") or {"phase": "reference"}
        fail = node.not_found or flow.adviser
        if info["phase"] == "heard":
            if isinstance(event, Digits) and event.digits == "1":
                found = await self._refind(info)
                return self._heard(flow, node, state, found) if found is not None else fail
            if self._wants_adviser(flow, node, event, set()):
                state["attrs"]["status_heard"] = ",".join(info["refs"])
                return self._to_adviser(flow, state)
            return await self._self_served(node, state)
        if info["phase"] == "verify":
            return await self._on_verify(flow, node, state, event, fail)
        if isinstance(event, NoInput):
            return self._again(flow, node, state, "no_digits", fail)
        if self._wants_adviser(flow, node, event, set()):
            return self._to_adviser(flow, state)
        raw = event.digits if isinstance(event, Digits) else spoken_digits(event.text)
        try:
            reference = validate("reference", raw, self._now().date()).value
        except InvalidInput:
            return self._again(flow, node, state, "invalid_digits", fail)
        records = self.records
        found = await selfservice.by_reference(records, reference) if records is not None else None
        if records is None or found is None:
            return self._again(flow, node, state, "reference.not_found", fail)
        request = found.requests[0]
        if node.verify and not await selfservice.is_their_number(records, request.person_id, state["cli"]):
            state["status"] = {"phase": "verify", "refs": [request.reference], "person_id": request.person_id}
            state["tries"] = 0
            state["path"].append(f"{state['node']}:verify")
            return [self._ask_verify(state, ())]
        state["path"].append(f"{state['node']}:by_reference")
        return self._heard(flow, node, state, found)

    def _ask_verify(self, state: dict[str, Any], before: tuple[str, ...]) -> Gather:
        lang = state["lang"]
        prompts = tuple(Say(text, lang) for text in (*before, phrase(lang, "status.verify")))
        return Gather(prompts, "dtmf", 8, "#", 10.0, language=lang)

    async def _on_verify(
        self, flow: Flow, node: StatusNode, state: dict[str, Any], event: CallerInput, fail: str
    ) -> Next:
        assert self.records is not None
        info = state["status"]
        if self._wants_adviser(flow, node, event, set()):
            return self._to_adviser(flow, state)
        why = "no_digits"
        if not isinstance(event, NoInput):
            raw = event.digits if isinstance(event, Digits) else spoken_digits(event.text)
            try:
                born = validate("date_of_birth", raw, self._now().astimezone(LONDON).date()).value
            except InvalidInput:
                born = ""
            if born and await selfservice.born_on(self.records, info["person_id"], born):
                found = await self._refind(info)
                if found is not None:
                    state["path"].append(f"{state['node']}:verified")
                    return self._heard(flow, node, state, found)
            why = "status.not_verified"
        state["tries"] += 1
        if state["tries"] > node.retries:
            state["path"].append(f"{state['node']}:not_verified")
            return fail
        return [self._ask_verify(state, (phrase(state["lang"], why),))]

    async def _refind(self, info: dict[str, Any]) -> selfservice.Found | None:
        assert self.records is not None
        requests = []
        for reference in info["refs"]:
            found = await self.records.service_request_by_reference(reference)
            if found is not None:
                requests.append(found)
        return selfservice.Found(requests, int(info.get("more", 0))) if requests else None

    async def _self_served(self, node: StatusNode, state: dict[str, Any]) -> list[Action]:
        info = state["status"]
        choices = {**state["attrs"], "flow": state["flow"], "status_heard": ",".join(info["refs"])}
        if self.records is not None:
            await selfservice.record_self_service(
                self.records,
                call_id=state["call_id"],
                cli=state["cli"],
                caller_type=state["attrs"].get("caller_type", "unknown"),
                person_id=info.get("person_id"),
                service=info.get("service"),
                started_at=selfservice.utc(state["started_ms"]),
                now=self._now(),
                reason=node.reason,
            )
        lang = state["lang"]
        goodbye = Say(phrase(lang, "status.goodbye"), lang)
        return self._end(state, [goodbye, SelfServiceDone(node.reason, "self_service", choices)])
