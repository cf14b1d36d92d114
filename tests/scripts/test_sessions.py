"""Script sessions on a real database (SQLite and PostgreSQL): answers, going back, red flags,
outcomes and overrides, version pinning, approval, and the audit trail."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.bus.memory import MemoryEventBus
from cti.bus.redis import RedisEventBus
from cti.config.centre import CentreConfig
from cti.domain.clock import ManualClock
from cti.domain.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from cti.live.messages import SUPERVISOR_STREAM, validate_supervisor_message
from cti.records import Records
from scripts.proposal import shipped_directory_lookup
from scripts.service import LIBRARY_DIR, ScriptService
from scripts.store import EventRow, ScriptStore
from scripts.views import questionnaire_response
from tests.scripts.conftest import (
    ADMIN,
    AGENT,
    CLINSAFE,
    OTHER_AGENT,
    SUPERVISOR,
    approved,
    build,
    triage,
    write,
)


async def ready(service: ScriptService, folder: Path, *raws: dict[str, Any]) -> None:
    for raw in raws:
        write(folder, raw, f"{raw['id']}_v{raw['version']}")
    assert await service.sync_library(folder) == []


async def test_the_shipped_library_registers_approved_by_clinical_safety(service: ScriptService) -> None:
    assert await service.sync_library(LIBRARY_DIR) == []
    listed = await service.catalogue()
    assert len(listed) == 8 and {s["version"] for s in listed} == {1}
    versions = await service.versions("fcp_wellbeing")
    assert versions[0]["status"] == "approved" and versions[0]["status_by"] == "clinsafe01"
    assert await service.sync_library(LIBRARY_DIR) == []  # a restart registers nothing new
    assert len(await service.versions("fcp_wellbeing")) == 1


async def test_answer_go_back_and_accept(service: ScriptService, clock: ManualClock, tmp_path: Path) -> None:
    await ready(service, tmp_path, approved(triage()))
    session = await service.start("c1", "tiny_triage", AGENT)
    ref = build(triage()).ref
    assert session["script"] == ref and session["state"] == "in_progress" and session["outcome"] is None
    assert session["question"]["text"] == "Is the caller in danger now?"
    assert session["question"]["red_flag"] is True
    assert [a["id"] for a in session["question"]["answers"]] == ["danger", "none"]
    sid = session["id"]

    after = await service.answer(sid, "q_danger", "none", AGENT)
    assert after["question"]["id"] == "q_eligible"
    back = await service.back(sid, AGENT)
    assert back["question"]["id"] == "q_danger" and back["answers"] == []
    await service.answer(sid, "q_danger", "none", AGENT)
    clock.advance(60_000)
    done = await service.answer(sid, "q_eligible", "eligible", AGENT)
    assert done["question"] is None
    outcome = done["outcome"]
    assert (outcome["id"], outcome["action"], outcome["skill"], outcome["timeframe"]) == (
        "o_duty",
        "warm_handover",
        "DUTY",
        "24h",
    )
    assert outcome["proposed"]["kind"] == "warm_handover" and outcome["proposed"]["target"] == "asc_duty"
    reached = outcome["reached_at"]
    assert outcome["proposed"]["due_at"] == (service.now() + timedelta(hours=24)).isoformat() != reached
    assert [a["answer_id"] for a in done["answers"]] == ["none", "eligible"]

    finished = await service.decide(sid, AGENT, accept=True, override_action=None, reason=None)
    assert finished["state"] == "finished" and finished["decision"]["accepted"] is True
    with pytest.raises(IllegalTransition):
        await service.answer(sid, "q_eligible", "eligible", AGENT)
    with pytest.raises(IllegalTransition):
        await service.back(sid, AGENT)

    # The audit trail: every step appended, none rewritten, each naming script@version#hash.
    events = (await service.load(sid)).events
    assert [(e.kind, e.node, e.answer_id) for e in events] == [
        ("started", "q_danger", None),
        ("answered", "q_danger", "none"),
        ("back", "q_danger", "none"),
        ("answered", "q_danger", "none"),
        ("answered", "q_eligible", "eligible"),
        ("accepted", "o_duty", None),
    ]
    assert {e.script for e in events} == {ref} and {e.agent_id for e in events} == {"agent01"}
    assert events[1].question_shown == "Is the caller in danger now?" and events[1].answer_text == "No"
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]


async def test_a_red_flag_ends_early_cannot_be_undone_and_an_override_alerts_supervisors(
    service: ScriptService, bus: MemoryEventBus, tmp_path: Path
) -> None:
    await ready(service, tmp_path, approved(triage()))
    sid = (await service.start("c1", "tiny_triage", AGENT))["id"]
    flagged = await service.answer(sid, "q_danger", "danger", AGENT)
    assert flagged["outcome"]["id"] == "o_999" and flagged["outcome"]["red_flag"] is True
    assert flagged["outcome"]["proposed"] == {"kind": "transfer_out", "number": "999"}
    assert flagged["answers"][0]["red_flag"] is True
    with pytest.raises(Conflict) as caught:
        await service.back(sid, AGENT)
    assert caught.value.error_id == "red_flag_cannot_be_undone"
    with pytest.raises(InvalidInput) as invalid:
        await service.decide(sid, AGENT, accept=False, override_action="signpost", reason="  ")
    assert invalid.value.details["field"] == "reason"
    with pytest.raises(InvalidInput) as invalid:
        await service.decide(sid, AGENT, accept=False, override_action="teleport", reason="x")
    assert invalid.value.details["field"] == "override_action"
    assert await bus.read_after(SUPERVISOR_STREAM, 0) == []

    done = await service.decide(
        sid, AGENT, accept=False, override_action="warm_handover", reason="caller already with paramedics"
    )
    assert done["state"] == "finished"
    assert done["decision"] == {
        "accepted": False,
        "action": "warm_handover",
        "reason": "caller already with paramedics",
        "by": "agent01",
        "at": done["decision"]["at"],
        "service_request": None,
    }
    alerts = await bus.read_after(SUPERVISOR_STREAM, 0)
    assert isinstance(alerts, list) and [a.type for a in alerts] == ["script.override"]
    validate_supervisor_message(alerts[0])
    data = alerts[0].data
    assert (data["contact"], data["agent"], data["scripted_action"], data["override_action"]) == (
        "c1",
        "agent01",
        "transfer_999",
        "warm_handover",
    )
    assert data["red_flag"] is True and data["script"] == done["script"]
    kinds = [e.kind for e in (await service.load(sid)).events]
    assert kinds == ["started", "answered", "overridden"]


async def test_sessions_finish_on_the_version_they_started_with(
    service: ScriptService, tmp_path: Path
) -> None:
    await ready(service, tmp_path, approved(triage()))
    old = await service.start("c1", "tiny_triage", AGENT)
    v2 = triage(version=2)
    v2["questions"][1]["text"] = "Version two: is the person an adult here?"
    await ready(service, tmp_path, approved(v2))
    assert [(s["id"], s["version"]) for s in await service.catalogue()] == [("tiny_triage", 2)]

    carried_on = await service.answer(old["id"], "q_danger", "none", AGENT)
    assert carried_on["script"].startswith("tiny_triage@1#")
    assert carried_on["question"]["text"] == "Is the person an adult living in the area?"
    new = await service.start("c2", "tiny_triage", AGENT)
    assert new["script"] == build(v2).ref


async def test_an_approved_version_is_immutable(service: ScriptService, tmp_path: Path) -> None:
    await ready(service, tmp_path, approved(triage()))
    changed = triage()
    changed["outcomes"][1]["timeframe"] = "72h"
    write(tmp_path, approved(changed), "tiny_triage_v1")  # same version, new content, re-signed
    refused = await service.sync_library(tmp_path)
    assert refused == ["tiny_triage: version 1 is approved: its content cannot change"]
    assert [s["ref"] for s in await service.catalogue()] == [build(triage()).ref]


async def test_only_clinical_safety_approves(service: ScriptService, tmp_path: Path) -> None:
    await ready(service, tmp_path, triage(status="in_review"))
    assert await service.catalogue() == []
    digest = build(triage()).hash
    for user in (AGENT, SUPERVISOR, ADMIN):
        with pytest.raises(Forbidden):
            await service.set_status("tiny_triage", 1, digest, "approved", user)
    with pytest.raises(Conflict) as caught:
        await service.set_status("tiny_triage", 1, "0" * 64, "approved", CLINSAFE)
    assert caught.value.error_id == "script_hash_mismatch"
    with pytest.raises(NotFound):
        await service.set_status("tiny_triage", 9, digest, "approved", CLINSAFE)
    signed = await service.set_status("tiny_triage", 1, digest, "approved", CLINSAFE)
    assert (signed["status"], signed["status_by"]) == ("approved", "clinsafe01")
    assert [s["id"] for s in await service.catalogue()] == ["tiny_triage"]
    with pytest.raises(IllegalTransition):
        await service.set_status("tiny_triage", 1, digest, "approved", CLINSAFE)
    with pytest.raises(Forbidden):
        await service.set_status("tiny_triage", 1, digest, "retired", ADMIN)
    await service.set_status("tiny_triage", 1, digest, "retired", CLINSAFE)
    assert await service.catalogue() == []


async def test_a_file_cannot_sign_for_someone_without_the_role(
    service: ScriptService, tmp_path: Path
) -> None:
    raw = approved(triage())
    raw["approval"]["by"] = "supervisor01"
    write(tmp_path, raw)
    refused = await service.sync_library(tmp_path)
    assert refused == ["tiny_triage: approval must be signed by a clinical_safety user; kept in review"]
    assert await service.catalogue() == []
    assert (await service.versions("tiny_triage"))[0]["status"] == "in_review"


async def test_a_script_that_fails_its_lint_is_not_registered(service: ScriptService, tmp_path: Path) -> None:
    raw = triage()
    raw["tests"][0]["expect"] = "o_duty"
    write(tmp_path, raw)
    refused = await service.sync_library(tmp_path)
    assert refused == ["tiny_triage: test 'danger': [test_failed] expected outcome 'o_duty', reached 'o_999'"]
    with pytest.raises(NotFound):
        await service.versions("tiny_triage")


async def test_who_may_start_read_and_change_a_session(service: ScriptService, tmp_path: Path) -> None:
    await ready(service, tmp_path, approved(triage()))
    with pytest.raises(NotFound) as caught:
        await service.start("c3", "tiny_triage", AGENT)  # agent02 is handling c3
    assert caught.value.error_id == "contact_not_found"
    with pytest.raises(NotFound) as caught:
        await service.start("c1", "no_such_script", AGENT)
    assert caught.value.details["field"] == "script_id"
    sid = (await service.start("c1", "tiny_triage", AGENT))["id"]
    assert (await service.start("c1", "tiny_triage", AGENT))["id"] == sid  # starting again resumes
    with pytest.raises(NotFound):
        await service.read(sid, OTHER_AGENT)
    with pytest.raises(NotFound):
        await service.answer(sid, "q_danger", "none", OTHER_AGENT)
    assert (await service.read(sid, SUPERVISOR)).id == sid
    with pytest.raises(Forbidden):
        await service.answer(sid, "q_danger", "none", SUPERVISOR)
    with pytest.raises(InvalidInput) as invalid:
        await service.answer(sid, "q_eligible", "eligible", AGENT)
    assert invalid.value.details["field"] == "question_id"
    with pytest.raises(InvalidInput) as invalid:
        await service.answer(sid, "q_danger", "maybe", AGENT)
    assert invalid.value.details["field"] == "answer_id"


async def test_one_script_in_progress_per_contact(service: ScriptService, tmp_path: Path) -> None:
    other = triage(id="other_triage")
    await ready(service, tmp_path, approved(triage()), approved(other))
    sid = (await service.start("c1", "tiny_triage", AGENT))["id"]
    with pytest.raises(Conflict) as caught:
        await service.start("c1", "other_triage", AGENT)
    assert caught.value.error_id == "script_session_in_progress"
    await service.answer(sid, "q_danger", "danger", AGENT)
    await service.decide(sid, AGENT, accept=True, override_action=None, reason=None)
    assert (await service.start("c1", "other_triage", AGENT))["script"].startswith("other_triage@1#")


async def test_two_appends_at_one_place_one_wins(service: ScriptService, tmp_path: Path) -> None:
    await ready(service, tmp_path, approved(triage()))
    sid = (await service.start("c1", "tiny_triage", AGENT))["id"]
    stale = await service.load(sid)
    await service.answer(sid, "q_danger", "none", AGENT)
    event: EventRow = stale.answer("q_danger", "danger", "agent01", service.now())
    with pytest.raises(Conflict) as caught:
        await service.store.append(sid, event)
    assert caught.value.error_id == "script_session_changed"
    assert (await service.load(sid)).path[0].answer_id == "none"


async def test_signposting_proposes_directory_entries_and_fhir_export(
    service: ScriptService, tmp_path: Path
) -> None:
    service.directory = shipped_directory_lookup()
    await ready(service, tmp_path, approved(triage()))
    sid = (await service.start("c1", "tiny_triage", AGENT))["id"]
    await service.answer(sid, "q_danger", "none", AGENT)
    in_progress = questionnaire_response(await service.load(sid))
    assert in_progress["status"] == "in-progress" and [i["linkId"] for i in in_progress["item"]] == [
        "q_danger"
    ]
    done = await service.answer(sid, "q_eligible", "not_eligible", AGENT)
    proposed = done["outcome"]["proposed"]
    assert proposed["kind"] == "signpost" and proposed["directory_available"] is True
    assert [e["id"] for e in proposed["directory"]] == ["dos-carers-support"]
    assert done["outcome"]["text"] == "Signpost this service."
    await service.decide(
        sid, AGENT, accept=False, override_action="refer", reason="caller asked for a referral"
    )

    fhir = questionnaire_response(await service.load(sid))
    assert fhir["resourceType"] == "QuestionnaireResponse" and fhir["status"] == "completed"
    assert fhir["questionnaire"].endswith("/Questionnaire/tiny_triage|1")
    assert fhir["encounter"]["identifier"]["value"] == "c1"
    assert fhir["author"]["identifier"]["value"] == "agent01"
    assert fhir["extension"][0]["valueString"] == build(triage()).ref
    assert [i["linkId"] for i in fhir["item"]] == ["q_danger", "q_eligible", "outcome", "override"]
    first = fhir["item"][0]
    assert first["text"] == "Is the caller in danger now?"
    assert first["answer"][0]["valueCoding"]["code"] == "none"
    assert fhir["item"][2]["answer"][0]["valueCoding"]["code"] == "o_signpost"
    assert fhir["item"][3]["item"][1]["answer"] == [{"valueString": "caller asked for a referral"}]


async def test_accepting_a_referral_opens_the_service_request_due_by_the_timeframe(
    service: ScriptService, engine: AsyncEngine, clock: ManualClock, tmp_path: Path
) -> None:
    records = Records(engine, clock=clock)
    service.records = records
    person = await records.add_person(given_name="Ada", family_name="Example", nhs_number="9990000018")
    await records.record_contact("c1", started_at=service.now(), person_id=person.id, service="city_spoc")
    raw = triage()
    raw["outcomes"][1].update(action="refer", service="city_spoc", queue=None)
    await ready(service, tmp_path, approved(raw))
    sid = (await service.start("c1", "tiny_triage", AGENT))["id"]
    await service.answer(sid, "q_danger", "none", AGENT)
    reached = await service.answer(sid, "q_eligible", "eligible", AGENT)
    assert reached["question"] is None  # the prompt used the person's given name, from the record
    assert (await service.load(sid)).events[1].question_shown == "Is Ada in danger now?"
    clock.advance(120_000)
    done = await service.decide(sid, AGENT, accept=True, override_action=None, reason=None)
    reference = done["decision"]["service_request"]
    [request] = await records.open_service_requests(person.id)
    assert request.reference == reference and request.service == "city_spoc"
    assert request.due_at is not None
    assert request.due_at.isoformat() == done["outcome"]["proposed"]["due_at"]
    assert [e.kind for e in (await service.load(sid)).events][-2:] == ["accepted", "actioned"]


async def test_an_override_reaches_supervisors_through_redis_streams(
    engine: AsyncEngine,
    clock: ManualClock,
    centre: CentreConfig,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        bus = RedisEventBus(client, prefix=redis_prefix)

        async def contact_agent(contact_id: str) -> str | None:
            return "agent01"

        service = ScriptService(ScriptStore(engine), bus, clock, centre, contact_agent=contact_agent)
        await ready(service, tmp_path, approved(triage()))
        sid = (await service.start("c1", "tiny_triage", AGENT))["id"]
        await service.answer(sid, "q_danger", "danger", AGENT)
        await service.decide(
            sid, AGENT, accept=False, override_action="transfer_111", reason="already called 999"
        )
        events = await bus.read_after(SUPERVISOR_STREAM, 0)
        assert isinstance(events, list) and [e.type for e in events] == ["script.override"]
        assert validate_supervisor_message(events[0].to_json()) == validate_supervisor_message(events[0])
        assert events[0].data["session"] == sid and events[0].data["reason"] == "already called 999"
    finally:
        await client.aclose()
