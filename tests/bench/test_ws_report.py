"""The desktop-channel table's verdicts, from given load results (no processes)."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from cti.bench.ws_bench import WS_QUICK, WsResults
from cti.bench.ws_report import faults, print_ws_report, ws_targets


def run(offers: int = 25, gaps: int = 0, p99: float = 5.0, rss: float = 120.0) -> dict[str, Any]:
    phase = {"p50": 1.0, "p99": p99, "n": offers}
    return {
        "rss_connected_mb": rss,
        "phases": [
            {"rate": 50, "calls": 25, "offers": offers, "offer_to_pop": phase, "call_to_pop": phase},
            {"rate": 200, "calls": 60, "offers": 60, "offer_to_pop": phase, "call_to_pop": phase},
        ],
        "supervisor_agent_state": {"p50": 1.0, "p99": 2.0, "n": 10},
        "gaps": gaps,
        "dups": 0,
        "resyncs": 0,
        "repeated_offers": 0,
        "supervisors_agree": True,
    }


def verdicts(res: WsResults) -> dict[str, bool | None]:
    return {t.name: t.met for t in ws_targets(res)}


def test_every_target_is_met_by_clean_fast_runs() -> None:
    res = WsResults(WS_QUICK, runs={"bare": run(), "memory": run(), "redis": run(p99=40.0)})
    assert set(verdicts(res).values()) == {True}


def test_a_missing_offer_or_a_gap_is_a_lost_message() -> None:
    assert faults(run(offers=24)) == 1
    assert faults(run(gaps=2)) == 2
    res = WsResults(WS_QUICK, runs={"memory": run(offers=24), "redis": run(p99=60.0, rss=400.0)})
    got = verdicts(res)
    assert got["memory messages lost or duplicated"] is False
    assert got["redis offer-to-screen-pop p99 at 50/s"] is False  # 60 ms > 50 ms
    assert got["redis server RSS, 100 agents connected"] is False
    assert got["memory offer-to-screen-pop p99 at 50/s"] is True


def test_a_skipped_run_is_reported_and_its_targets_skipped() -> None:
    res = WsResults(WS_QUICK, runs={"memory": run()}, skipped={"redis": "Redis is not reachable"})
    console = Console(width=200, record=True)
    found = print_ws_report(console, res)
    text = console.export_text()
    assert "redis run skipped: Redis is not reachable" in text
    assert {t.met for t in found if t.name.startswith("redis")} == {None}
    assert "target redis offer-to-screen-pop p99 at 200/s <= 50.0 ms: - -> skipped" in text
