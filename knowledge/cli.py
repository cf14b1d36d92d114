"""``frontdoor kb ...``: search, evaluate search quality, check content, move an article's state."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cti.domain.errors import FrontdoorError

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

app = typer.Typer(help="Knowledge base and directory of services", no_args_is_help=True)

ArticlesDir = Annotated[Path | None, typer.Option("--articles", help="Articles folder (default: shipped)")]
DirectoryDir = Annotated[Path | None, typer.Option("--directory", help="Directory folder (default: shipped)")]


def _load(articles: Path | None, directory: Path | None) -> KnowledgeBase:
    from knowledge.articles import ARTICLES_DIR
    from knowledge.base import KnowledgeBase
    from knowledge.directory import DIRECTORY_DIR

    try:
        return KnowledgeBase.load(articles or ARTICLES_DIR, directory or DIRECTORY_DIR)
    except FrontdoorError as exc:
        typer.echo(f"frontdoor kb: {exc.message}", err=True)
        raise typer.Exit(2) from None


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What the caller asked about")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    service: Annotated[str | None, typer.Option(help="Only this point of access")] = None,
    audience: Annotated[str | None, typer.Option(help="Only this audience")] = None,
    limit: Annotated[int, typer.Option(help="How many results")] = 10,
    articles: ArticlesDir = None,
    directory: DirectoryDir = None,
) -> None:
    """Search published articles and directory entries; ranked ids and titles."""
    kb = _load(articles, directory)
    try:
        hits = kb.search(query, service=service, audience=audience, limit=limit)
    except FrontdoorError as exc:
        typer.echo(f"frontdoor kb search: {exc.message}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps({"query": query, "results": [h.to_json() for h in hits]}, indent=2))
        return
    for rank, hit in enumerate(hits, start=1):
        typer.echo(f"{rank:2d}. {hit.id:45s} {hit.title}  ({hit.score:.2f})")
    if not hits:
        typer.echo("no results")


@app.command("eval")
def evaluate_command(
    record: Annotated[bool, typer.Option("--record", help="Write the figures as the new baseline")] = False,
    show_misses: Annotated[
        bool, typer.Option("--misses", help="List queries not answered in the top 3")
    ] = False,
    queries: Annotated[Path | None, typer.Option(help="Labelled queries YAML")] = None,
    baseline: Annotated[Path | None, typer.Option(help="Baseline YAML")] = None,
) -> None:
    """recall@3, recall@5 and MRR on the labelled queries; exit 1 if below the recorded baseline."""
    from knowledge.eval import (
        BASELINE_FILE,
        QUERIES_FILE,
        evaluate,
        load_baseline,
        load_queries,
        regressions,
        write_baseline,
    )

    kb = _load(None, None)
    try:
        labelled = load_queries(queries or QUERIES_FILE)
        result = evaluate(kb, labelled)
    except FrontdoorError as exc:
        typer.echo(f"frontdoor kb eval: {exc.message}", err=True)
        raise typer.Exit(2) from None
    figures = "  ".join(f"{name} {value:.4f}" for name, value in result.metrics.items())
    typer.echo(f"{result.count} queries  {figures}")
    if show_misses:
        for q, relevant, got in result.misses:
            typer.echo(f"  miss: {q!r} wanted {relevant} got {got}")
    if record:
        write_baseline(result.metrics, result.count, baseline or BASELINE_FILE)
        typer.echo("baseline recorded")
        return
    try:
        recorded = load_baseline(baseline or BASELINE_FILE)
    except FrontdoorError as exc:
        typer.echo(f"frontdoor kb eval: {exc.message}", err=True)
        raise typer.Exit(2) from None
    worse = regressions(result.metrics, recorded)
    if worse:
        for name in worse:
            typer.echo(
                f"REGRESSION: {name} {result.metrics[name]:.4f} < baseline {recorded[name]:.4f}", err=True
            )
        raise typer.Exit(1)
    typer.echo("at or above the baseline")


@app.command()
def check(articles: ArticlesDir = None, directory: DirectoryDir = None) -> None:
    """Validate articles and directory entries; list overdue reviews and stale entries."""
    kb = _load(articles, directory)
    now = datetime.now(UTC)
    states: dict[str, int] = {}
    for article in kb.articles.values():
        states[article.meta.state] = states.get(article.meta.state, 0) + 1
        if article.meta.state == "published" and article.review_overdue(now.date()):
            typer.echo(
                f"review overdue: {article.id} (owner {article.meta.owner}, due {article.meta.review_by})"
            )
    for entry in kb.directory.values():
        if entry.stale(now.date()):
            typer.echo(f"stale directory entry: {entry.id} (last verified {entry.last_verified})")
    counts = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    typer.echo(f"{len(kb.articles)} articles ({counts}); {len(kb.directory)} directory entries")


@app.command()
def move(
    article_id: Annotated[str, typer.Argument(help="Article id")],
    to: Annotated[str, typer.Argument(help="approved, published, retired or draft")],
    by: Annotated[str, typer.Option(help="Who signs this off")],
    role: Annotated[str, typer.Option(help="Their role (clinical_safety approves clinical articles)")],
    articles: ArticlesDir = None,
) -> None:
    """Move an article along its lifecycle (draft -> approved -> published -> retired) in its file."""
    from knowledge.articles import ARTICLES_DIR, load_articles, transition, write_state

    try:
        found = load_articles(articles or ARTICLES_DIR)
        if article_id not in found:
            typer.echo(f"frontdoor kb move: no article {article_id!r}", err=True)
            raise typer.Exit(2)
        article = found[article_id]
        moved = transition(article, to, role=role, actor=by)
        assert article.path is not None
        write_state(article.path, moved)
    except FrontdoorError as exc:
        typer.echo(f"frontdoor kb move: {exc.message}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{article_id}: {article.meta.state} -> {to}")


@app.command()
def bench(quick: Annotated[bool, typer.Option(help="1,000 articles instead of 10,000")] = False) -> None:
    """Search latency on a generated corpus, beside a bare FTS5 MATCH on the same index."""
    from knowledge.bench import kb_search_bench

    for row in kb_search_bench(quick):
        typer.echo(
            f"{row['name']:55s} n={row['n']:5d}  p50 {row['p50_ms']:.3f} ms  p95 {row['p95_ms']:.3f} ms"
        )
