"""Knowledge: articles linked to contacts, and flags (tasks for an article's owner).

Revision ID: 0002_knowledge
Revises: 0001
Create Date: 2026-11-24

Written out in full, like 0001, so this revision never changes when the tables do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002_knowledge"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("knowledge",)
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "kb_article_link",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("article_id", sa.String(80), nullable=False),
        sa.Column("linked_by", sa.String(100), nullable=False),
        sa.Column("role", sa.String(50), nullable=False),
        _at("linked_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kb_article_link"),
        sa.UniqueConstraint("contact_id", "article_id", name="uq_kb_article_link_contact_id_article_id"),
    )
    op.create_index("ix_kb_article_link_article_id_linked_at", "kb_article_link", ["article_id", "linked_at"])
    op.create_table(
        "kb_flag",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("article_id", sa.String(80), nullable=False),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=True),
        sa.Column("flagged_by", sa.String(100), nullable=False),
        sa.Column("role", sa.String(50), nullable=False),
        _at("created_at", nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("resolved_by", sa.String(100), nullable=True),
        _at("resolved_at"),
        sa.PrimaryKeyConstraint("id", name="pk_kb_flag"),
        sa.CheckConstraint("state IN ('open', 'done')", name="ck_kb_flag_state"),
    )
    op.create_index("ix_kb_flag_owner_state", "kb_flag", ["owner", "state"])
    op.create_index("ix_kb_flag_article_id_created_at", "kb_flag", ["article_id", "created_at"])


def downgrade() -> None:
    op.drop_table("kb_flag")
    op.drop_table("kb_article_link")
