"""IVR tests: the shipped flows against the demo centre, a real records database (SQLite), a clock
the test sets, and scripted callers driven through the engine as an adapter would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from cti.config.centre import DEMO_DIR, CentreConfig, load_centre
from cti.domain.clock import ManualClock
from cti.records import Records, create_engine, migrate
from cti.sim.ivr import IvrRun, drive
from ivr.actions import CallerInput, CallStart
from ivr.engine import IvrEngine
from ivr.flows import FlowSet, load_flows, parse_flow

# Tuesday 6 January 2026 (GMT, so UTC is London time): every demo queue is open at 10:00.
WEEKDAY_10AM = datetime(2026, 1, 6, 10, 0, tzinfo=UTC)
WEEKDAY_11PM = datetime(2026, 1, 6, 23, 0, tzinfo=UTC)
FRONT_DOOR = "0116 496 0000"
PROFESSIONAL_LINE = "0116 496 0001"
CALLER = "07700 900123"
CALLER_E164 = "+447700900123"


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.fixture(scope="session")
def centre() -> CentreConfig:
    return load_centre(DEMO_DIR)


@pytest.fixture(scope="session")
def flows(centre: CentreConfig) -> FlowSet:
    return load_flows(centre=centre)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(ms(WEEKDAY_10AM))


@pytest.fixture
async def records(tmp_path: Path) -> AsyncIterator[Records]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'records.db'}"
    await migrate(url)
    engine = create_engine(url)
    try:
        yield Records(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def engine(flows: FlowSet, centre: CentreConfig, clock: ManualClock, records: Records) -> IvrEngine:
    return IvrEngine(flows, centre, clock, records)


async def call(
    engine: IvrEngine, inputs: Sequence[CallerInput], dialled: str = FRONT_DOOR, cli: str | None = CALLER
) -> IvrRun:
    return await drive(engine, CallStart(call_id="call-1", cli=cli, dialled=dialled), inputs)


def flow_set(tmp_path: Path, name: str, flow: dict[str, Any]) -> FlowSet:
    """A one-flow set from a dict, written as YAML as an author would."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(flow, allow_unicode=True), encoding="utf-8")
    return FlowSet(flows={name: parse_flow(flow, path.name, name)}, files={name: path.name})


def mini_engine(
    tmp_path: Path,
    nodes: dict[str, Any],
    centre: CentreConfig,
    clock: ManualClock,
    records: Records | None = None,
    **flow: Any,
) -> IvrEngine:
    """An engine for a small test flow named front_door (so every number reaches it)."""
    body = {"start": "start", "adviser": "adviser", "languages": ["en-GB", "cy-GB"], **flow, "nodes": nodes}
    body["nodes"].setdefault("adviser", {"kind": "enqueue", "queue": "amh_spa"})
    return IvrEngine(flow_set(tmp_path, "front_door", body), centre, clock, records)
