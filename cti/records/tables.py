"""The records schema as SQLAlchemy Core tables: the source the migrations are checked against.

Core, not the ORM: the screen-pop lookup is on the hot path (see performance.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

# JSONB on PostgreSQL (indexable, compact); JSON text elsewhere.
JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
# A 64-bit key that still auto-increments on SQLite (only INTEGER PRIMARY KEY does there).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on every backend.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so UTC is stored naive and the zone
    is put back on the way out. A naive datetime is refused rather than guessed.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: records keep timezone-aware UTC times")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

person = sa.Table(
    "person",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("nhs_number", sa.String(10), nullable=True, unique=True),
    sa.Column("given_name", sa.String(100), nullable=False),
    sa.Column("family_name", sa.String(100), nullable=False),
    sa.Column("date_of_birth", sa.Date, nullable=True),
    sa.Column("address", sa.String(300), nullable=True),
    sa.Column("postcode", sa.String(10), nullable=True),
    sa.Column("communication_needs", JSONType, nullable=False),
    sa.Column("flags", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

person_phone = sa.Table(
    "person_phone",
    metadata,
    sa.Column("person_id", sa.Integer, sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("e164", sa.String(20), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Index(None, "e164"),
)

referrer = sa.Table(
    "referrer",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(100), nullable=False),
    sa.Column("organisation", sa.String(200), nullable=False),
    sa.Column("ods_code", sa.String(12), nullable=True),
)

referrer_phone = sa.Table(
    "referrer_phone",
    metadata,
    sa.Column("referrer_id", sa.Integer, sa.ForeignKey("referrer.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("e164", sa.String(20), primary_key=True),
    sa.Index(None, "e164"),
)

contact = sa.Table(
    "contact",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # the router's contact id
    sa.Column("caller_e164", sa.String(20), nullable=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("person.id"), nullable=True),
    sa.Column("referrer_id", sa.Integer, sa.ForeignKey("referrer.id"), nullable=True),
    sa.Column("caller_type", sa.String(20), nullable=False),
    sa.Column("service", sa.String(50), nullable=True),
    sa.Column("queue", sa.String(100), nullable=True),
    sa.Column("agent_id", sa.String(100), nullable=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("direction", sa.String(10), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("ivr_ended_at", UTCDateTime, nullable=True),
    sa.Column("queued_at", UTCDateTime, nullable=True),
    sa.Column("offered_at", UTCDateTime, nullable=True),
    sa.Column("answered_at", UTCDateTime, nullable=True),
    sa.Column("talk_ended_at", UTCDateTime, nullable=True),
    sa.Column("hold_ms", sa.Integer, nullable=False),
    sa.Column("wrap_up_ended_at", UTCDateTime, nullable=True),
    sa.Column("ended_at", UTCDateTime, nullable=True),
    sa.Column("outcome_code", sa.String(50), nullable=True),
    sa.Column("first_contact_resolution", sa.Boolean, nullable=True),
    sa.Column("reason_codes", JSONType, nullable=False),
    sa.Column("failure_demand", sa.Boolean, nullable=False),
    sa.CheckConstraint("caller_type IN ('professional', 'public', 'carer', 'unknown')", name="caller_type"),
    sa.CheckConstraint("direction IN ('inbound', 'outbound')", name="direction"),
    sa.CheckConstraint("hold_ms >= 0", name="hold_ms"),
    sa.Index(None, "person_id", "started_at"),
    sa.Index(None, "caller_e164", "started_at"),
    sa.Index(None, "referrer_id", "started_at"),
)

service_request = sa.Table(
    "service_request",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # Set from the id ("SR-000123") in the same transaction as the insert, or given by a source.
    sa.Column("reference", sa.String(32), nullable=True, unique=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("person.id"), nullable=False),
    sa.Column("service", sa.String(50), nullable=False),
    sa.Column("summary", sa.String(500), nullable=False),
    sa.Column("status", sa.String(30), nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index(None, "person_id", "status"),
)

service_request_status = sa.Table(
    "service_request_status",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column(
        "service_request_id",
        sa.Integer,
        sa.ForeignKey("service_request.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("status", sa.String(30), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("note", sa.String(500), nullable=True),
    sa.Index(None, "service_request_id", "at"),
)

allocation = sa.Table(
    "allocation",
    metadata,
    sa.Column("person_id", sa.Integer, sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("service", sa.String(50), primary_key=True),
    sa.Column("worker_id", sa.String(100), nullable=False),
    sa.Column("worker_name", sa.String(200), nullable=False),
    sa.Column("since", UTCDateTime, nullable=False),
)

# Append-only: the repository never updates or deletes these rows.
audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("role", sa.String(50), nullable=False),
    sa.Column("action", sa.String(50), nullable=False),
    sa.Column("subject_type", sa.String(50), nullable=False),
    sa.Column("subject_id", sa.String(100), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("details", JSONType, nullable=False),
    sa.Index(None, "subject_id", "at"),
    sa.Index(None, "actor", "at"),
)


# The tables of the scripts and knowledge packages live beside these, on the same metadata.
from cti.records import tables_knowledge, tables_scripts  # noqa: E402, F401
