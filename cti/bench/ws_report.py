"""The desktop-channel table: memory and Redis side by side, each figure beside its bare ceiling."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cti.bench.report import NA, Target, _cells, _num, print_targets
from cti.bench.ws_bench import WsResults

POP_TARGET = {"memory": 20.0, "redis": 50.0}
RSS_TARGET_MB = 300.0


def _get(data: dict[str, Any] | None, *path: str) -> float | None:
    value: Any = data
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return None if value is None else float(value)


def _ceiling(res: WsResults, side: str, rate: int, q: str) -> float | None:
    """Bare push to one idle websocket; for redis plus one bare XADD -> XREAD hop."""
    push = _get(res.phase("bare", rate), "offer_to_pop", q)
    if side == "memory" or push is None:
        return push
    hop = res.xread.get(rate, {}).get(q)
    return None if hop is None else push + hop


def faults(data: dict[str, Any] | None) -> float | None:
    """Messages lost or duplicated: seq gaps, repeats, resyncs, calls without an offer, repeated offers."""
    if data is None:
        return None
    missing = sum(int(p["calls"]) - int(p.get("call_failures", 0)) - int(p["offers"]) for p in data["phases"])
    counted = ("gaps", "dups", "resyncs", "repeated_offers")
    return float(sum(int(data[k]) for k in counted) + missing + (0 if data["supervisors_agree"] else 1))


def ws_targets(res: WsResults) -> list[Target]:
    found = []
    for rate, _ in res.sizes.phases:
        for side in ("memory", "redis"):
            value = _get(res.phase(side, rate), "offer_to_pop", "p99")
            found.append(
                Target(f"{side} offer-to-screen-pop p99 at {rate}/s", value, POP_TARGET[side], False, " ms")
            )
    for side in ("memory", "redis"):
        rss = _get(res.runs.get(side), "rss_connected_mb")
        found.append(
            Target(
                f"{side} server RSS, {res.sizes.agents:,} agents connected", rss, RSS_TARGET_MB, False, " MB"
            )
        )
        found.append(Target(f"{side} messages lost or duplicated", faults(res.runs.get(side)), 0, False, ""))
    return found


def build_ws_table(res: WsResults) -> Table:
    s = res.sizes
    title = (
        f"Frontdoor desktop channel bench: {s.agents:,} agent and {s.supervisors} supervisor websockets "
        "held by a separate load process"
    )
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("measure")
    for side in ("memory", "ceiling", "ratio", "redis", "ceiling", "ratio"):
        table.add_column(side, justify="right")
    table.add_column("target", justify="right")
    for rate, _ in s.phases:
        for q in ("p50", "p99"):
            cells = []
            for side in ("memory", "redis"):
                cells += _cells(_get(res.phase(side, rate), "offer_to_pop", q), _ceiling(res, side, rate, q))
            table.add_row(
                f"offer-to-screen-pop {q} ms, {rate} calls/s", *cells, "<= 20 | <= 50" if q == "p99" else ""
            )
        cells = []
        for side in ("memory", "redis"):
            cells += [_num(_get(res.phase(side, rate), "call_to_pop", "p99")), NA, NA]
        table.add_row(f"call placed to screen-pop p99 ms, {rate} calls/s", *cells, "")
    for q in ("p50", "p99"):
        bare = _get(res.runs.get("bare"), "supervisor_agent_state", q)
        cells = []
        for side in ("memory", "redis"):
            cells += _cells(_get(res.runs.get(side), "supervisor_agent_state", q), bare)
        table.add_row(f"supervisor fan-out {q} ms ({s.supervisors} wallboards)", *cells, "")
    bare_rss = _get(res.runs.get("bare"), "rss_connected_mb")
    cells = []
    for side in ("memory", "redis"):
        cells += _cells(_get(res.runs.get(side), "rss_connected_mb"), bare_rss)
    table.add_row(f"server RSS MB, {s.agents:,} agents connected", *cells, "< 300")
    cells = []
    for side in ("memory", "redis"):
        held = _get(res.runs.get(side), "server_redis_connections")
        cells += [NA if held is None else f"{held:.0f}", NA, NA]
    table.add_row(f"server's Redis connections, {s.agents:,} agents connected", *cells, "")
    last_rate = s.phases[-1][0]
    cells = []
    for side in ("memory", "redis"):
        cells += [_num(_get(res.phase(side, last_rate), "server_cpu")), NA, NA]
    table.add_row(f"server CPU (cores) at {last_rate} calls/s", *cells, "")
    cells = []
    for side in ("memory", "redis"):
        cells += [_num(_get(res.phase(side, last_rate), "load_cpu")), NA, NA]
    table.add_row(f"load process CPU (cores) at {last_rate} calls/s, same 2 cores", *cells, "")
    cells = []
    for side in ("memory", "redis"):
        value = faults(res.runs.get(side))
        cells += [NA if value is None else f"{value:.0f}", "0", NA]
    table.add_row("messages lost or duplicated", *cells, "0")
    cells = []
    for side in ("memory", "redis"):
        data = res.runs.get(side)
        failed = None if data is None else sum(int(p.get("call_failures", 0)) for p in data["phases"])
        cells += [NA if failed is None else str(failed), NA, NA]
    table.add_row("calls the server failed to take (HTTP error)", *cells, "")
    hops = [f"{res.xread[r]['p50']:.2f} / {res.xread[r]['p99']:.2f}" for r, _ in s.phases if r in res.xread]
    table.add_row("redis XADD -> XREAD p50 / p99 ms", NA, NA, NA, NA, " ; ".join(hops) or NA, NA, "")
    return table


def print_ws_report(console: Console, res: WsResults) -> list[Target]:
    s = res.sizes
    console.print(build_ws_table(res))
    phases = ", ".join(f"{count} calls at {rate}/s" for rate, count in s.phases)
    console.print(
        f"Phases: {phases}, each call offered to another available agent. Offer-to-screen-pop = received "
        "by the agent's websocket minus the offer's `at` (whole ms, so up to 1 ms high); call placed = from "
        "sending POST /api/sim/calls. Ceilings, same run: the bare app (uvicorn + Starlette websockets, no "
        "product code) pushing a 1.5 KB offer to one of the same idle websockets and broadcasting a small "
        "message to the wallboards, and its RSS; the product's wallboards (batch=1) gather events for 50 ms "
        "(`wallboard_window_s`) before each frame, so the fan-out figures include that wait; redis adds one "
        "bare XADD -> XREAD hop. Every websocket "
        f"checked its seqs (dense, none twice, no resync). Took {res.elapsed_s:.0f} s."
    )
    for kind, why in res.skipped.items():
        console.print(f"[bold red]{kind} run skipped: {escape(why)}[/]")
    found = ws_targets(res)
    print_targets(console, found)
    return found
