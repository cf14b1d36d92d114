"""What the records layer returns: plain, frozen data. No database types leak out of the package."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, get_args

from cti.domain.codes import FAILURE_DEMAND_REASONS
from cti.domain.identifiers import display_phone, format_nhs_number

CallerType = Literal["professional", "public", "carer", "unknown"]
CALLER_TYPES: frozenset[str] = frozenset(get_args(CallerType))
Direction = Literal["inbound", "outbound"]
DIRECTIONS: frozenset[str] = frozenset(get_args(Direction))

ServiceRequestStatus = Literal[
    "received", "triaged", "allocated", "visit_booked", "in_progress", "completed", "closed", "cancelled"
]
SERVICE_REQUEST_STATUSES: frozenset[str] = frozenset(get_args(ServiceRequestStatus))
CLOSED_STATUSES: frozenset[str] = frozenset({"completed", "closed", "cancelled"})
OPEN_STATUSES: frozenset[str] = SERVICE_REQUEST_STATUSES - CLOSED_STATUSES

# Reason codes that mean the system failed the caller earlier (Seddon's "failure demand"): a contact
# carrying one is marked ``failure_demand`` unless the caller of ``update_contact`` says otherwise.
# One list for the whole product: cti.domain.codes.
FAILURE_DEMAND_CODES: frozenset[str] = frozenset(FAILURE_DEMAND_REASONS)

MatchOutcome = Literal["withheld", "unrecognised", "unknown", "matched", "ambiguous"]


@dataclass(frozen=True, slots=True)
class PersonSummary:
    """Enough to confirm identity on a screen-pop; the full record is fetched (and audited) on demand."""

    id: int
    nhs_number: str | None
    given_name: str
    family_name: str
    date_of_birth: date | None
    postcode: str | None
    flags: list[str]
    communication_needs: dict[str, str]
    phone_kind: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def nhs_display(self) -> str | None:
        return format_nhs_number(self.nhs_number) if self.nhs_number else None


@dataclass(frozen=True, slots=True)
class ReferrerSummary:
    id: int
    name: str
    role: str
    organisation: str
    ods_code: str | None


@dataclass(frozen=True, slots=True)
class CallerMatch:
    """Who may be calling. Several people when a number is shared; nobody when it is withheld."""

    withheld: bool
    e164: str | None
    people: list[PersonSummary] = field(default_factory=list)
    referrers: list[ReferrerSummary] = field(default_factory=list)

    @property
    def outcome(self) -> MatchOutcome:
        if self.withheld:
            return "withheld"
        if self.e164 is None:
            return "unrecognised"
        found = len(self.people) + len(self.referrers)
        if found == 0:
            return "unknown"
        return "matched" if found == 1 else "ambiguous"

    @property
    def display_number(self) -> str | None:
        return display_phone(self.e164) if self.e164 else None


@dataclass(frozen=True, slots=True)
class PersonPhone:
    e164: str
    kind: str

    @property
    def display(self) -> str:
        return display_phone(self.e164)


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    nhs_number: str | None
    given_name: str
    family_name: str
    date_of_birth: date | None
    address: str | None
    postcode: str | None
    communication_needs: dict[str, str]
    flags: list[str]
    created_at: datetime
    phones: list[PersonPhone] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


@dataclass(frozen=True, slots=True)
class Contact:
    """One contact (a call) with its segment times; all times are timezone-aware UTC."""

    id: str
    started_at: datetime
    caller_e164: str | None
    person_id: int | None
    referrer_id: int | None
    caller_type: CallerType
    service: str | None
    queue: str | None
    agent_id: str | None
    channel: str
    direction: Direction
    ivr_ended_at: datetime | None
    queued_at: datetime | None
    offered_at: datetime | None
    answered_at: datetime | None
    talk_ended_at: datetime | None
    hold_ms: int
    wrap_up_ended_at: datetime | None
    ended_at: datetime | None
    outcome_code: str | None
    first_contact_resolution: bool | None
    reason_codes: list[str]
    failure_demand: bool


@dataclass(frozen=True, slots=True)
class StatusChange:
    status: str
    at: datetime
    note: str | None


@dataclass(frozen=True, slots=True)
class ServiceRequest:
    id: int
    reference: str
    person_id: int
    service: str
    summary: str
    status: str
    due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    history: list[StatusChange] = field(default_factory=list)  # oldest first

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < now


@dataclass(frozen=True, slots=True)
class Allocation:
    """The worker a person is allocated to in one service (named-worker routing, warm handover)."""

    person_id: int
    service: str
    worker_id: str
    worker_name: str
    since: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    subject_type: str
    subject_id: str
    reason: str
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ServiceActivity:
    service: str
    contacts: int
    referrals: int
    last_contact_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReferralPattern:
    """Contacts and referrals (service requests opened) per service in a window; busiest first."""

    person_id: int
    since: datetime
    until: datetime
    services: list[ServiceActivity]

    @property
    def total_contacts(self) -> int:
        return sum(s.contacts for s in self.services)

    @property
    def total_referrals(self) -> int:
        return sum(s.referrals for s in self.services)

    def for_service(self, service: str) -> ServiceActivity | None:
        return next((s for s in self.services if s.service == service), None)
