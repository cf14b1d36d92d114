"""``KnowledgeBase``: the articles, the directory and one search index over both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cti.domain.errors import InvalidInput, NotFound
from knowledge.articles import ARTICLES_DIR, AUDIENCES, SERVICES, Article, load_articles, published
from knowledge.directory import DIRECTORY_DIR, DirectoryEntry, load_directory, select
from knowledge.search import SYNONYMS_FILE, Doc, Hit, SearchIndex, load_synonyms

MAX_QUERY = 300
MAX_LIMIT = 50


def article_doc(article: Article) -> Doc:
    meta = article.meta
    return Doc(
        id=meta.id,
        kind="article",
        title=meta.title,
        keywords=" ".join(meta.keywords),
        body=article.plain_text(),
        services=meta.services,
        audience=meta.audience,
    )


def directory_doc(entry: DirectoryEntry) -> Doc:
    keywords = [*entry.keywords, entry.service_type.replace("_", " "), *entry.catchment]
    body = " ".join([entry.description, entry.eligibility.criteria, *(r.detail for r in entry.referral)])
    return Doc(
        id=entry.id,
        kind="directory",
        title=entry.name,
        keywords=" ".join(keywords),
        body=body,
        services=entry.services,
        audience=(),
    )


def check_query(q: str | None, field: str = "q") -> str:
    if q is None or not q.strip():
        raise InvalidInput(f"'{field}' is required", error_id="invalid_query", field=field)
    if len(q) > MAX_QUERY:
        raise InvalidInput(
            f"'{field}' is longer than {MAX_QUERY} characters", error_id="invalid_query", field=field
        )
    return q.strip()


def check_filters(service: str | None, audience: str | None, limit: int) -> None:
    if service is not None and service not in SERVICES:
        raise InvalidInput(
            f"'service' must be one of {', '.join(SERVICES)}", error_id="invalid_service", field="service"
        )
    if audience is not None and audience not in AUDIENCES:
        raise InvalidInput(
            f"'audience' must be one of {', '.join(AUDIENCES)}", error_id="invalid_audience", field="audience"
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"'limit' must be 1 to {MAX_LIMIT}", error_id="invalid_limit", field="limit")


@dataclass
class KnowledgeBase:
    articles: dict[str, Article]
    directory: dict[str, DirectoryEntry]
    index: SearchIndex

    @classmethod
    def load(
        cls,
        articles_dir: Path = ARTICLES_DIR,
        directory_dir: Path = DIRECTORY_DIR,
        synonyms_file: Path = SYNONYMS_FILE,
    ) -> KnowledgeBase:
        articles = load_articles(articles_dir)
        directory = load_directory(directory_dir)
        docs = [article_doc(a) for a in published(articles.values())]
        docs += [directory_doc(e) for e in directory.values()]
        return cls(articles, directory, SearchIndex(docs, load_synonyms(synonyms_file)))

    def close(self) -> None:
        self.index.close()

    def search(
        self,
        q: str | None,
        *,
        service: str | None = None,
        audience: str | None = None,
        kind: str | None = None,
        limit: int = 10,
    ) -> list[Hit]:
        """Published articles and directory entries, best first; bad input names the field."""
        query = check_query(q)
        check_filters(service, audience, limit)
        return self.index.search(query, service=service, audience=audience, kind=kind, limit=limit)

    def published_article(self, article_id: str) -> Article:
        """Agents see published articles only; anything else is not found."""
        article = self.articles.get(article_id)
        if article is None or article.meta.state != "published":
            raise NotFound(
                f"no published article {article_id!r}", error_id="article_not_found", field="article_id"
            )
        return article

    def article(self, article_id: str) -> Article:
        article = self.articles.get(article_id)
        if article is None:
            raise NotFound(f"no article {article_id!r}", error_id="article_not_found", field="article_id")
        return article

    def search_directory(
        self,
        q: str | None = None,
        *,
        open_now: bool | None = None,
        within_hours: float | None = None,
        at: datetime | None = None,
        limit: int = 20,
    ) -> list[dict[str, Any]]:
        """Directory entries (as JSON with ``open_now`` and ``stale``) matching ``q`` and the filters."""
        moment = at if at is not None else datetime.now(UTC)
        if within_hours is not None and not 0 < within_hours <= 24 * 14:
            raise InvalidInput(
                "'within_hours' must be more than 0 and at most 336",
                error_id="invalid_within_hours",
                field="within_hours",
            )
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"'limit' must be 1 to {MAX_LIMIT}", error_id="invalid_limit", field="limit")
        if q is not None and q.strip():
            query = check_query(q)
            hits = self.index.search(query, kind="directory", limit=MAX_LIMIT)
            candidates = [self.directory[h.id] for h in hits]
        else:
            candidates = list(self.directory.values())
        window = timedelta(hours=within_hours) if within_hours is not None else None
        matching = select(candidates, open_now=open_now, within=window, at=moment)
        if q is not None and q.strip():  # keep the relevance order
            keep = {e.id for e in matching}
            ordered = [e for e in candidates if e.id in keep]
        else:  # no relevance: open first, then by name
            ordered = matching
        return [e.to_json(moment) for e in ordered[:limit]]
