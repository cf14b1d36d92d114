"""What agents do with articles, kept in the records database and audited in the same transaction.

- ``link``: the article used on a contact (knowledge-centred support: search first, link what you used).
- ``flag``: "flag it" with a reason; an open task for the article's owner until marked done.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from cti.domain.errors import Conflict, NotFound
from cti.records.base import RecordsBase, optional_text, required_text
from cti.records.tables import audit
from cti.records.tables_knowledge import kb_article_link, kb_flag


@dataclass(frozen=True, slots=True)
class ArticleLink:
    id: int
    contact_id: str
    article_id: str
    linked_by: str
    role: str
    linked_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "linked_at": self.linked_at.isoformat()}


@dataclass(frozen=True, slots=True)
class ArticleFlag:
    id: int
    article_id: str
    owner: str
    reason: str
    contact_id: str | None
    flagged_by: str
    role: str
    created_at: datetime
    state: str
    resolved_by: str | None = None
    resolved_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        values = asdict(self)
        values["created_at"] = self.created_at.isoformat()
        values["resolved_at"] = self.resolved_at.isoformat() if self.resolved_at else None
        return values


async def _audit(
    conn: AsyncConnection,
    at: datetime,
    actor: str,
    role: str,
    action: str,
    subject: tuple[str, str],
    **details: Any,
) -> None:
    await conn.execute(
        audit.insert(),
        {
            "at": at,
            "actor": actor,
            "role": role,
            "action": action,
            "subject_type": subject[0],
            "subject_id": subject[1],
            "reason": "knowledge base",
            "details": details,
        },
    )


class KnowledgeRecords(RecordsBase):
    async def link(self, contact_id: str, article_id: str, *, actor: str, role: str) -> ArticleLink:
        """Link an article to a contact; linking the same one again returns the existing link."""
        values: dict[str, Any] = {
            "contact_id": required_text(contact_id, "contact_id", 64),
            "article_id": required_text(article_id, "article_id", 80),
            "linked_by": required_text(actor, "actor", 100),
            "role": required_text(role, "role", 50),
            "linked_at": self._now(),
        }
        where = (kb_article_link.c.contact_id == values["contact_id"]) & (
            kb_article_link.c.article_id == values["article_id"]
        )
        try:
            async with self._engine.begin() as conn:
                existing = (await conn.execute(sa.select(kb_article_link).where(where))).first()
                if existing is not None:
                    return ArticleLink(**existing._asdict())
                link_id = (
                    await conn.execute(kb_article_link.insert().returning(kb_article_link.c.id), values)
                ).scalar_one()
                await _audit(
                    conn,
                    values["linked_at"],
                    values["linked_by"],
                    values["role"],
                    "kb_link",
                    ("contact", values["contact_id"]),
                    article_id=values["article_id"],
                )
        except IntegrityError:  # the same link made at the same moment by another request
            async with self._engine.connect() as conn:
                row = (await conn.execute(sa.select(kb_article_link).where(where))).one()
            return ArticleLink(**row._asdict())
        return ArticleLink(id=link_id, **values)

    async def links_for_contact(self, contact_id: str) -> list[ArticleLink]:
        statement = (
            sa.select(kb_article_link)
            .where(kb_article_link.c.contact_id == contact_id)
            .order_by(kb_article_link.c.linked_at, kb_article_link.c.id)
        )
        async with self._engine.connect() as conn:
            return [ArticleLink(**r._asdict()) for r in await conn.execute(statement)]

    async def flag(
        self,
        article_id: str,
        reason: str,
        *,
        owner: str,
        actor: str,
        role: str,
        contact_id: str | None = None,
    ) -> ArticleFlag:
        """A flag is an open task for ``owner``; the reason is required."""
        values: dict[str, Any] = {
            "article_id": required_text(article_id, "article_id", 80),
            "owner": required_text(owner, "owner", 100),
            "reason": required_text(reason, "reason", 1000),
            "contact_id": optional_text(contact_id, "contact_id", 64),
            "flagged_by": required_text(actor, "actor", 100),
            "role": required_text(role, "role", 50),
            "created_at": self._now(),
            "state": "open",
        }
        async with self._engine.begin() as conn:
            flag_id = (await conn.execute(kb_flag.insert().returning(kb_flag.c.id), values)).scalar_one()
            await _audit(
                conn,
                values["created_at"],
                values["flagged_by"],
                values["role"],
                "kb_flag",
                ("kb_article", values["article_id"]),
                flag_id=flag_id,
                contact_id=values["contact_id"],
            )
        return ArticleFlag(id=flag_id, **values)

    async def flags(self, *, owner: str | None = None, state: str | None = "open") -> list[ArticleFlag]:
        """Flags, oldest first: an owner's open tasks by default."""
        statement = sa.select(kb_flag)
        if owner is not None:
            statement = statement.where(kb_flag.c.owner == owner)
        if state is not None:
            statement = statement.where(kb_flag.c.state == state)
        async with self._engine.connect() as conn:
            rows = await conn.execute(statement.order_by(kb_flag.c.created_at, kb_flag.c.id))
            return [ArticleFlag(**r._asdict()) for r in rows]

    async def resolve_flag(self, flag_id: int, *, actor: str, role: str) -> ArticleFlag:
        """Mark a flag done (the owner fixed the article, or decided no change was needed)."""
        at = self._now()
        async with self._engine.begin() as conn:
            row = (await conn.execute(sa.select(kb_flag).where(kb_flag.c.id == flag_id))).first()
            if row is None:
                raise NotFound(f"no flag {flag_id}", error_id="flag_not_found", field="flag_id")
            if row.state != "open":
                raise Conflict(f"flag {flag_id} is already done", error_id="flag_already_done")
            changes = {"state": "done", "resolved_by": actor, "resolved_at": at}
            await conn.execute(kb_flag.update().where(kb_flag.c.id == flag_id), changes)
            await _audit(
                conn, at, actor, role, "kb_flag_done", ("kb_article", row.article_id), flag_id=flag_id
            )
        return ArticleFlag(**{**row._asdict(), **changes})
