"""Articles: front matter, the shipped content, the lifecycle and safe HTML."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cti.domain.errors import ConfigError, Forbidden, IllegalTransition
from knowledge.articles import SERVICES, load_articles, parse_article, transition, write_state
from knowledge.base import KnowledgeBase

ARTICLE = """---
id: kb-test-one
title: A test article
services: [fcp]
audience: [call_handler]
owner: fcp-team
review_by: 2027-01-31
state: draft
---
Body with **bold** text.
"""


def test_every_point_of_access_has_published_articles(kb: KnowledgeBase) -> None:
    published = [a for a in kb.articles.values() if a.meta.state == "published"]
    assert len(published) >= 40
    for service in SERVICES:
        if service == "all":
            continue
        covering = [a for a in published if service in a.meta.services or "all" in a.meta.services]
        assert len(covering) >= 5, service


def test_shipped_articles_say_they_are_illustrative(kb: KnowledgeBase) -> None:
    for article in kb.articles.values():
        if article.meta.state == "published":
            assert "Illustrative content" in article.body, article.id


def test_a_front_matter_error_names_the_file_and_the_field() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_article(ARTICLE.replace("state: draft", "state: live"), "one.md")
    assert caught.value.details["file"] == "one.md"
    assert caught.value.details["entry"] == "kb-test-one"
    assert caught.value.details["field"] == "state"
    with pytest.raises(ConfigError, match="front matter"):
        parse_article("no front matter here", "two.md")


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(ARTICLE)
    (tmp_path / "b.md").write_text(ARTICLE)
    with pytest.raises(ConfigError, match="another article already has this id"):
        load_articles(tmp_path)


def test_lifecycle_goes_draft_approved_published_retired_and_not_backwards() -> None:
    article = parse_article(ARTICLE, "one.md")
    with pytest.raises(IllegalTransition):
        transition(article, "published", role="supervisor", actor="supervisor01")
    approved = transition(article, "approved", role="supervisor", actor="supervisor01")
    assert approved.meta.approved_by == "supervisor01"
    published = transition(approved, "published", role="supervisor", actor="supervisor01")
    retired = transition(published, "retired", role="admin", actor="admin")
    assert retired.meta.state == "retired"
    with pytest.raises(IllegalTransition):
        transition(retired, "published", role="admin", actor="admin")


def test_only_clinical_safety_approves_a_clinical_article_and_agents_change_nothing() -> None:
    clinical = parse_article(ARTICLE.replace("state: draft", "state: draft\nclinical: true"), "one.md")
    with pytest.raises(Forbidden) as caught:
        transition(clinical, "approved", role="supervisor", actor="supervisor01")
    assert caught.value.error_id == "approval_forbidden"
    assert (
        transition(clinical, "approved", role="clinical_safety", actor="clinsafe01").meta.state == "approved"
    )
    plain = parse_article(ARTICLE, "one.md")
    with pytest.raises(Forbidden):
        transition(plain, "approved", role="agent", actor="agent01")


def test_moving_state_rewrites_only_the_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "one.md"
    path.write_text(ARTICLE)
    article = load_articles(tmp_path)["kb-test-one"]
    write_state(path, transition(article, "approved", role="supervisor", actor="supervisor01"))
    again = load_articles(tmp_path)["kb-test-one"]
    assert again.meta.state == "approved"
    assert again.meta.approved_by == "supervisor01"
    assert again.body == article.body


def test_html_escapes_raw_html_and_unsafe_links() -> None:
    article = parse_article(
        ARTICLE.replace(
            "Body with **bold** text.", "<script>alert(1)</script> [x](javascript:alert(1)) **b**"
        ),
        "one.md",
    )
    html = article.html()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert "<strong>b</strong>" in html


def test_review_overdue_is_shown(kb: KnowledgeBase) -> None:
    article = kb.articles["kb-gen-handling-distressed-callers"]
    assert article.to_json(date(2026, 11, 24))["review_overdue"] is True
    assert article.to_json(date(2026, 10, 1))["review_overdue"] is False
