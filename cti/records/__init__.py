"""Caller records: people, referrers, contacts, service requests, allocations and the access audit.

SQLAlchemy Core over SQLite (the default, a file under ``./var``) or PostgreSQL, with Alembic
migrations shipped in the package::

    await migrate(url)
    engine = create_engine(url)
    records = Records(engine)
    ...
    await engine.dispose()
"""

from cti.records.engine import DEFAULT_URL, create_engine, migrate, migrate_engine
from cti.records.models import (
    Allocation,
    AuditEntry,
    CallerMatch,
    Contact,
    Person,
    PersonPhone,
    PersonSummary,
    ReferralPattern,
    ReferrerSummary,
    ServiceActivity,
    ServiceRequest,
    StatusChange,
)
from cti.records.repository import Records

__all__ = [
    "DEFAULT_URL",
    "Allocation",
    "AuditEntry",
    "CallerMatch",
    "Contact",
    "Person",
    "PersonPhone",
    "PersonSummary",
    "Records",
    "ReferralPattern",
    "ReferrerSummary",
    "ServiceActivity",
    "ServiceRequest",
    "StatusChange",
    "create_engine",
    "migrate",
    "migrate_engine",
]
