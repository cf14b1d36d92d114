"""The linter rejects what domain.md lists, naming script, node and reason; CI lints the library."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cti.cli import app as frontdoor
from scripts.lint import Problem, centre_references, lint_file, lint_paths, lint_script
from scripts.service import LIBRARY_DIR
from tests.scripts.conftest import approved, build, triage, write

REFS = centre_references()


def problems(raw: dict[str, Any]) -> list[Problem]:
    return lint_script(build(raw), refs=REFS).problems


def rules(raw: dict[str, Any]) -> set[tuple[str, str]]:
    return {(p.node, p.rule) for p in problems(raw)}


def test_the_tiny_script_is_clean_and_every_outcome_is_tested() -> None:
    report = lint_script(build(triage()), refs=REFS)
    assert report.problems == [] and report.untested_outcomes == []
    assert (report.tests_run, report.tests_passed) == (3, 3)


def test_unreachable_nodes() -> None:
    raw = triage()
    raw["outcomes"].append(
        {"id": "o_orphan", "action": "refer", "skill": "ASC", "timeframe": "14d", "text": "x"}
    )
    raw["questions"].append(
        {
            "id": "q_orphan",
            "text": "?",
            "rationale": "r",
            "answers": [{"id": "a", "text": "a", "next": "o_duty"}],
        }
    )
    assert {("o_orphan", "unreachable"), ("q_orphan", "unreachable")} <= rules(raw)


def test_answers_without_a_next_step_and_paths_without_an_outcome() -> None:
    raw = triage()
    del raw["questions"][1]["answers"][0]["next"]
    raw["questions"][1]["answers"][1]["next"] = "q_nowhere"
    found = rules(raw)
    assert ("q_eligible", "answer_without_next") in found
    assert ("q_eligible", "unknown_next") in found
    assert ("q_eligible", "path_without_outcome") in found
    raw = triage()
    raw["questions"][1]["answers"] = []
    assert ("q_eligible", "path_without_outcome") in rules(raw)


def test_cycles() -> None:
    raw = triage()
    raw["questions"][1]["answers"][0]["next"] = "q_back"
    raw["questions"].append(
        {
            "id": "q_back",
            "text": "?",
            "rationale": "r",
            "answers": [{"id": "again", "text": "a", "next": "q_eligible"}],
        }
    )
    found = [p for p in problems(raw) if p.rule == "cycle"]
    assert len(found) == 1
    assert found[0].node == "q_back" and "q_eligible -> q_back -> q_eligible" in found[0].message


def test_red_flags_must_end_at_an_urgent_outcome() -> None:
    raw = triage()
    raw["questions"][0]["answers"][0]["next"] = "o_duty"  # 24h: not urgent
    msg = next(p for p in problems(raw) if p.rule == "red_flag_not_urgent")
    assert msg.node == "q_danger" and "'danger'" in msg.message and "o_duty" in msg.message
    raw = triage()
    raw["questions"][0]["answers"][0]["next"] = "q_eligible"
    assert ("q_danger", "red_flag_continues") in rules(raw)
    raw = triage()
    raw["questions"][0]["answers"][0]["next"] = "o_signpost"
    raw["outcomes"][2]["timeframe"] = "immediate"  # signposting is never an urgent response
    assert ("q_danger", "red_flag_not_urgent") in rules(raw)


def test_outcomes_need_a_skill_and_a_timeframe() -> None:
    raw = triage()
    del raw["outcomes"][1]["skill"]
    del raw["outcomes"][2]["timeframe"]
    assert {("o_duty", "outcome_without_skill"), ("o_signpost", "outcome_without_timeframe")} <= rules(raw)


def test_failing_built_in_tests_and_missing_tests() -> None:
    raw = triage()
    raw["tests"][1]["expect"] = "o_signpost"
    raw["tests"][2]["answers"] = {"q_danger": "none"}
    found = {p.node: p.message for p in problems(raw) if p.rule == "test_failed"}
    assert found["test 'duty'"] == "expected outcome 'o_signpost', reached 'o_duty'"
    assert found["test 'signpost'"] == "no answer given for question 'q_eligible'"
    report = lint_script(build(raw), refs=REFS)
    assert report.tests_passed == 1 and report.untested_outcomes == ["o_signpost"]
    assert ("script", "no_tests") in rules(triage(tests=[]))


def test_templates_hazards_references_and_approval() -> None:
    raw = triage()
    raw["questions"][1]["help"] = "{{ caller_name.__class__ }}"
    raw["questions"][1]["hazards"] = ["HAZ-NOPE"]
    raw["outcomes"][1]["skill"] = "JUGGLING"
    raw["outcomes"][1]["queue"] = "nowhere"
    raw["outcomes"][2]["service_type"] = "astrology"
    found = rules(raw)
    assert {
        ("q_eligible", "template"),
        ("q_eligible", "unknown_hazard"),
        ("o_duty", "unknown_skill"),
        ("o_duty", "unknown_queue"),
        ("o_signpost", "unknown_service_type"),
    } <= found
    assert ("script", "approval_missing") in rules(triage(status="approved"))
    signed = approved(triage())
    signed["questions"][1]["text"] = "Changed after sign-off?"
    assert ("script", "approved_content_changed") in rules(signed)
    assert rules(approved(triage())) == set()


def test_one_version_has_one_content(tmp_path: Path) -> None:
    write(tmp_path, triage(), "a")
    changed = triage()
    changed["title"] = "Other"
    write(tmp_path, changed, "b")
    reports = lint_paths([tmp_path], REFS)
    assert [p.rule for r in reports for p in r.problems] == ["duplicate_version"]


def test_format_errors_are_reported_as_problems(tmp_path: Path) -> None:
    raw = triage()
    raw["outcomes"][0]["action"] = "teleport"
    report = lint_file(write(tmp_path, raw), REFS)
    assert not report.ok and [(p.script, p.node, p.rule) for p in report.problems] == [
        ("tiny_triage", "o_999", "format")
    ]


def test_every_shipped_script_passes_the_linter_with_every_outcome_tested() -> None:
    files = sorted(LIBRARY_DIR.glob("*.yaml"))
    reports = lint_paths([LIBRARY_DIR], REFS)
    assert [str(p) for r in reports for p in r.problems] == []
    assert {r.source: r.untested_outcomes for r in reports} == {str(f): [] for f in files}
    services = {s for r in reports if r.script for s in r.script.services}
    assert services == set(REFS.services)  # one script for each point of access
    for f in files:
        text = f.read_text()
        assert text.startswith("# ILLUSTRATIVE CONTENT - NOT CLINICALLY APPROVED.")
        assert "not clinically approved" in text.split("notice:")[1].splitlines()[0]


runner = CliRunner()


def test_the_command_lints_the_library_and_says_why_a_script_is_rejected(tmp_path: Path) -> None:
    ok = runner.invoke(frontdoor, ["scripts", "lint"])
    assert ok.exit_code == 0, ok.output
    assert "8 script(s) linted, 0 rejected" in ok.output
    raw = triage()
    raw["questions"][0]["answers"][0]["next"] = "o_duty"
    raw["tests"] = raw["tests"][1:]
    path = write(tmp_path, raw)
    bad = runner.invoke(frontdoor, ["scripts", "lint", str(path)])
    assert bad.exit_code == 1
    assert "tiny_triage: q_danger: [red_flag_not_urgent]" in bad.output
    assert "outcomes no test reaches: o_999" in bad.output
    as_json = runner.invoke(frontdoor, ["scripts", "lint", str(path), "--json"])
    body = json.loads(as_json.output)
    assert {p["rule"] for p in body[0]["problems"]} == {"red_flag_not_urgent", "unreachable"}
    assert body[0]["untested_outcomes"] == ["o_999"] and body[0]["tests"] == {"run": 2, "passed": 2}
    missing = runner.invoke(frontdoor, ["scripts", "lint", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2


@pytest.mark.parametrize("path", sorted(LIBRARY_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_scripts_ask_life_threatening_questions_first(path: Path) -> None:
    report = lint_file(path, REFS)
    assert report.script is not None
    first = report.script.question(report.script.start)
    assert first is not None and first.red_flag
    assert any(a.red_flag and report.script.outcome(a.next or "") for a in first.answers)
