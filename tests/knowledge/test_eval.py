"""Search quality: the labelled set, the metrics and the regression gate (CI runs this)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cti.cli import app
from knowledge.base import KnowledgeBase
from knowledge.eval import BASELINE_FILE, evaluate, load_baseline, load_queries, regressions

runner = CliRunner()


def test_the_labelled_set_is_large_and_every_id_exists(kb: KnowledgeBase) -> None:
    queries = load_queries()
    assert len(queries) >= 150
    known = set(kb.articles) | set(kb.directory)
    assert all(set(q.relevant) <= known for q in queries)


def test_search_quality_is_not_below_the_recorded_baseline(kb: KnowledgeBase) -> None:
    result = evaluate(kb, load_queries())
    assert regressions(result.metrics, load_baseline()) == []
    assert result.metrics["recall@5"] >= result.metrics["recall@3"]


def test_kb_eval_prints_the_metrics_and_passes() -> None:
    result = runner.invoke(app, ["kb", "eval"])
    assert result.exit_code == 0, result.output
    assert "recall@3" in result.output
    assert "recall@5" in result.output
    assert "mrr" in result.output


def test_kb_eval_exits_non_zero_below_the_baseline(tmp_path: Path) -> None:
    higher = tmp_path / "baseline.yaml"
    higher.write_text("recall@3: 1.0\nrecall@5: 1.0\nmrr: 1.0\n")
    result = runner.invoke(app, ["kb", "eval", "--baseline", str(higher)])
    assert result.exit_code == 1
    assert "REGRESSION: recall@3" in result.output
    assert BASELINE_FILE.read_text() != higher.read_text()


def test_a_metric_that_falls_is_a_regression() -> None:
    baseline = {"recall@3": 0.9, "recall@5": 0.95, "mrr": 0.9}
    assert regressions({"recall@3": 0.9, "recall@5": 0.96, "mrr": 0.8999}, baseline) == []
    assert regressions({"recall@3": 0.89, "recall@5": 0.95, "mrr": 0.9}, baseline) == ["recall@3"]
