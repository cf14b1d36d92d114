"""Search quality on a labelled query set: recall@3, recall@5 and MRR, against a recorded baseline.

``eval/queries.yaml``::

    queries:
      - q: "how do I refer for an OT"
        relevant: [kb-chs-occupational-therapy, dos-chs-therapy]
        service: chs_spa          # optional filter, as the desktop would send it

recall@k is the share of a query's relevant ids found in the first k results, averaged over queries;
MRR is the mean of 1 / rank of the first relevant result (0 when none is returned).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cti.config._entries import config_error, section
from cti.config._yaml import read_yaml
from cti.domain.errors import ConfigError
from knowledge.articles import Audience, ServiceId
from knowledge.base import KnowledgeBase

EVAL_DIR = Path(__file__).resolve().parent / "eval"
QUERIES_FILE = EVAL_DIR / "queries.yaml"
BASELINE_FILE = EVAL_DIR / "baseline.yaml"
METRICS = ("recall@3", "recall@5", "mrr")


class LabelledQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    q: str = Field(min_length=2, max_length=300)
    relevant: tuple[str, ...] = Field(min_length=1)
    service: ServiceId | None = None
    audience: Audience | None = None


@dataclass
class EvalResult:
    metrics: dict[str, float]
    misses: list[tuple[str, list[str], list[str]]] = field(default_factory=list)  # (q, relevant, got top 5)
    count: int = 0


def load_queries(path: Path = QUERIES_FILE) -> list[LabelledQuery]:
    queries = []
    for index, raw in enumerate(section(read_yaml(path, path.name), path.name, "queries")):
        try:
            queries.append(LabelledQuery.model_validate(raw))
        except ValidationError as exc:
            raise config_error(path.name, f"query {index + 1}", exc) from None
    return queries


def evaluate(kb: KnowledgeBase, queries: list[LabelledQuery]) -> EvalResult:
    known = set(kb.articles) | set(kb.directory)
    recall3 = recall5 = reciprocal = 0.0
    misses = []
    for number, query in enumerate(queries, start=1):
        unknown = [r for r in query.relevant if r not in known]
        if unknown:
            raise ConfigError(QUERIES_FILE.name, f"query {number}", "relevant", f"unknown id {unknown[0]!r}")
        hits = kb.search(query.q, service=query.service, audience=query.audience, limit=10)
        ids = [h.id for h in hits]
        relevant = set(query.relevant)
        recall3 += len(relevant.intersection(ids[:3])) / len(relevant)
        recall5 += len(relevant.intersection(ids[:5])) / len(relevant)
        rank = next((i for i, hit in enumerate(ids, start=1) if hit in relevant), None)
        reciprocal += 1 / rank if rank else 0.0
        if rank is None or rank > 3:
            misses.append((query.q, list(query.relevant), ids[:5]))
    n = len(queries) or 1
    metrics = {"recall@3": recall3 / n, "recall@5": recall5 / n, "mrr": reciprocal / n}
    return EvalResult({k: round(v, 4) for k, v in metrics.items()}, misses, len(queries))


def load_baseline(path: Path = BASELINE_FILE) -> dict[str, float]:
    data = read_yaml(path, path.name)
    if not isinstance(data, dict) or not all(isinstance(data.get(m), int | float) for m in METRICS):
        raise ConfigError(path.name, "(file)", "metrics", f"expected numbers for {', '.join(METRICS)}")
    return {m: float(data[m]) for m in METRICS}


def regressions(metrics: dict[str, float], baseline: dict[str, float]) -> list[str]:
    """The metrics that fell below the baseline (a tolerance of 0.0005 absorbs rounding)."""
    return [m for m in METRICS if metrics[m] < baseline[m] - 0.0005]


def write_baseline(metrics: dict[str, float], count: int, path: Path = BASELINE_FILE) -> None:
    lines = [
        "# Recorded by `frontdoor kb eval --record`: CI fails if search quality falls below these.",
        f"# {count} labelled queries in queries.yaml.",
        *(f"{m}: {metrics[m]}" for m in METRICS),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
