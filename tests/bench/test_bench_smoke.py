"""Smoke test of ``frontdoor bench``: the quick run prints every row of both tables (routing, desktop
channel), for memory and Redis, and leaves no keys behind. Timings are not asserted: they depend on the
machine; message counts are (nothing lost, nothing twice)."""

from __future__ import annotations

import uuid

import pytest
import redis

from cti.bench import run_bench
from cti.bench.runner import DEFAULT_REDIS_URL

ROWS = (
    "decisions/s, agents become available, 1 client",
    "decisions/s, agents become available, 8 clients",
    "decisions/s, steady state (5 calls each), 1 client",
    "decisions/s, steady state (5 calls each), 8 clients",
    "enqueue-to-offer p50 ms, agent free",
    "enqueue-to-offer p99 ms, agent free",
    "bytes per waiting contact (state)",
    "redis PING p50 / p99, ops/s (1 connection)",
)
WS_ROWS = (
    "offer-to-screen-pop p50 ms, 50 calls/s",
    "offer-to-screen-pop p99 ms, 50 calls/s",
    "call placed to screen-pop p99 ms, 50 calls/s",
    "offer-to-screen-pop p50 ms, 200 calls/s",
    "offer-to-screen-pop p99 ms, 200 calls/s",
    "call placed to screen-pop p99 ms, 200 calls/s",
    "supervisor fan-out p50 ms (5 wallboards)",
    "supervisor fan-out p99 ms (5 wallboards)",
    "server RSS MB, 100 agents connected",
    "server's Redis connections, 100 agents connected",
    "server CPU (cores) at 200 calls/s",
    "load process CPU (cores) at 200 calls/s, same 2 cores",
    "messages lost or duplicated",
    "calls the server failed to take (HTTP error)",
    "redis XADD -> XREAD p50 / p99 ms",
)
TARGETS = (
    "target memory decisions/s, agents become available >= 50,000/s",
    "target redis decisions/s, agents become available, 1 client >= 3,000/s",
    "target redis decisions/s, agents become available, 8 clients >= 3,000/s",
    "target memory enqueue-to-offer p99 <= 2.000 ms",
    "target redis enqueue-to-offer p99 <= 10.0 ms",
)


def table_rows(output: str) -> dict[str, list[str]]:
    """The table's body rows: measure -> the other cells."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) == 8:
            rows[cells[0]] = cells[1:]
    return rows


def is_number(cell: str) -> bool:
    return cell.replace(",", "").replace(".", "", 1).isdigit()


def test_quick_run_prints_memory_and_redis_rows(
    redis_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = uuid.uuid4()
    monkeypatch.setattr("cti.bench.runner.uuid.uuid4", lambda: run_id)

    code = run_bench(redis_url, quick=True)

    out = capsys.readouterr().out
    assert code == 0
    rows = table_rows(out)
    assert list(rows) == [*ROWS, *WS_ROWS]
    for label in ROWS[:-1]:
        memory, _, _, red, red_ceiling, _, _ = rows[label]
        assert is_number(red), (label, red)
        assert is_number(red_ceiling), (label, red_ceiling)
        if "8 clients" not in label:
            assert is_number(memory), (label, memory)
    assert " ms, " in rows[ROWS[-1]][4]  # PING p50 / p99 and ops/s in the ceiling column
    for target in TARGETS:
        assert any(line.startswith(target) and ("met" in line) for line in out.splitlines()), target
    assert "skipped" not in out
    for label in WS_ROWS[:6]:
        memory, red = rows[label][0], rows[label][3]
        assert is_number(memory) and is_number(red), (label, memory, red)
    for label in (WS_ROWS[0], WS_ROWS[1], WS_ROWS[8]):
        assert is_number(rows[label][1]) and is_number(rows[label][4]), label  # the bare ceilings
    held = rows["server's Redis connections, 100 agents connected"]
    assert held[0] == "0" and 0 < int(held[3]) < 100  # one bus reader for 100 agent streams, not one each
    lost = rows["messages lost or duplicated"]
    assert (lost[0], lost[3]) == ("0", "0")
    assert "target memory messages lost or duplicated" in out
    assert "target redis offer-to-screen-pop p99 at 200/s <= 50.0 ms" in out
    client = redis.Redis.from_url(redis_url)
    try:
        assert list(client.scan_iter(match=f"*fdbench-{run_id.hex[:12]}*")) == []
    finally:
        client.close()


def test_unreachable_redis_skips_the_redis_column(capsys: pytest.CaptureFixture[str]) -> None:
    assert DEFAULT_REDIS_URL == "redis://127.0.0.1:6379/0"

    code = run_bench("redis://127.0.0.1:1/0", quick=True, websockets=False)

    out = capsys.readouterr().out
    assert code == 0
    assert "redis column skipped: Redis is not reachable at redis://127.0.0.1:1/0" in out
    rows = table_rows(out)
    assert list(rows) == list(ROWS)
    assert is_number(rows[ROWS[0]][0])
    assert rows[ROWS[0]][3] == "-"
    assert "target redis enqueue-to-offer p99 <= 10.0 ms: - -> skipped" in out
    assert "target memory enqueue-to-offer p99 <= 2.000 ms" in out
