"""Search latency on a generated corpus of 10,000 articles (1,000 with ``quick``).

The corpus is the shipped published articles plus generated ones whose titles and bodies are
sentences drawn (seeded) from the shipped articles, so term frequencies look like real content. The
queries are the labelled eval queries (synonyms, abbreviations and typos included). The ceiling is a
plain FTS5 MATCH on the same index in the same run: the query's words OR-ed, ranked by bm25, no
synonyms, no spelling, no filters.
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections.abc import Callable
from typing import Any

from knowledge.articles import SERVICES, load_articles, published
from knowledge.base import article_doc
from knowledge.eval import load_queries
from knowledge.search import Doc, SearchIndex, load_synonyms, words
from knowledge.stopwords import STOPWORDS

SEED = 20261124


def generated_corpus(size: int, seed: int = SEED) -> list[Doc]:
    rng = random.Random(seed)
    shipped = [article_doc(a) for a in published(load_articles().values())]
    sentences = [s.strip() for d in shipped for s in re.split(r"(?<=[.!?])\s+", d.body) if len(s.split()) > 3]
    title_words = [w for d in shipped for w in d.title.split()]
    services = [s for s in SERVICES if s != "all"]
    docs = list(shipped)
    for number in range(size - len(shipped)):
        docs.append(
            Doc(
                id=f"kb-gen-{number:05d}",
                kind="article",
                title=" ".join(rng.choices(title_words, k=rng.randint(3, 6))),
                keywords=" ".join(rng.choices(title_words, k=3)),
                body=" ".join(rng.choices(sentences, k=rng.randint(8, 20))),
                services=tuple(rng.sample(services, k=rng.randint(1, 3))),
                audience=("call_handler",),
            )
        )
    return docs


def _timed(fn: Callable[[str], object], queries: list[str], rounds: int) -> list[float]:
    for q in queries[:20]:  # warm the page cache and the statement cache
        fn(q)
    times = []
    for _ in range(rounds):
        for q in queries:
            start = time.perf_counter_ns()
            fn(q)
            times.append((time.perf_counter_ns() - start) / 1e6)
    return times


def _row(name: str, times: list[float]) -> dict[str, Any]:
    ordered = sorted(times)
    return {
        "name": name,
        "p50_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
        "n": len(ordered),
    }


def _bare_expression(query: str) -> str:
    terms = [w for w in words(query) if w not in STOPWORDS]
    return " OR ".join(f'"{w}"' for w in dict.fromkeys(terms)) or '"care"'


def kb_search_bench(quick: bool) -> list[dict[str, Any]]:
    """Rows of name, p50_ms, p95_ms, n: the product's search, then the bare FTS5 ceiling."""
    size = 1_000 if quick else 10_000
    rounds = 1 if quick else 3
    started = time.perf_counter()
    index = SearchIndex(generated_corpus(size), load_synonyms())
    build_s = time.perf_counter() - started
    try:
        queries = [q.q for q in load_queries()]
        rng = random.Random(SEED)
        filtered = [(q, rng.choice(SERVICES[:-1])) for q in queries]
        product = _timed(lambda q: index.search(q, limit=10), queries, rounds)
        with_filter = _timed(
            lambda q: index.search(q, service=dict(filtered)[q], audience="call_handler", limit=10),
            queries,
            rounds,
        )
        bare = _timed(lambda q: index.bare_match(_bare_expression(q), limit=10), queries, rounds)
    finally:
        index.close()
    label = f"{size:,} articles"
    return [
        _row(f"kb search, {label} (synonyms, spelling)", product),
        _row(f"kb search + service/audience filter, {label}", with_filter),
        _row(f"ceiling: bare FTS5 MATCH bm25, {label}", bare),
        {
            "name": f"index build, {label} (one build, ms)",
            "p50_ms": round(build_s * 1000, 1),
            "p95_ms": round(build_s * 1000, 1),
            "n": 1,
        },
    ]
