"""What a session looks like from outside: the API's session JSON and FHIR R4 QuestionnaireResponse."""

from __future__ import annotations

from typing import Any

from scripts.session import ScriptSession

FHIR_BASE = "https://frontdoor.example.org/fhir"
SCRIPT_HASH_EXTENSION = f"{FHIR_BASE}/StructureDefinition/script-hash"
RED_FLAG_EXTENSION = f"{FHIR_BASE}/StructureDefinition/red-flag"


def session_json(session: ScriptSession, proposed: dict[str, Any] | None) -> dict[str, Any]:
    script = session.script
    at = session.at
    question: dict[str, Any] | None = None
    if at.question is not None and session.state == "in_progress":
        q = at.question
        question = {
            "id": q.id,
            "text": session.text(q.text),
            "help": session.text(q.help),
            "rationale": session.text(q.rationale),
            "answers": [{"id": a.id, "text": session.text(a.text)} for a in q.answers],
            "red_flag": q.red_flag,
        }
    outcome: dict[str, Any] | None = None
    if at.outcome is not None:
        o = at.outcome
        reached = session.outcome_reached_at
        outcome = {
            "id": o.id,
            "action": o.action,
            "skill": o.skill,
            "timeframe": o.timeframe,
            "service_type": o.service_type,
            "text": session.text(o.text),
            "red_flag": at.red_flag,
            "reached_at": reached.isoformat() if reached else None,
            "proposed": proposed,
        }
    decision: dict[str, Any] | None = None
    if session.decision is not None:
        d = session.decision
        decision = {
            "accepted": d.kind == "accepted",
            "action": d.details.get("override_action")
            if d.kind == "overridden"
            else (at.outcome and at.outcome.action),
            "reason": d.details.get("reason"),
            "by": d.agent_id,
            "at": d.at.isoformat(),
            "service_request": session.actioned.details.get("service_request") if session.actioned else None,
        }
    return {
        "id": session.id,
        "contact_id": session.row.contact_id,
        "script": session.ref,
        "title": script.title,
        "notice": script.notice,
        "agent": session.row.agent_id,
        "started_at": session.row.started_at.isoformat(),
        "state": session.state,
        "question": question,
        "answers": [
            {
                "question_id": s.question_id,
                "question": s.question_shown,
                "answer_id": s.answer_id,
                "answer": s.answer_text,
                "red_flag": s.red_flag,
                "at": s.at.isoformat(),
                "agent": s.agent_id,
            }
            for s in session.path
        ],
        "outcome": outcome,
        "decision": decision,
        "events": len(session.events),
    }


def questionnaire_response(session: ScriptSession) -> dict[str, Any]:
    """The session as a FHIR R4 QuestionnaireResponse: the current answers, then the outcome."""
    script = session.script
    system = f"{FHIR_BASE}/CodeSystem/script-{script.id}"
    items: list[dict[str, Any]] = []
    for s in session.path:
        answer: dict[str, Any] = {
            "valueCoding": {"system": system, "code": s.answer_id, "display": s.answer_text}
        }
        item: dict[str, Any] = {"linkId": s.question_id, "text": s.question_shown, "answer": [answer]}
        if s.red_flag:
            item["extension"] = [{"url": RED_FLAG_EXTENSION, "valueBoolean": True}]
        items.append(item)
    outcome = session.at.outcome
    if outcome is not None:
        coding = {"system": f"{system}-outcome", "code": outcome.id, "display": session.text(outcome.text)}
        items.append({"linkId": "outcome", "text": "Scripted outcome", "answer": [{"valueCoding": coding}]})
    if session.decision is not None and session.decision.kind == "overridden":
        details = session.decision.details
        items.append(
            {
                "linkId": "override",
                "text": "Outcome overridden by the call handler",
                "item": [
                    {
                        "linkId": "override.action",
                        "answer": [{"valueString": str(details.get("override_action"))}],
                    },
                    {"linkId": "override.reason", "answer": [{"valueString": str(details.get("reason"))}]},
                ],
            }
        )
    last = session.events[-1].at if session.events else session.row.started_at
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": session.id,
        "identifier": {"system": f"{FHIR_BASE}/script-session", "value": session.id},
        "questionnaire": f"{FHIR_BASE}/Questionnaire/{script.id}|{script.version}",
        "status": "completed" if session.state == "finished" else "in-progress",
        "encounter": {"identifier": {"system": f"{FHIR_BASE}/contact", "value": session.row.contact_id}},
        "authored": last.isoformat(),
        "author": {"identifier": {"system": f"{FHIR_BASE}/user", "value": session.row.agent_id}},
        "extension": [{"url": SCRIPT_HASH_EXTENSION, "valueString": session.ref}],
        "item": items,
    }
    return resource
