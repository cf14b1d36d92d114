"""A year of contacts, service requests and allocations for the demo people (see ``demo_data``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from cti.records import demo_vocabulary as vocab
from cti.records.contacts import is_failure_demand
from cti.records.demo_people import Household

_VISIT_PATH = ("received", "triaged", "allocated", "visit_booked", "completed")
_PAPER_PATH = ("received", "triaged", "allocated", "completed")
_PAPER_SERVICES = frozenset({"county_csc", "bed_bureau"})
# Contacts per person over the year: most call rarely, a few call often.
_CONTACT_COUNTS = (0, 1, 2, 3, 4, 5, 7, 10, 14)
_CONTACT_WEIGHTS = (28, 24, 16, 10, 7, 6, 5, 3, 1)
_SEGMENTS = ("offered_at", "answered_at", "talk_ended_at", "wrap_up_ended_at", "ended_at")
_HOURS = tuple(range(7, 22))
_HOUR_WEIGHTS = (2, 9, 12, 11, 10, 8, 9, 9, 8, 7, 5, 3, 3, 2, 1)


class ContactHistory:
    """A year of contacts, service requests and allocations for the people built already."""

    def __init__(
        self,
        rng: random.Random,
        now: datetime,
        referrers: list[dict[str, Any]],
        referrer_phones: list[tuple[int, str]],
    ) -> None:
        self.rng, self.now = rng, now
        self.contacts: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.allocations: list[dict[str, Any]] = []
        self.services = list(vocab.SERVICE_WEIGHTS)
        self.service_weights = list(vocab.SERVICE_WEIGHTS.values())
        self.gp_referrers: dict[int, list[int]] = {}
        self.community_referrers: list[int] = []
        for index, row in enumerate(referrers):
            if row["role"] == "GP":
                self.gp_referrers.setdefault(row["practice"], []).append(index)
            else:
                self.community_referrers.append(index)
        self.referrer_number = dict(referrer_phones)

    def _moment(self) -> datetime:
        day = (self.now - timedelta(days=self.rng.randrange(1, 365))).date()
        hour = self.rng.choices(_HOURS, _HOUR_WEIGHTS)[0]
        at = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
        return at + timedelta(seconds=self.rng.randrange(3600))

    def _service(self, main: str) -> str:
        return main if self.rng.random() < 0.75 else self.rng.choices(self.services, self.service_weights)[0]

    def _caller(self, household: Household, member: dict[str, Any]) -> tuple[str, str | None, int | None]:
        """(caller type, caller number, referrer index) for one contact about ``member``."""
        roll = self.rng.random()
        if roll < 0.25:
            gps = self.gp_referrers.get(household.practice, [])
            pool = gps if gps and self.rng.random() < 0.6 else self.community_referrers
            index = self.rng.choice(pool)
            return "professional", self.referrer_number.get(index), index
        caller_type = "public" if roll < 0.78 else "carer"
        numbers = [n for n, _ in member["_phones"]] if caller_type == "public" else []
        numbers += [household.landline] if household.landline else []
        if not numbers or self.rng.random() < 0.06:
            return caller_type, None, None  # withheld
        return caller_type, self.rng.choice(numbers), None

    def _segments(self, start: datetime) -> dict[str, Any]:
        r = self.rng
        ivr_end = start + timedelta(seconds=r.randint(15, 60))
        wait = timedelta(seconds=min(int(r.expovariate(1 / 50)), 1200))
        times: dict[str, Any] = dict.fromkeys(_SEGMENTS)
        times.update(ivr_ended_at=ivr_end, queued_at=ivr_end, hold_ms=0, abandoned=False)
        if r.random() < 0.03 + (0.12 if wait > timedelta(minutes=2) else 0.0):
            times.update(ended_at=ivr_end + wait, abandoned=True)
            return times
        offered = ivr_end + wait
        answered = offered + timedelta(seconds=r.randint(3, 12))
        talk_end = answered + timedelta(seconds=min(int(r.lognormvariate(5.9, 0.5)), 3600))
        wrap_end = talk_end + timedelta(seconds=r.randint(30, 240))
        times.update(
            offered_at=offered,
            answered_at=answered,
            talk_ended_at=talk_end,
            hold_ms=r.randint(15_000, 180_000) if r.random() < 0.3 else 0,
            wrap_up_ended_at=wrap_end,
            ended_at=wrap_end,
        )
        return times

    def _request(self, person_index: int, service: str, created: datetime) -> dict[str, Any]:
        r = self.rng
        due_hours = vocab.SERVICE_DUE_HOURS[service]
        path: tuple[str, ...] = _PAPER_PATH if service in _PAPER_SERVICES else _VISIT_PATH
        if r.random() < 0.04:
            path = ("received", "triaged", "cancelled")
        # About a third get stuck somewhere along the way: those are the ones people chase.
        slowness = r.uniform(2.0, 6.0) if r.random() < 0.35 else 1.0
        history, at = [], created
        for status in path:
            if at > self.now:
                break
            history.append((status, at))
            at += timedelta(hours=due_hours * r.uniform(0.1, 0.5) * slowness)
        return {
            "person_index": person_index,
            "service": service,
            "summary": r.choice(vocab.SERVICE_SUMMARIES[service]),
            "due_at": created + timedelta(hours=due_hours),
            "created_at": created,
            "history": history,
        }

    @staticmethod
    def _status_at(request: dict[str, Any], at: datetime) -> str | None:
        seen = [status for status, when in request["history"] if when <= at]
        return seen[-1] if seen else None

    def person(self, household: Household, member: dict[str, Any], person_index: int) -> None:
        r = self.rng
        main = r.choices(self.services, self.service_weights)[0]
        count = r.choices(_CONTACT_COUNTS, _CONTACT_WEIGHTS)[0]
        requests: list[dict[str, Any]] = []
        for start in sorted(self._moment() for _ in range(count)):
            service = self._service(main)
            caller_type, number, referrer_index = self._caller(household, member)
            segments = self._segments(start)
            abandoned = segments.pop("abandoned")
            open_then = [
                q for q in requests if self._status_at(q, start) not in (None, "completed", "cancelled")
            ]
            overdue = [q for q in open_then if q["due_at"] < start]
            chased = overdue if overdue and r.random() < 0.6 else open_then if r.random() < 0.25 else []
            reasons: list[str] = []
            fcr: bool | None = None
            if abandoned:
                outcome = "abandoned"
            elif chased:
                service, reasons, outcome, fcr = (
                    chased[0]["service"],
                    ["progress_chase"],
                    "information_given",
                    False,
                )
            else:
                reasons = [r.choice(vocab.SERVICE_REASONS[service])]
                roll = r.random()
                if roll < 0.35:
                    outcome, fcr = "referral_made", r.random() < 0.7
                    requests.append(self._request(person_index, service, segments["ended_at"]))
                elif roll < 0.8:
                    outcome, fcr = r.choice(vocab.OUTCOMES_RESOLVED), r.random() < 0.85
                else:
                    outcome, fcr = r.choice(vocab.OUTCOMES_ONWARD), False
            audience = "professional" if caller_type == "professional" else "public"
            self.contacts.append(
                {
                    "started_at": start,
                    "caller_e164": number,
                    "person_index": person_index,
                    "referrer_index": referrer_index,
                    "caller_type": caller_type,
                    "service": service,
                    "queue": f"{service}-{audience}",
                    "agent_id": None if abandoned else f"agent{r.randint(1, 20):02d}",
                    "channel": "voice",
                    "direction": "inbound",
                    "outcome_code": outcome,
                    "first_contact_resolution": fcr,
                    "reason_codes": reasons,
                    "failure_demand": is_failure_demand(reasons),
                    **segments,
                }
            )
        if r.random() < 0.08:
            # A recent referral by a professional, still in progress: something to see on a screen-pop.
            requests.append(
                self._request(person_index, main, self.now - timedelta(hours=r.uniform(1, 21 * 24)))
            )
        self.requests.extend(requests)
        if r.random() < 0.2:
            workers = vocab.SPECIALISTS if r.random() < 0.7 else vocab.AGENTS
            worker_id = r.choice(sorted(workers))
            since = self.now - timedelta(days=r.randrange(1, 365), minutes=r.randrange(1440))
            self.allocations.append(
                {
                    "person_index": person_index,
                    "service": main,
                    "worker_id": worker_id,
                    "worker_name": workers[worker_id],
                    "since": since,
                }
            )
