"""The shipped demo centre, and what the router asks of a centre: targets, plans, numbers, hours."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from cti.config import DEMO_DIR, CentreConfig, OutOfHours, Requirement, load_centre
from cti.domain.errors import NotFound
from cti.domain.model import RoutingPlan, Stage
from tests.config.conftest import Editor

DEMO_QUEUES = {
    "asc_triage",
    "asc_duty",
    "allocated_worker",
    "chs_spa",
    "amh_spa",
    "clinical_consult",
    "bed_bureau",
    "icrs_rapid_response",
    "fcp_wellbeing",
    "status_enquiry",
    "council_general",
    "ooh_fallback",
}


def stages(plan: RoutingPlan) -> list[tuple[int, tuple[str, ...], str]]:
    return [(s.after_ms, s.targets, s.rule) for s in plan.stages]


# --- the demo -----------------------------------------------------------------------------------------
def test_demo_loads(demo: CentreConfig) -> None:
    assert set(demo.queues) == DEMO_QUEUES
    assert {s.organisation for s in demo.services.values()} == {"City", "County", "Rutland", "LPT", "UHL"}
    assert {"ASC", "CHS", "AMH", "BED", "ICRS", "FCP", "CLINICIAN", "SOCIAL_WORKER", "DUTY"} < set(
        demo.skills
    )
    assert "COUNCIL_GENERAL" in demo.skills
    assert sum(1 for s in demo.skills if s.startswith("LANG_")) >= 6
    assert demo.folder == DEMO_DIR


def test_demo_users(demo: CentreConfig) -> None:
    roles = [u.role for u in demo.users.values()]
    assert roles.count("agent") == 20
    assert roles.count("specialist") == 6
    assert demo.users["supervisor01"].role == "supervisor"
    assert demo.users["admin"].role == "admin"
    assert {f"agent{i:02d}" for i in range(1, 21)} <= set(demo.users)
    assert (
        sum(
            1
            for u in demo.users.values()
            if u.role == "agent" and any(s.startswith("LANG_") for s in u.skills)
        )
        >= 3
    )


@pytest.mark.parametrize("username", ["agent01", "specialist06", "admin"])
def test_demo_password_is_demo(demo: CentreConfig, username: str) -> None:
    assert PasswordHasher().verify(demo.users[username].password_hash, "demo")


def test_demo_users_file_says_demo_only() -> None:
    header = (DEMO_DIR / "users.yaml").read_text(encoding="utf-8").split("users:")[0]
    assert 'password "demo"' in header
    assert "DEMO-ONLY" in header


def test_every_demo_target_is_served_by_two_agents(demo: CentreConfig) -> None:
    agents = [u for u in demo.users.values() if u.role == "agent"]
    for target in demo.routing_targets:
        serving = [a.username for a in agents if target in demo.targets_for(a.skills)]
        assert len(serving) >= 2, f"{target} is served by {serving}"


def test_demo_numbers_are_in_the_drama_range(demo: CentreConfig) -> None:
    for e164 in demo.numbers:
        assert e164.startswith("+441164960"), e164
        assert len(e164) == 13, e164
    front = demo.number_for("0116 496 0000")
    assert front is not None
    assert front.kind == "front_door"
    assert front.flow == "front_door"
    professional = demo.number_for("0116 496 0001")
    assert professional is not None
    assert professional.kind == "professional"


def test_demo_hours(demo: CentreConfig) -> None:
    assert demo.calendars["24x7"].always_open
    assert demo.queues["amh_spa"].hours == "24x7"
    assert demo.queues["ooh_fallback"].hours == "24x7"
    assert not demo.calendars["asc_hours"].always_open
    monday_evening = datetime(2026, 6, 1, 18, 30, tzinfo=UTC)  # 19:30 BST
    assert demo.is_open("asc_triage", monday_evening)
    assert not demo.is_open("fcp_wellbeing", monday_evening)
    assert demo.is_open("chs_spa", monday_evening)


# --- routing targets ------------------------------------------------------------------------------------
def test_routing_targets_include_synthetic_overflow(demo: CentreConfig) -> None:
    targets = demo.routing_targets
    assert set(targets) >= DEMO_QUEUES
    assert targets["chs_spa~overflow0"] == (Requirement(skill="CLINICIAN", min_proficiency=1),)
    assert targets["asc_duty"] == (
        Requirement(skill="ASC", min_proficiency=2),
        Requirement(skill="DUTY", min_proficiency=1),
    )
    synthetic = {t for t in targets if "~" in t}
    assert synthetic == {
        "asc_duty~overflow0",
        "chs_spa~overflow0",
        "icrs_rapid_response~overflow0",
        "status_enquiry~overflow0",
    }


def test_targets_for(demo: CentreConfig) -> None:
    assert demo.targets_for({"ASC": 3, "DUTY": 2, "LANG_gu": 3}) == [
        "asc_triage",
        "asc_duty",
        "status_enquiry~overflow0",
        "ooh_fallback",
    ]
    assert demo.targets_for({"ASC": 1, "DUTY": 1}) == [
        "asc_triage",
        "status_enquiry~overflow0",
        "ooh_fallback",
    ]
    assert demo.targets_for({"CLINICIAN": 1}) == ["chs_spa~overflow0"]
    assert "clinical_consult" in demo.targets_for({"CLINICIAN": 2})
    assert demo.targets_for({}) == []
    assert demo.targets_for({"LANG_pl": 3}) == []


# --- routing plans ---------------------------------------------------------------------------------------
def test_plan_without_named_worker(demo: CentreConfig) -> None:
    assert stages(demo.plan_for("asc_triage", None, 30_000)) == [
        (0, ("asc_triage",), "queue"),
        (180_000, ("asc_duty",), "overflow"),
    ]
    assert stages(demo.plan_for("chs_spa")) == [
        (0, ("chs_spa",), "queue"),
        (120_000, ("chs_spa~overflow0",), "overflow"),
    ]
    assert stages(demo.plan_for("amh_spa")) == [(0, ("amh_spa",), "queue")]


def test_plan_with_named_worker(demo: CentreConfig) -> None:
    plan = demo.plan_for("allocated_worker", "specialist01", 30_000)
    assert plan.stages[0] == Stage(0, ("@specialist01",), "named_worker")
    assert stages(plan) == [
        (0, ("@specialist01",), "named_worker"),
        (30_000, ("allocated_worker",), "queue"),
        (120_000, ("asc_duty",), "overflow"),
    ]


def test_named_worker_wait_defaults_to_policy(demo: CentreConfig) -> None:
    assert demo.routing.named_worker_first_s == 30
    assert stages(demo.plan_for("allocated_worker", "agent02"))[1] == (30_000, ("allocated_worker",), "queue")


def test_overflow_counts_from_enqueue_not_from_named_stage(demo: CentreConfig) -> None:
    assert stages(demo.plan_for("allocated_worker", "agent09", 200_000)) == [
        (0, ("@agent09",), "named_worker"),
        (120_000, ("asc_duty",), "overflow"),
        (200_000, ("allocated_worker",), "queue"),
    ]


def test_equal_times_keep_their_order(demo: CentreConfig) -> None:
    assert stages(demo.plan_for("allocated_worker", "agent09", 120_000))[1:] == [
        (120_000, ("allocated_worker",), "queue"),
        (120_000, ("asc_duty",), "overflow"),
    ]


def test_synthetic_target_is_numbered_by_position_in_the_overflow_list(
    centre_dir: Path, edit: Editor
) -> None:
    def two_rules(data: dict[str, list[dict[str, object]]]) -> None:
        chs = next(q for q in data["queues"] if q["id"] == "chs_spa")
        chs["overflow"] = [
            {"after_s": 300, "to_skills": [{"skill": "CLINICIAN", "min_proficiency": 1}]},
            {"after_s": 60, "to_queue": "clinical_consult"},
            {"after_s": 600, "to_skills": [{"skill": "ASC", "min_proficiency": 1}]},
        ]

    edit("queues.yaml", two_rules)
    centre = load_centre(centre_dir)
    assert stages(centre.plan_for("chs_spa")) == [
        (0, ("chs_spa",), "queue"),
        (60_000, ("clinical_consult",), "overflow"),
        (300_000, ("chs_spa~overflow0",), "overflow"),
        (600_000, ("chs_spa~overflow2",), "overflow"),
    ]
    assert centre.routing_targets["chs_spa~overflow2"] == (Requirement(skill="ASC"),)
    assert "chs_spa~overflow1" not in centre.routing_targets


def test_plan_for_unknown_queue(demo: CentreConfig) -> None:
    with pytest.raises(NotFound) as caught:
        demo.plan_for("podiatry")
    assert caught.value.error_id == "queue_not_found"


# --- numbers ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dialled", "queue"),
    [
        ("+441164960014", "chs_spa"),
        ("0116 496 0014", "chs_spa"),
        ("01164960016", "bed_bureau"),
        ("+441164960000", None),  # the front door goes to the IVR menu
        ("+441164960012", None),  # a legacy line with no queue of its own
        ("+441164960999", None),  # not configured
        ("not a number", None),
    ],
)
def test_queue_for_number(demo: CentreConfig, dialled: str, queue: str | None) -> None:
    assert demo.queue_for_number(dialled) == queue


# --- hours and out of hours ----------------------------------------------------------------------------
def test_out_of_hours(demo: CentreConfig) -> None:
    assert demo.out_of_hours("asc_triage") == OutOfHours(queue="ooh_fallback")
    assert demo.out_of_hours("chs_spa") == OutOfHours(queue="icrs_rapid_response")
    with pytest.raises(NotFound):
        demo.out_of_hours("amh_spa")  # always open, so none is needed


def test_destination_follows_out_of_hours(demo: CentreConfig) -> None:
    open_time = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)
    bank_holiday = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    late = datetime(2026, 6, 2, 22, 30, tzinfo=UTC)  # 23:30 BST
    assert demo.destination("asc_triage", open_time) == OutOfHours(queue="asc_triage")
    assert demo.destination("asc_triage", bank_holiday) == OutOfHours(queue="ooh_fallback")
    assert demo.destination("chs_spa", late) == OutOfHours(queue="icrs_rapid_response")
    assert demo.next_change("asc_triage", open_time) == datetime(2026, 6, 2, 19, 0, tzinfo=UTC)


def test_destination_can_be_a_transfer(centre_dir: Path, edit: Editor) -> None:
    def to_111(data: dict[str, list[dict[str, object]]]) -> None:
        fcp = next(q for q in data["queues"] if q["id"] == "fcp_wellbeing")
        fcp["out_of_hours"] = {"transfer": "111"}

    edit("queues.yaml", to_111)
    centre = load_centre(centre_dir)
    sunday = datetime(2026, 6, 7, 12, 0, tzinfo=UTC)
    assert centre.destination("fcp_wellbeing", sunday) == OutOfHours(transfer="111")


def test_transfer_numbers_are_stored_in_e164() -> None:
    assert OutOfHours(transfer="0116 496 0999").transfer == "+441164960999"
    assert OutOfHours(transfer="999").transfer == "999"


def test_routing_policy(demo: CentreConfig) -> None:
    policy = demo.routing
    assert (policy.offer_timeout_s, policy.wrap_up_timeout_s, policy.heartbeat_timeout_s) == (20, 120, 30)
    assert (policy.professional_boost, policy.repeat_caller_boost) == (2, 1)
    assert (policy.repeat_window_days, policy.repeat_threshold) == (7, 2)
    store = policy.store_policy()
    assert (store.offer_timeout_ms, store.wrap_up_timeout_ms) == (20_000, 120_000)
