"""The search benchmark's quick run: the rows ``make bench`` prints, the ceiling measured beside them."""

from __future__ import annotations

from knowledge.bench import generated_corpus, kb_search_bench


def test_quick_bench_reports_the_search_and_the_bare_ceiling() -> None:
    rows = kb_search_bench(quick=True)
    names = [row["name"] for row in rows]
    assert any(name.startswith("kb search, 1,000 articles") for name in names)
    assert any(name.startswith("ceiling: bare FTS5 MATCH") for name in names)
    for row in rows:
        assert set(row) == {"name", "p50_ms", "p95_ms", "n"}
        assert 0 < row["p50_ms"] <= row["p95_ms"]


def test_the_generated_corpus_is_seeded_and_sized() -> None:
    first, again = generated_corpus(300), generated_corpus(300)
    assert len(first) == 300
    assert [d.body for d in first] == [d.body for d in again]
