"""Call use cases, shared by the REST API, the simulator and every telephony adapter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from cti.config.centre import CentreConfig
from cti.domain.clock import Clock
from cti.domain.codes import FAILURE_DEMAND_REASONS, OUTCOME_CODES, REASON_CODES
from cti.domain.errors import Conflict, InvalidInput, NotFound
from cti.domain.model import Contact
from cti.domain.states import TERMINAL_CONTACT, ContactState
from cti.records.repository import Records
from cti.router.service import Placement, Router
from cti.telephony.port import InboundCall, Telephony

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class WrapUp:
    outcome_code: str
    first_contact_resolution: bool
    reason_codes: tuple[str, ...] = ()

    def validate(self) -> None:
        if self.outcome_code not in OUTCOME_CODES:
            raise InvalidInput(
                f"unknown outcome code '{self.outcome_code}'",
                error_id="unknown_outcome_code",
                field="outcome_code",
            )
        for code in self.reason_codes:
            if code not in REASON_CODES:
                raise InvalidInput(
                    f"unknown reason code '{code}'", error_id="unknown_reason_code", field="reason_codes"
                )


class CallService:
    def __init__(
        self, router: Router, records: Records, telephony: Telephony, centre: CentreConfig, clock: Clock
    ) -> None:
        self.router = router
        self.records = records
        self.telephony = telephony
        self.centre = centre
        self.clock = clock

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now_ms() / 1000, tz=UTC)

    # --- from telephony -----------------------------------------------------------------------
    async def call_arrived(self, call: InboundCall) -> Placement:
        """Identify the caller, record the contact and queue it (or transfer it out of hours)."""
        if call.queue not in self.centre.queues:
            raise InvalidInput(f"unknown queue '{call.queue}'", error_id="unknown_queue", field="queue")
        now = self._now()
        service = self.centre.queues[call.queue].service
        match = await self.records.lookup_by_phone(call.cli)
        person_id = match.people[0].id if len(match.people) == 1 else None
        if call.nhs_number:
            person = await self.records.find_person_by_nhs(call.nhs_number)
            person_id = person.id if person is not None else person_id
        referrer_id = match.referrers[0].id if len(match.referrers) == 1 else None
        repeat = False
        named_worker = None
        if person_id is not None:
            policy = self.centre.routing
            recent = await self.records.contacts_in_days(person_id, policy.repeat_window_days, now)
            repeat = recent >= policy.repeat_threshold
            allocation = await self.records.allocated_worker(person_id, service)
            named_worker = allocation.worker_id if allocation is not None else None
        await self.records.record_contact(
            contact_id=call.call_id,
            caller_e164=match.e164,
            person_id=person_id,
            referrer_id=referrer_id,
            caller_type=call.caller_type,
            service=service,
            queue=call.queue,
            started_at=now,
            # Queued in the same write (one statement, not two, per call); undone below if not queued.
            ivr_ended_at=now,
            queued_at=now,
        )
        placement = await self.router.enqueue(
            call.call_id,
            call.queue,
            caller_type=call.caller_type,
            attrs={
                "dialled": call.dialled,
                "withheld": match.withheld,
                "matches": len(match.people) + len(match.referrers),
                "ivr": dict(call.ivr),
                "service": service,
            },
            named_worker=named_worker,
            repeat_caller=repeat,
            priority=call.priority,
        )
        if placement.transfer_to is not None:
            await self.records.update_contact(
                call.call_id,
                ended_at=now,
                outcome_code="transferred_out_of_hours",
                ivr_ended_at=None,
                queued_at=None,
            )
            await self.telephony.transfer_out(call.call_id, placement.transfer_to)
        elif placement.queue != call.queue:
            await self.records.update_contact(call.call_id, queue=placement.queue)
        log.info(
            "call.arrived",
            contact=call.call_id,
            queue=placement.queue,
            repeat=repeat,
            named=named_worker is not None,
            out_of_hours=placement.out_of_hours,
        )
        return placement

    async def caller_hung_up(self, call_id: str) -> None:
        try:
            contact = await self.router.store.get_contact(call_id)
        except NotFound:
            log.info("call.hangup_unknown", contact=call_id)
            return
        if contact.state in TERMINAL_CONTACT or contact.state is ContactState.WRAP_UP:
            return  # already over: providers repeat hang-ups
        await self.router.hangup(call_id)

    # --- from the agent -----------------------------------------------------------------------
    async def accept(self, agent_id: str, offer_id: str) -> Contact:
        contact = await self.router.accept(offer_id, agent_id)
        await self.telephony.connect(contact.id, agent_id)
        return contact

    async def reject(self, agent_id: str, offer_id: str) -> Contact:
        return await self.router.reject(offer_id, agent_id)

    async def hold(self, agent_id: str, contact_id: str) -> Contact:
        contact = await self.router.hold(contact_id, agent_id)
        await self.telephony.hold(contact_id)
        return contact

    async def resume(self, agent_id: str, contact_id: str) -> Contact:
        contact = await self.router.resume(contact_id, agent_id)
        await self.telephony.resume(contact_id)
        return contact

    async def hangup(self, agent_id: str, contact_id: str) -> Contact:
        contact = await self.router.end_call(contact_id, agent_id)
        await self.telephony.hangup(contact_id)
        return contact

    async def wrap_up(self, agent_id: str, contact_id: str, wrap: WrapUp) -> Contact:
        wrap.validate()
        contact = await self.router.store.get_contact(contact_id)
        if contact.agent_id != agent_id:
            raise NotFound("no such contact for this agent", error_id="contact_not_found")
        if contact.state is not ContactState.WRAP_UP:
            raise Conflict(f"contact is {contact.state}, not in wrap-up", error_id="contact_not_in_wrap_up")
        await self.records.update_contact(
            contact_id,
            outcome_code=wrap.outcome_code,
            first_contact_resolution=wrap.first_contact_resolution,
            reason_codes=list(wrap.reason_codes),
            failure_demand=any(code in FAILURE_DEMAND_REASONS for code in wrap.reason_codes),
        )
        return await self.router.finish_wrap_up(contact_id, agent_id)
