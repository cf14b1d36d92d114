"""The screen-pop's shape: a summary for identifying the caller and routing the call, nothing more.

Information governance: data minimisation. No addresses, no notes, no free text from service
requests; the full record is opened on demand (``GET /api/people/{id}?reason=``), which is audited.
Times are ISO 8601 UTC in JSON; ``*_at`` integers elsewhere in the channel are epoch milliseconds.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MatchOutcome = Literal["matched", "ambiguous", "unknown", "withheld", "unrecognised", "unavailable"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Routing(Strict):
    """Why this agent was offered the call (from the routing decision)."""

    rule: str = Field(
        description="the router's rule: named_worker, longest_idle_agent, first_waiting_contact"
    )
    why: str = Field(description="the rule in words, e.g. 'named worker', 'longest idle'")
    target: str = Field(description="the routing target matched: a queue, or @agent for a named worker")
    target_name: str | None = Field(description="the queue's or the named worker's display name")


class PopContact(Strict):
    id: str
    number: str | None = Field(description="the caller's number in national format; null if withheld")
    withheld: bool
    dialled: str | None = Field(description="the number the caller dialled (national format)")
    caller_type: str | None = Field(description="professional, public, carer or unknown (from the IVR)")
    ivr: dict[str, str] = Field(description="choices made in the IVR, e.g. language")
    queue: str | None
    queue_name: str | None
    service: str | None
    priority: int | None
    waited_s: int | None = Field(description="seconds since the caller joined the queue")
    routing: Routing | None


class RepeatCaller(Strict):
    repeat: bool = Field(description="contacts in the window reached the policy's threshold")
    contacts: int = Field(description="contacts in the window, this one included")
    days: int
    threshold: int


class RecentContact(Strict):
    date: datetime
    service: str | None
    outcome: str | None = Field(description="outcome code; null while a contact is unfinished")


class OpenServiceRequest(Strict):
    reference: str
    service: str
    status: str
    due_at: datetime | None
    overdue: bool


class ServiceActivity(Strict):
    service: str
    contacts: int
    referrals: int


class ReferralPattern(Strict):
    months: int
    contacts: int
    referrals: int
    services: list[ServiceActivity] = Field(description="busiest service first")


class AllocatedWorker(Strict):
    service: str
    worker_id: str
    worker_name: str
    since: datetime


class PersonCandidate(Strict):
    id: int
    name: str
    nhs_number: str | None = Field(description="3-3-4, e.g. '999 000 0018'")
    date_of_birth: date | None
    flags: list[str]
    communication_needs: dict[str, str] = Field(description="e.g. {'interpreter': 'pl'}")
    phone_kind: str | None = Field(description="how the caller's number is known for this person")
    repeat_caller: RepeatCaller
    recent_contacts: list[RecentContact] = Field(description="the last 3 before this one, newest first")
    open_service_requests: list[OpenServiceRequest] = Field(description="soonest due first")
    referral_pattern: ReferralPattern
    allocated_worker: AllocatedWorker | None = Field(description="for this contact's service")
    allocations: list[AllocatedWorker]


class ReferrerCandidate(Strict):
    id: int
    name: str
    role: str
    organisation: str


class PopCaller(Strict):
    match: MatchOutcome
    matched_by: Literal["phone", "nhs_number"] | None
    prompt: str | None = Field(description="what the agent should do first, e.g. ask identity questions")
    people: list[PersonCandidate] = Field(description="at most 5; none when withheld")
    referrers: list[ReferrerCandidate]
    more: bool = Field(description="more candidates share the number than are shown")


class ScreenPop(Strict):
    contact: PopContact
    caller: PopCaller
    built_at: int = Field(description="epoch ms when the pop was built")
