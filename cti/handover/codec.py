"""A handover as one JSON document, whole (for the shared handover store), and back."""

from __future__ import annotations

import json
from typing import Any

from cti.handover.model import Handover, LiveNote, Note, Transition
from cti.handover.states import HandoverState
from cti.state.redis_codec import plan_from_json, plan_to_json


def dumps(handover: Handover) -> str:
    record = handover.to_json(detail=True)
    record["note"] = {**handover.note.to_json(), "risk_flags": list(handover.note.risk_flags)}
    record["consults"] = handover.consults
    record["plan"] = None if handover.plan is None else plan_to_json(handover.plan)
    record["owner"] = handover.owner
    return json.dumps(record, separators=(",", ":"))


def _transition(item: dict[str, Any]) -> Transition:
    previous = item.get("previous")
    return Transition(
        at=int(item["at"]),
        previous=None if previous is None else HandoverState(previous),
        event=str(item["event"]),
        state=HandoverState(item["state"]),
        by=str(item["by"]),
        reason=item.get("reason"),
    )


def loads(raw: str | bytes) -> Handover:
    record: dict[str, Any] = json.loads(raw)
    note = record["note"]
    return Handover(
        id=record["id"],
        contact_id=record["contact_id"],
        consult_contact_id=record["consult_contact_id"],
        from_agent=record["from_agent"],
        target=record["target"],
        worker=record.get("worker"),
        note=Note(
            reason=note["reason"],
            triage_outcome=note.get("triage_outcome"),
            risk_flags=tuple(note.get("risk_flags") or ()),
            told_caller=note.get("told_caller"),
            free_text=note.get("free_text"),
        ),
        state=HandoverState(record["state"]),
        created_at=int(record["created_at"]),
        updated_at=int(record["updated_at"]),
        specialist=record.get("specialist"),
        reason=record.get("reason"),
        caller=record.get("caller", "held"),
        expires_at=record.get("expires_at"),
        history=[_transition(t) for t in record.get("history", [])],
        notes=[LiveNote(int(n["at"]), n["author"], n["text"]) for n in record.get("notes", [])],
        consults=list(record.get("consults") or [record["consult_contact_id"]]),
        plan=None if record.get("plan") is None else plan_from_json(record["plan"]),
        owner=record.get("owner", ""),
    )
