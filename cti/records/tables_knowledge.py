"""Tables of the knowledge package (on the records' one ``metadata``; migration ``0002_knowledge``).

Articles themselves are files (``knowledge/articles``); the records keep what agents do with them:
the article used on a contact (``kb_article_link``) and "flag it" tasks for an article's owner.
"""

from __future__ import annotations

import sqlalchemy as sa

from cti.records.tables import BigId, UTCDateTime, metadata

kb_article_link = sa.Table(
    "kb_article_link",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    # No foreign key: the contact row is written by the recorder and may not exist yet mid-call.
    sa.Column("contact_id", sa.String(64), nullable=False),
    sa.Column("article_id", sa.String(80), nullable=False),
    sa.Column("linked_by", sa.String(100), nullable=False),
    sa.Column("role", sa.String(50), nullable=False),
    sa.Column("linked_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("contact_id", "article_id"),
    sa.Index(None, "article_id", "linked_at"),
)

kb_flag = sa.Table(
    "kb_flag",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("article_id", sa.String(80), nullable=False),
    sa.Column("owner", sa.String(100), nullable=False),  # whose task it is: the article's owner
    sa.Column("reason", sa.String(1000), nullable=False),
    sa.Column("contact_id", sa.String(64), nullable=True),
    sa.Column("flagged_by", sa.String(100), nullable=False),
    sa.Column("role", sa.String(50), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("resolved_by", sa.String(100), nullable=True),
    sa.Column("resolved_at", UTCDateTime, nullable=True),
    sa.CheckConstraint("state IN ('open', 'done')", name="state"),
    sa.Index(None, "owner", "state"),
    sa.Index(None, "article_id", "created_at"),
)

__all__ = ["kb_article_link", "kb_flag", "metadata"]
