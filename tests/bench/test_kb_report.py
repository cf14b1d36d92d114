"""The knowledge search section of ``frontdoor bench``: its table and its targets."""

from __future__ import annotations

from rich.console import Console

from cti.bench.kb_report import build_kb_table, kb_targets

ROWS = [
    {"name": "kb search, 10,000 articles (synonyms, spelling)", "p50_ms": 4.0, "p95_ms": 25.0, "n": 636},
    {"name": "kb search + service/audience filter, 10,000 articles", "p50_ms": 3.0, "p95_ms": 6.0, "n": 636},
    {"name": "ceiling: bare FTS5 MATCH bm25, 10,000 articles", "p50_ms": 3.5, "p95_ms": 10.0, "n": 636},
    {"name": "index build, 10,000 articles (one build, ms)", "p50_ms": 900.0, "p95_ms": 900.0, "n": 1},
]


def test_each_10k_search_has_a_20_ms_p95_target_and_a_miss_is_reported() -> None:
    targets = {t.name: t.met for t in kb_targets(ROWS)}
    assert targets == {
        "kb search, 10,000 articles (synonyms, spelling) p95": False,
        "kb search + service/audience filter, 10,000 articles p95": True,
    }
    assert kb_targets([{**r, "name": r["name"].replace("10,000", "1,000")} for r in ROWS]) == []


def test_the_table_puts_each_search_beside_the_same_run_ceiling() -> None:
    console = Console(width=160, record=True)
    console.print(build_kb_table(ROWS))
    text = console.export_text()
    assert "2.50x" in text and "0.60x" in text  # p95 over the ceiling's p95
    assert "636" in text and "900.00" in text
