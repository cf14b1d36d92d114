"""Example message data for the catalogue page (synthetic: 999-range NHS number, Ofcom drama numbers)."""

from __future__ import annotations

from typing import Any

AT = 1_767_780_000_000  # 2026-01-07T10:00:00Z

SCREEN_POP: dict[str, Any] = {
    "contact": {
        "id": "sim-4f1c2a9b7e01",
        "number": "07700 900123",
        "withheld": False,
        "dialled": "0116 496 0001",
        "caller_type": "public",
        "ivr": {"language": "pl", "menu": "2"},
        "queue": "chs_spa",
        "queue_name": "Community nursing and therapy",
        "service": "chs_spa",
        "priority": 5,
        "waited_s": 42,
        "routing": {
            "rule": "longest_idle_agent",
            "why": "longest idle",
            "target": "chs_spa",
            "target_name": "Community nursing and therapy",
        },
    },
    "caller": {
        "match": "matched",
        "matched_by": "phone",
        "prompt": None,
        "people": [
            {
                "id": 115,
                "name": "Andrzej Wójcik",
                "nhs_number": "999 000 1200",
                "date_of_birth": "1938-03-14",
                "flags": ["lives_alone"],
                "communication_needs": {"interpreter": "pl"},
                "phone_kind": "home",
                "repeat_caller": {"repeat": True, "contacts": 3, "days": 7, "threshold": 2},
                "recent_contacts": [
                    {"date": "2026-01-05T09:12:00+00:00", "service": "chs_spa", "outcome": "progress_update"},
                    {"date": "2025-12-19T15:40:00+00:00", "service": "chs_spa", "outcome": "referral_made"},
                ],
                "open_service_requests": [
                    {
                        "reference": "SR-000123",
                        "service": "chs_spa",
                        "status": "visit_booked",
                        "due_at": "2026-01-08T12:00:00+00:00",
                        "overdue": False,
                    }
                ],
                "referral_pattern": {
                    "months": 12,
                    "contacts": 4,
                    "referrals": 2,
                    "services": [
                        {"service": "chs_spa", "contacts": 3, "referrals": 2},
                        {"service": "city_spoc", "contacts": 1, "referrals": 0},
                    ],
                },
                "allocated_worker": {
                    "service": "chs_spa",
                    "worker_id": "specialist03",
                    "worker_name": "Megan Price",
                    "since": "2025-11-02T10:00:00+00:00",
                },
                "allocations": [
                    {
                        "service": "chs_spa",
                        "worker_id": "specialist03",
                        "worker_name": "Megan Price",
                        "since": "2025-11-02T10:00:00+00:00",
                    }
                ],
            }
        ],
        "referrers": [],
        "more": False,
    },
    "built_at": AT + 3,
}

AGENT_STATE: dict[str, Any] = {"status": "available", "reason": None, "engine": "offered", "since": AT}

OFFER_CREATED: dict[str, Any] = {
    "offer": "sim-4f1c2a9b7e01.o1",
    "contact": "sim-4f1c2a9b7e01",
    "expires_at": AT + 20_000,
    "screen_pop": SCREEN_POP,
}

OFFER_ENDED: dict[str, Any] = {
    "offer": "sim-4f1c2a9b7e01.o1",
    "contact": "sim-4f1c2a9b7e01",
    "why": "cancelled",
}

CONTACT_UPDATED: dict[str, Any] = {
    "contact": "sim-4f1c2a9b7e01",
    "state": "wrap_up",
    "change": "wrap_up",
    "queue": "chs_spa",
    "wrap_up_until": AT + 120_000,
    "by": "agent",
}

PASSED_THROUGH: dict[str, Any] = {
    "type": "handover.requested",
    "data": {"handover": "h-17", "contact": "sim-4f1c2a9b7e01", "agent": "agent01", "skill": "SOCIAL_WORKER"},
}

HANDOVER_NOTE: dict[str, Any] = {
    "handover": "h-7f3a9c",
    "contact": "sim-1a20adbe5afa3b1-000042",
    "consult_contact": "sim-1a20adbe5afa3b1-000042.h1",
    "from_agent": "agent14",
    "note": {
        "reason": "Low mood, not eating for three days",
        "triage_outcome": "same-day mental health assessment",
        "risk_flags": ["lives_alone"],
        "told_caller": "A mental health practitioner will speak to them now",
        "free_text": "Daughter is calling; she has power of attorney.",
    },
    "notes": [],
    "caller": {"match": "matched", "candidates": 1},
}
HANDOVER_NOTE_ADDED: dict[str, Any] = {
    "handover": "h-7f3a9c",
    "note": {"at": 1795478515184, "author": "specialist04", "text": "GP visited last week"},
}
HANDOVER_ENDED: dict[str, Any] = {
    "handover": "h-7f3a9c",
    "state": "completed",
    "reason": None,
    "caller": "with_specialist",
}
HANDOVER_STATE: dict[str, Any] = {
    "handover": "h-7f3a9c",
    "contact": "sim-1a20adbe5afa3b1-000042",
    "consult_contact": "sim-1a20adbe5afa3b1-000042.h1",
    "from_agent": "agent14",
    "specialist": "specialist04",
    "target": "amh_spa",
    "worker": None,
    "previous": "specialist_reserved",
    "event": "connect",
    "state": "consulting",
    "reason": None,
    "caller": "held",
    "expires_at": 1795478560000,
}
