"""Tables of the scripts package (on the records' one ``metadata``; migration ``0002_scripts``).

Every table here is append-only: a script version's content never changes (it is keyed by its
hash), its lifecycle is a list of status changes, and a session is a list of events.
"""

from __future__ import annotations

import sqlalchemy as sa

from cti.records.tables import BigId, JSONType, UTCDateTime, metadata

__all__ = ["metadata", "script_event", "script_session", "script_status", "script_version"]

script_version = sa.Table(
    "script_version",
    metadata,
    sa.Column("hash", sa.String(64), primary_key=True),  # sha256 of the content
    sa.Column("script_id", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("content", JSONType, nullable=False),
    sa.Column("registered_at", UTCDateTime, nullable=False),
    sa.Index(None, "script_id", "version"),
)

script_status = sa.Table(
    "script_status",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("script_hash", sa.String(64), sa.ForeignKey("script_version.hash"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("role", sa.String(50), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.CheckConstraint("status IN ('draft', 'in_review', 'approved', 'retired')", name="status"),
    sa.Index(None, "script_hash", "id"),
)

script_session = sa.Table(
    "script_session",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("contact_id", sa.String(64), nullable=False),
    sa.Column("script_hash", sa.String(64), sa.ForeignKey("script_version.hash"), nullable=False),
    sa.Column("agent_id", sa.String(100), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Index(None, "contact_id", "started_at"),
)

script_event = sa.Table(
    "script_event",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column(
        "session_id", sa.String(36), sa.ForeignKey("script_session.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("contact_id", sa.String(64), nullable=False),
    sa.Column("script", sa.String(100), nullable=False),  # script@version#hash
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("node", sa.String(64), nullable=True),
    sa.Column("question_shown", sa.Text, nullable=True),
    sa.Column("answer_id", sa.String(64), nullable=True),
    sa.Column("answer_text", sa.Text, nullable=True),
    sa.Column("red_flag", sa.Boolean, nullable=False),
    sa.Column("agent_id", sa.String(100), nullable=False),
    sa.Column("details", JSONType, nullable=False),
    # Two appends racing for the same place: one wins, the other is told (no rewrite, no gap).
    sa.UniqueConstraint("session_id", "seq"),
    sa.Index(None, "contact_id", "at"),
)
