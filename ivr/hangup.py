"""A caller who hangs up while still in the IVR is recorded all the same ("nothing lost").

``IvrEngine.hung_up(state)`` is what every adapter calls when the caller's line ends before the IVR
gave a terminal action. It writes one contact, whose id is the call id:

- the caller had heard their self-service status (the status node, phase ``heard``): the self-service
  contact (``status_given``, the node's reason, resolved without an agent), as ``SelfServiceDone``
  would have written it;
- anywhere else: ``abandoned_in_ivr`` with the IVR path so far in an audit entry
  (``action="ivr_abandoned"``, ``details={"flow", "node", "path"}``: menu keys only, no personal data).

Double recording is impossible by construction: the contact is inserted under the call id, the
primary key, and an insert that finds the id taken writes nothing more (a repeated status callback,
a hang-up after ``SelfServiceDone`` was recorded, two nodes racing). A state that has left the IVR
(``done``) is ignored: queued, called-back and transferred calls are recorded by the domain.
"""

from __future__ import annotations

from typing import Any

import structlog

from ivr import status as selfservice
from ivr.model import StatusNode
from ivr.steps import Steps

log = structlog.get_logger("ivr.engine")

ABANDONED_IN_IVR = "abandoned_in_ivr"  # cti.domain.codes.SYSTEM_OUTCOMES


class HangUpSteps(Steps):
    async def hung_up(self, state: dict[str, Any]) -> None:
        """The caller hung up mid-IVR: record the call once (see the module's docstring). Never raises
        for a bad state or a records failure (logged): the caller is gone either way."""
        call_id = state.get("call_id") if isinstance(state, dict) else None
        if not isinstance(call_id, str) or state.get("done"):
            return
        if self.records is None:
            log.warning("ivr.hung_up_unrecorded", call=call_id, why="no records")
            return
        try:
            recorded = await self._record_hang_up(call_id, state)
        except Exception:  # a database failure included: logged, and the adapter goes on
            log.exception("ivr.hung_up_unrecorded", call=call_id)
            return
        log.info("ivr.hung_up", call=call_id, node=state.get("node"), recorded=recorded)

    async def _record_hang_up(self, call_id: str, state: dict[str, Any]) -> str | None:
        records = self.records
        assert records is not None
        flow = self.flows.get(str(state.get("flow")))
        node = flow.nodes.get(str(state.get("node"))) if flow is not None else None
        info = state.get("status") or {}
        attrs: dict[str, str] = state.get("attrs") or {}
        now, started = self._now(), selfservice.utc(int(state["started_ms"]))
        caller_type = str(attrs.get("caller_type", "unknown"))
        if isinstance(node, StatusNode) and info.get("phase") == "heard":
            contact = await selfservice.record_self_service(
                records,
                call_id=call_id,
                cli=state.get("cli"),
                caller_type=caller_type,
                person_id=info.get("person_id"),
                service=info.get("service"),
                started_at=started,
                now=now,
                reason=node.reason,
            )
            return None if contact is None else "self_service"
        match = await records.lookup_by_phone(state.get("cli"))
        person_id = match.people[0].id if len(match.people) == 1 else None
        if state.get("nhs_number"):
            person = await records.find_person_by_nhs(str(state["nhs_number"]))
            person_id = person.id if person is not None else person_id
        service = attrs.get("service")
        inserted = await selfservice.insert_once(
            records,
            call_id,
            started_at=started,
            caller_e164=state.get("cli"),
            person_id=person_id,
            referrer_id=match.referrers[0].id if len(match.referrers) == 1 else None,
            caller_type=caller_type,
            service=service if service in self.centre.services else None,
        )
        if not inserted:
            return None
        await records.update_contact(
            call_id,
            ivr_ended_at=now,
            ended_at=now,
            outcome_code=ABANDONED_IN_IVR,
            reason_codes=[node.reason] if isinstance(node, StatusNode) else [],
        )
        await records.audit_view(
            "ivr",
            "system",
            "contact",
            call_id,
            "caller hung up in the IVR",
            action="ivr_abandoned",
            details={
                "flow": str(state.get("flow")),
                "node": str(state.get("node")),
                "path": " > ".join(state.get("path") or []),
            },
            at=now,
        )
        return ABANDONED_IN_IVR
