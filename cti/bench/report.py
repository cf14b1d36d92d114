"""One table: memory and Redis side by side, each figure beside its bare ceiling and the ratio."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cti.bench.router_bench import STEADY_CALLS, StoreFigures
from cti.bench.stats import GC_THRESHOLDS, Latency
from cti.bench.workload import QUEUES, SEED, Sizes

NA = "-"


@dataclass
class Results:
    sizes: Sizes
    quick: bool
    loop: str
    heap_latency: Latency
    heap_bytes: float
    memory: StoreFigures = field(default_factory=StoreFigures)
    redis: StoreFigures | None = None
    redis_skipped: str | None = None
    redis_failed: bool = False
    ping: Latency | None = None
    lua_latency: Latency | None = None
    lua_bytes: float | None = None
    elapsed_s: float = 0.0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    value: float | None  # None: not measured (Redis skipped)
    limit: float
    at_least: bool  # True: value >= limit; False: value <= limit
    unit: str

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.limit if self.at_least else self.value <= self.limit


def _num(value: float | None) -> str:
    if value is None:
        return NA
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}"


def _ratio(value: float | None, ceiling: float | None) -> str:
    if value is None or not ceiling:
        return NA
    r = value / ceiling
    return f"{r:.2f}x" if r < 10 else f"{r:,.0f}x"


def _cells(value: float | None, ceiling: float | None) -> list[str]:
    return [_num(value), _num(ceiling), _ratio(value, ceiling)]


def targets(res: Results) -> list[Target]:
    red, many = res.redis, res.sizes.clients
    lat_m, lat_r = res.memory.latency, red.latency if red else None
    red_one = red.available.get(1) if red else None
    red_many = red.available.get(many) if red else None
    mem_one = res.memory.available.get(1)
    return [
        Target("memory decisions/s, agents become available", mem_one, 50_000, True, "/s"),
        Target("redis decisions/s, agents become available, 1 client", red_one, 3_000, True, "/s"),
        Target(f"redis decisions/s, agents become available, {many} clients", red_many, 3_000, True, "/s"),
        Target("memory enqueue-to-offer p99", lat_m.p99_ms if lat_m else None, 2.0, False, " ms"),
        Target("redis enqueue-to-offer p99", lat_r.p99_ms if lat_r else None, 10.0, False, " ms"),
    ]


def _p(latency: Latency | None, q: int) -> float | None:
    if latency is None:
        return None
    return latency.p50_ms if q == 50 else latency.p99_ms


def build_table(res: Results) -> Table:
    s, mem, red = res.sizes, res.memory, res.redis
    many = s.clients
    title = (
        f"Frontdoor routing bench: {s.waiting:,} waiting over {len(QUEUES)} queues, {s.agents:,} agents"
        f"{' (quick)' if res.quick else ''}"
    )
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("measure")
    for side in ("memory", "ceiling", "ratio", "redis", "ceiling", "ratio"):
        table.add_column(side, justify="right")
    table.add_column("target", justify="right")

    def row(label: str, m: list[str], r: list[str], target: str = "") -> None:
        table.add_row(label, *m, *r, target)

    red_ceiling = red.ceiling if red else {}
    for kind in ("available", "steady"):
        for clients in (1, many):
            n = f"{clients} client{'s' if clients > 1 else ''}"
            if kind == "available":
                label, target = f"decisions/s, agents become available, {n}", ">= 3,000"
                if clients == 1:
                    target = ">= 50,000 | >= 3,000"
                mem_value, red_value = mem.available.get(clients), red.available.get(clients) if red else None
            else:
                label, target = f"decisions/s, steady state ({STEADY_CALLS} calls each), {n}", ""
                mem_value, red_value = mem.steady.get(clients), red.steady.get(clients) if red else None
            mem_cells = _cells(mem_value, mem.ceiling.get(clients)) if clients == 1 else [NA] * 3
            row(label, mem_cells, _cells(red_value, red_ceiling.get(clients)), target)
    for q in (50, 99):
        row(
            f"enqueue-to-offer p{q} ms, agent free",
            _cells(_p(mem.latency, q), _p(res.heap_latency, q)),
            _cells(_p(red.latency if red else None, q), _p(res.lua_latency, q)),
            "<= 2 | <= 10" if q == 99 else "",
        )
    row(
        "bytes per waiting contact (state)",
        _cells(mem.bytes_per_contact, res.heap_bytes),
        _cells(red.bytes_per_contact if red else None, res.lua_bytes),
    )
    ping = res.ping
    ping_text = f"{ping.p50_ms:.3f} / {ping.p99_ms:.3f} ms, {ping.ops_per_s:,.0f}/s" if ping else NA
    row("redis PING p50 / p99, ops/s (1 connection)", [NA] * 3, [NA, ping_text, NA])
    return table


def print_report(console: Console, res: Results) -> list[Target]:
    s = res.sizes
    console.print(build_table(res))
    console.print(
        "ceilings, same run, in bursts interleaved with the product's rounds (medians): memory = "
        "per-skill heaps in a tight loop (no product code); redis = one Lua script per decision (pop a "
        f"contact, move an agent, XADD) from 1 and {s.clients} connections; latency ceilings time one "
        "such decision; bytes ceilings = one heap entry / one ZSET member per waiting contact."
    )
    console.print(
        f"steady state: accept, end call, enqueue a replacement, finish wrap-up (the decision), read the "
        f"agent: {STEADY_CALLS} store calls per decision. Seed {SEED}; event loop: {res.loop}; "
        f"gc thresholds {'/'.join(map(str, GC_THRESHOLDS))}, gc.collect() + gc.freeze() before each "
        f"timed phase; run took {res.elapsed_s:.1f} s."
    )
    if res.redis_skipped:
        console.print(f"[bold red]redis column skipped: {escape(res.redis_skipped)}[/]")
        console.print("memory figures are complete; the redis column and its targets are skipped.")
    for note in res.notes:
        console.print(f"[yellow]{escape(note)}[/]")
    found = targets(res)
    print_targets(console, found)
    if res.quick:
        console.print("quick run: sizes shrunk for a smoke test; the figures are indicative only.")
    return found


def print_targets(console: Console, found: list[Target]) -> None:
    """One line per target: its value against its limit, and met, NOT met or skipped."""
    for t in found:
        if t.met is None:
            verdict = "[yellow]skipped[/]"
        else:
            verdict = "[green]met[/]" if t.met else "[bold red]NOT met[/]"
        sign = ">=" if t.at_least else "<="
        value = NA if t.value is None else f"{_num(t.value)}{t.unit}"
        console.print(f"target {t.name} {sign} {_num(t.limit)}{t.unit}: {value} -> {verdict}")
