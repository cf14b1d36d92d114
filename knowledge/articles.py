"""Knowledge articles: Markdown files with YAML front matter, and their lifecycle.

An article file (``knowledge/articles/*.md``)::

    ---
    id: kb-asc-carers-assessment
    title: Carer's assessment
    services: [city_spoc, county_csc]
    audience: [call_handler, public]
    owner: asc-knowledge-team
    review_by: 2027-03-31
    state: published
    ---
    Markdown body...

Lifecycle ``draft -> approved -> published -> retired`` (an approved article can go back to draft).
Only published articles are searchable by agents. An article marked ``clinical: true`` is approved
only by the clinical safety role (FR-36); others by a supervisor or admin.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Literal

from markdown_it import MarkdownIt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cti.config._entries import config_error
from cti.config._yaml import parse_yaml
from cti.domain.errors import ConfigError, Forbidden, IllegalTransition

ArticleState = Literal["draft", "approved", "published", "retired"]
Audience = Literal["call_handler", "specialist", "professional", "public"]
# The eight points of access (cti/config/demo/services.yaml) and "all".
ServiceId = Literal[
    "city_spoc", "county_csc", "rutland_cst", "fcp", "chs_spa", "amh_spa", "bed_bureau", "icrs", "all"
]
SERVICES: tuple[str, ...] = ServiceId.__args__  # type: ignore[attr-defined]
AUDIENCES: tuple[str, ...] = Audience.__args__  # type: ignore[attr-defined]
ARTICLES_DIR = Path(__file__).resolve().parent / "articles"

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("approved",),
    "approved": ("published", "draft"),
    "published": ("retired",),
    "retired": (),
}
_FRONT = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.DOTALL)
# Raw HTML is escaped and unsafe link schemes (javascript:, data: ...) are refused by markdown-it.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


class ArticleMeta(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^kb-[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)
    title: str = Field(min_length=3, max_length=200)
    services: tuple[ServiceId, ...] = Field(min_length=1)
    audience: tuple[Audience, ...] = Field(min_length=1)
    owner: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)
    review_by: date
    state: ArticleState
    keywords: tuple[str, ...] = ()
    clinical: bool = False
    approved_by: str | None = None


class Article(BaseModel):
    model_config = ConfigDict(frozen=True)

    meta: ArticleMeta
    body: str
    path: Path | None = None

    @property
    def id(self) -> str:
        return self.meta.id

    def html(self) -> str:
        html: str = _MARKDOWN.render(self.body)
        return html

    def plain_text(self) -> str:
        """The body without Markdown syntax: what the index and snippets see."""
        parts: list[str] = []
        for token in _MARKDOWN.parse(self.body):
            for child in token.children or ():
                if child.type in ("text", "code_inline"):
                    parts.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    parts.append(" ")
            if token.type in ("paragraph_close", "heading_close", "list_item_close"):
                parts.append("\n")
        return re.sub(r"[ \t]+", " ", "".join(parts)).strip()

    def review_overdue(self, today: date) -> bool:
        return today > self.meta.review_by

    def to_json(self, today: date) -> dict[str, object]:
        meta = self.meta
        return {
            "id": meta.id,
            "title": meta.title,
            "services": list(meta.services),
            "audience": list(meta.audience),
            "owner": meta.owner,
            "review_by": meta.review_by.isoformat(),
            "review_overdue": self.review_overdue(today),
            "state": meta.state,
            "clinical": meta.clinical,
            "keywords": list(meta.keywords),
            "markdown": self.body,
            "html": self.html(),
        }


def parse_article(text: str, file: str, path: Path | None = None) -> Article:
    """One article from its file text; errors name the file and the front-matter field."""
    match = _FRONT.match(text.replace("\r\n", "\n"))
    if match is None:
        raise ConfigError(
            file, "(file)", "front matter", "expected '---' YAML front matter '---' then Markdown"
        )
    raw = parse_yaml(match[1], file)
    if not isinstance(raw, dict):
        raise ConfigError(file, "(file)", "front matter", "front matter must be a mapping")
    try:
        meta = ArticleMeta.model_validate(raw)
    except ValidationError as exc:
        raise config_error(file, str(raw.get("id", "(article)")), exc) from None
    body = match[2].strip()
    if not body:
        raise ConfigError(file, meta.id, "body", "the article has no body")
    return Article(meta=meta, body=body + "\n", path=path)


def load_articles(folder: Path = ARTICLES_DIR) -> dict[str, Article]:
    """Every ``*.md`` under ``folder`` by id; ids are unique across files."""
    articles: dict[str, Article] = {}
    for path in sorted(folder.glob("*.md")):
        article = parse_article(path.read_text(encoding="utf-8"), path.name, path)
        if article.id in articles:
            raise ConfigError(path.name, article.id, "id", "another article already has this id")
        articles[article.id] = article
    return articles


def published(articles: Iterable[Article]) -> list[Article]:
    return [a for a in articles if a.meta.state == "published"]


def transition(article: Article, to: str, *, role: str, actor: str) -> Article:
    """The article in state ``to``; an illegal step raises, and approval needs the right role."""
    current = article.meta.state
    allowed = TRANSITIONS[current]
    if to not in allowed:
        raise IllegalTransition("article", current, f"move to {to}", allowed)
    if to == "approved":
        approvers = (
            ("clinical_safety",) if article.meta.clinical else ("clinical_safety", "supervisor", "admin")
        )
        if role not in approvers:
            raise Forbidden(
                f"approving this article needs one of the roles: {', '.join(approvers)}",
                error_id="approval_forbidden",
            )
    elif role not in ("clinical_safety", "supervisor", "admin"):
        raise Forbidden("changing an article's state needs a supervisor or admin", error_id="role_forbidden")
    approved_by = actor if to == "approved" else article.meta.approved_by
    if to == "draft":
        approved_by = None
    meta = article.meta.model_copy(update={"state": to, "approved_by": approved_by})
    return article.model_copy(update={"meta": meta})


def write_state(path: Path, article: Article) -> None:
    """Rewrite only the ``state`` and ``approved_by`` lines of the file's front matter."""
    text = path.read_text(encoding="utf-8")
    match = _FRONT.match(text.replace("\r\n", "\n"))
    if match is None:
        raise ConfigError(path.name, article.id, "front matter", "front matter not found")
    front = [line for line in match[1].split("\n") if not line.startswith(("state:", "approved_by:"))]
    front.append(f"state: {article.meta.state}")
    if article.meta.approved_by:
        front.append(f"approved_by: {article.meta.approved_by}")
    path.write_text("---\n" + "\n".join(front) + "\n---\n" + match[2], encoding="utf-8")
