"""Initial records schema: people, referrers, contacts, service requests, allocations, audit.

Revision ID: 0001
Revises:
Create Date: 2026-01-01

Written out in full (not built from ``tables.py``) so that this revision never changes when the
tables do; a test checks that the migrated schema matches ``tables.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("nhs_number", sa.String(10), nullable=True),
        sa.Column("given_name", sa.String(100), nullable=False),
        sa.Column("family_name", sa.String(100), nullable=False),
        sa.Column("date_of_birth", sa.Date, nullable=True),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("postcode", sa.String(10), nullable=True),
        sa.Column("communication_needs", JSON, nullable=False),
        sa.Column("flags", JSON, nullable=False),
        _at("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_person"),
        sa.UniqueConstraint("nhs_number", name="uq_person_nhs_number"),
    )
    op.create_table(
        "person_phone",
        sa.Column("person_id", sa.Integer, nullable=False),
        sa.Column("e164", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "e164", name="pk_person_phone"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name="fk_person_phone_person_id_person", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_person_phone_e164", "person_phone", ["e164"])

    op.create_table(
        "referrer",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("ods_code", sa.String(12), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_referrer"),
    )
    op.create_table(
        "referrer_phone",
        sa.Column("referrer_id", sa.Integer, nullable=False),
        sa.Column("e164", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("referrer_id", "e164", name="pk_referrer_phone"),
        sa.ForeignKeyConstraint(
            ["referrer_id"],
            ["referrer.id"],
            name="fk_referrer_phone_referrer_id_referrer",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_referrer_phone_e164", "referrer_phone", ["e164"])

    op.create_table(
        "contact",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("caller_e164", sa.String(20), nullable=True),
        sa.Column("person_id", sa.Integer, nullable=True),
        sa.Column("referrer_id", sa.Integer, nullable=True),
        sa.Column("caller_type", sa.String(20), nullable=False),
        sa.Column("service", sa.String(50), nullable=True),
        sa.Column("queue", sa.String(100), nullable=True),
        sa.Column("agent_id", sa.String(100), nullable=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        _at("started_at", nullable=False),
        _at("ivr_ended_at"),
        _at("queued_at"),
        _at("offered_at"),
        _at("answered_at"),
        _at("talk_ended_at"),
        sa.Column("hold_ms", sa.Integer, nullable=False),
        _at("wrap_up_ended_at"),
        _at("ended_at"),
        sa.Column("outcome_code", sa.String(50), nullable=True),
        sa.Column("first_contact_resolution", sa.Boolean, nullable=True),
        sa.Column("reason_codes", JSON, nullable=False),
        sa.Column("failure_demand", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name="fk_contact_person_id_person"),
        sa.ForeignKeyConstraint(["referrer_id"], ["referrer.id"], name="fk_contact_referrer_id_referrer"),
        sa.CheckConstraint(
            "caller_type IN ('professional', 'public', 'carer', 'unknown')", name="ck_contact_caller_type"
        ),
        sa.CheckConstraint("direction IN ('inbound', 'outbound')", name="ck_contact_direction"),
        sa.CheckConstraint("hold_ms >= 0", name="ck_contact_hold_ms"),
    )
    op.create_index("ix_contact_person_id_started_at", "contact", ["person_id", "started_at"])
    op.create_index("ix_contact_caller_e164_started_at", "contact", ["caller_e164", "started_at"])
    op.create_index("ix_contact_referrer_id_started_at", "contact", ["referrer_id", "started_at"])

    op.create_table(
        "service_request",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("reference", sa.String(32), nullable=True),
        sa.Column("person_id", sa.Integer, nullable=False),
        sa.Column("service", sa.String(50), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        _at("due_at"),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_service_request"),
        sa.UniqueConstraint("reference", name="uq_service_request_reference"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name="fk_service_request_person_id_person"),
    )
    op.create_index("ix_service_request_person_id_status", "service_request", ["person_id", "status"])

    op.create_table(
        "service_request_status",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("service_request_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        _at("at", nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_service_request_status"),
        sa.ForeignKeyConstraint(
            ["service_request_id"],
            ["service_request.id"],
            name="fk_service_request_status_service_request_id_service_request",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_service_request_status_service_request_id_at",
        "service_request_status",
        ["service_request_id", "at"],
    )

    op.create_table(
        "allocation",
        sa.Column("person_id", sa.Integer, nullable=False),
        sa.Column("service", sa.String(50), nullable=False),
        sa.Column("worker_id", sa.String(100), nullable=False),
        sa.Column("worker_name", sa.String(200), nullable=False),
        _at("since", nullable=False),
        sa.PrimaryKeyConstraint("person_id", "service", name="pk_allocation"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name="fk_allocation_person_id_person", ondelete="CASCADE"
        ),
    )

    op.create_table(
        "audit",
        sa.Column("id", BIG_ID, nullable=False),
        _at("at", nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("role", sa.String(50), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("subject_type", sa.String(50), nullable=False),
        sa.Column("subject_id", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit_subject_id_at", "audit", ["subject_id", "at"])
    op.create_index("ix_audit_actor_at", "audit", ["actor", "at"])


def downgrade() -> None:
    for table in (
        "audit",
        "allocation",
        "service_request_status",
        "service_request",
        "contact",
        "referrer_phone",
        "referrer",
        "person_phone",
        "person",
    ):
        op.drop_table(table)
