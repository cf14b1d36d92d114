"""The names other packages may import from ``cti.records``; changing them is a decision."""

from __future__ import annotations

import inspect

import cti.records
from cti.records import Records


def test_public_names() -> None:
    assert set(cti.records.__all__) == {
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
    }


def test_records_methods_are_async() -> None:
    public = {
        name: member
        for name, member in inspect.getmembers(Records, inspect.isfunction)
        if not name.startswith("_")
    }
    assert {
        "lookup_by_phone",
        "get_person",
        "find_person_by_nhs",
        "recent_contacts",
        "open_service_requests",
        "service_request_by_reference",
        "allocated_worker",
        "allocations",
        "contacts_in_days",
        "referral_pattern",
        "record_contact",
        "update_contact",
        "get_contact",
        "audit_view",
        "audit_entries",
    } <= set(public)
    assert all(inspect.iscoroutinefunction(member) for member in public.values())
