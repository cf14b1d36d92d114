"""``frontdoor kb search|check|move``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from cti.cli import app
from knowledge.articles import ARTICLES_DIR, load_articles

runner = CliRunner()


def test_kb_search_json_prints_ranked_ids_and_titles() -> None:
    result = runner.invoke(app, ["kb", "search", "OT assesment", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["results"][0]["id"] == "kb-asc-ot-assessment"
    assert body["results"][0]["title"].startswith("Social care occupational therapy")


def test_kb_search_with_a_bad_filter_says_which() -> None:
    result = runner.invoke(app, ["kb", "search", "OT", "--service", "nowhere"])
    assert result.exit_code == 2
    assert "'service'" in result.output


def test_kb_check_lists_stale_entries() -> None:
    result = runner.invoke(app, ["kb", "check"])
    assert result.exit_code == 0, result.output
    assert "stale directory entry: dos-befriending" in result.output


def test_kb_move_publishes_an_approved_article(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    shutil.copytree(ARTICLES_DIR, folder)
    draft = "kb-amh-crisis-text-line"
    refused = runner.invoke(
        app,
        ["kb", "move", draft, "published", "--by", "s1", "--role", "supervisor", "--articles", str(folder)],
    )
    assert refused.exit_code == 2
    assert "cannot move to published from draft" in refused.output
    for to in ("approved", "published"):
        result = runner.invoke(
            app,
            [
                "kb",
                "move",
                draft,
                to,
                "--by",
                "supervisor01",
                "--role",
                "supervisor",
                "--articles",
                str(folder),
            ],
        )
        assert result.exit_code == 0, result.output
    assert load_articles(folder)[draft].meta.state == "published"
    assert load_articles(ARTICLES_DIR)[draft].meta.state == "draft"
