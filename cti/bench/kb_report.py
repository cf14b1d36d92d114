"""The knowledge-base search section of ``frontdoor bench``: the product's search beside a bare FTS5
MATCH on the same index, measured in the same run (``knowledge.bench``)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from cti.bench.report import Target

P95_TARGET_MS = 20.0


def build_kb_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Knowledge base and directory search (p50 / p95 per query)")
    for column in ("measure", "queries", "p50 ms", "p95 ms", "p95 vs ceiling"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    ceiling = next((r for r in rows if r["name"].startswith("ceiling")), None)
    for row in rows:
        ratio = ""
        if ceiling is not None and row is not ceiling and row["n"] > 1 and ceiling["p95_ms"]:
            ratio = f"{row['p95_ms'] / ceiling['p95_ms']:.2f}x"
        table.add_row(row["name"], str(row["n"]), f"{row['p50_ms']:.2f}", f"{row['p95_ms']:.2f}", ratio)
    return table


def kb_targets(rows: list[dict[str, Any]]) -> list[Target]:
    return [
        Target(f"{row['name']} p95", row["p95_ms"], P95_TARGET_MS, False, " ms")
        for row in rows
        if row["name"].startswith("kb search") and "10,000" in row["name"]
    ]


def run_kb_section(console: Console, quick: bool) -> list[Target]:
    from knowledge.bench import kb_search_bench

    rows = kb_search_bench(quick)
    console.print(build_kb_table(rows))
    found = kb_targets(rows)
    for t in found:
        verdict = "[green]met[/]" if t.met else "[bold red]NOT met[/]"
        console.print(f"target {t.name} <= {t.limit:g}{t.unit}: {t.value:.2f}{t.unit} -> {verdict}")
    return found
