"""Triage scripts: versions by content hash, status changes, sessions and their append-only events.

Revision ID: 0002_scripts
Revises: 0001
Create Date: 2026-11-24

Written out in full (not built from ``tables_scripts.py``) so that this revision never changes when
the tables do; a test checks that the migrated schema matches the tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0002_scripts"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("scripts",)
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "script_version",
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("script_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("content", JSON, nullable=False),
        _at("registered_at"),
        sa.PrimaryKeyConstraint("hash", name="pk_script_version"),
    )
    op.create_index("ix_script_version_script_id_version", "script_version", ["script_id", "version"])
    op.create_table(
        "script_status",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("script_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("role", sa.String(50), nullable=False),
        _at("at"),
        sa.PrimaryKeyConstraint("id", name="pk_script_status"),
        sa.ForeignKeyConstraint(
            ["script_hash"], ["script_version.hash"], name="fk_script_status_script_hash_script_version"
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'in_review', 'approved', 'retired')", name="ck_script_status_status"
        ),
    )
    op.create_index("ix_script_status_script_hash_id", "script_status", ["script_hash", "id"])
    op.create_table(
        "script_session",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("script_hash", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(100), nullable=False),
        _at("started_at"),
        sa.PrimaryKeyConstraint("id", name="pk_script_session"),
        sa.ForeignKeyConstraint(
            ["script_hash"], ["script_version.hash"], name="fk_script_session_script_hash_script_version"
        ),
    )
    op.create_index("ix_script_session_contact_id_started_at", "script_session", ["contact_id", "started_at"])
    op.create_table(
        "script_event",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        _at("at"),
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("script", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("node", sa.String(64), nullable=True),
        sa.Column("question_shown", sa.Text, nullable=True),
        sa.Column("answer_id", sa.String(64), nullable=True),
        sa.Column("answer_text", sa.Text, nullable=True),
        sa.Column("red_flag", sa.Boolean, nullable=False),
        sa.Column("agent_id", sa.String(100), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_script_event"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["script_session.id"],
            name="fk_script_event_session_id_script_session",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("session_id", "seq", name="uq_script_event_session_id_seq"),
    )
    op.create_index("ix_script_event_contact_id_at", "script_event", ["contact_id", "at"])


def downgrade() -> None:
    for table in ("script_event", "script_session", "script_status", "script_version"):
        op.drop_table(table)
