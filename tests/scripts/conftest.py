"""Script tests: a tiny script built from a dict, and the service on a real database (SQLite file
and PostgreSQL), with a memory event bus and a manual clock."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.auth.service import Principal
from cti.bus.memory import MemoryEventBus
from cti.config.centre import DEMO_DIR, CentreConfig, load_centre
from cti.domain.clock import ManualClock
from scripts.model import Script, parse_script
from scripts.service import ScriptService
from scripts.store import ScriptStore

AGENT = Principal("agent01", "agent")
OTHER_AGENT = Principal("agent02", "agent")
SUPERVISOR = Principal("supervisor01", "supervisor")
CLINSAFE = Principal("clinsafe01", "clinical_safety")
ADMIN = Principal("admin", "admin")

TRIAGE: dict[str, Any] = {
    "id": "tiny_triage",
    "version": 1,
    "title": "Tiny triage",
    "status": "draft",
    "notice": "Illustrative content, not clinically approved.",
    "services": ["city_spoc"],
    "start": "q_danger",
    "hazards": [{"id": "HAZ-T-01", "description": "An emergency treated as routine."}],
    "questions": [
        {
            "id": "q_danger",
            "red_flag": True,
            "hazards": ["HAZ-T-01"],
            "text": "Is {{ caller_name }} in danger now?",
            "rationale": "Life-threatening checks first.",
            "help": "Unsure counts as yes.",
            "answers": [
                {"id": "danger", "text": "Yes", "red_flag": True, "next": "o_999"},
                {"id": "none", "text": "No", "next": "q_eligible"},
            ],
        },
        {
            "id": "q_eligible",
            "text": "Is the person an adult living in the area?",
            "rationale": "Not eligible leaves early to signposting.",
            "answers": [
                {"id": "eligible", "text": "Yes", "next": "o_duty"},
                {"id": "not_eligible", "text": "No", "next": "o_signpost"},
            ],
        },
    ],
    "outcomes": [
        {
            "id": "o_999",
            "action": "transfer_999",
            "skill": "DUTY",
            "timeframe": "immediate",
            "text": "999 now.",
        },
        {
            "id": "o_duty",
            "action": "warm_handover",
            "skill": "DUTY",
            "queue": "asc_duty",
            "timeframe": "24h",
            "service_type": "adult_social_care",
            "text": "Hand over to duty.",
        },
        {
            "id": "o_signpost",
            "action": "signpost",
            "skill": "ASC",
            "timeframe": "14d",
            "service_type": "carers_support",
            "text": "Signpost {{ service_name }}.",
        },
    ],
    "tests": [
        {"name": "danger", "answers": {"q_danger": "danger"}, "expect": "o_999"},
        {"name": "duty", "answers": {"q_danger": "none", "q_eligible": "eligible"}, "expect": "o_duty"},
        {
            "name": "signpost",
            "answers": {"q_danger": "none", "q_eligible": "not_eligible"},
            "expect": "o_signpost",
        },
    ],
}


def triage(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(TRIAGE)
    raw.update(changes)
    return raw


def approved(raw: dict[str, Any]) -> dict[str, Any]:
    """The same content, approved by the demo clinical-safety user (hash of exactly this content)."""
    script = parse_script({**raw, "status": "draft"}, "t")
    return {
        **raw,
        "status": "approved",
        "approval": {"by": "clinsafe01", "hash": script.hash, "date": "2026-11-24"},
    }


def build(raw: dict[str, Any]) -> Script:
    return parse_script(raw, "test")


def write(folder: Path, raw: dict[str, Any], name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name or raw['id']}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def centre() -> CentreConfig:
    return load_centre(DEMO_DIR)


@pytest.fixture
def bus() -> MemoryEventBus:
    return MemoryEventBus()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def handling() -> dict[str, str]:
    """contact id -> the agent handling it (what the router's store would say)."""
    return {"c1": "agent01", "c2": "agent01", "c3": "agent02"}


@pytest.fixture
def service(
    engine: AsyncEngine,
    bus: MemoryEventBus,
    clock: ManualClock,
    centre: CentreConfig,
    handling: dict[str, str],
) -> ScriptService:
    async def contact_agent(contact_id: str) -> str | None:
        return handling.get(contact_id)

    return ScriptService(ScriptStore(engine), bus, clock, centre, contact_agent=contact_agent)
