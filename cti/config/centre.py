"""A contact centre as data: the folder of YAML files that says which services, queues, numbers,
skills, hours and users there are, loaded and checked as a whole at start.

Files (all in one folder; ``routing.yaml`` may be left out to take the defaults)::

    skills.yaml    skills: [{id, name}]
    services.yaml  services: [{id, name, organisation, description}]
    hours.yaml     calendars: [{id, timezone, weekly, bank_holidays, closed_dates, extra_dates}]
    queues.yaml    queues: [{id, name, service, requirements, base_priority, hours, out_of_hours, ...}]
    numbers.yaml   numbers: [{number, name, kind, flow, queue, service}]
    users.yaml     users: [{username, display_name, role, password_hash, organisation, team, skills}]
    routing.yaml   {offer_timeout_s, wrap_up_timeout_s, professional_boost, ...}

Any problem raises ConfigError naming the file, the entry (its id, username or number) and the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel

from cti.config import _references, hours
from cti.config._entries import section, validate_entries, validate_one
from cti.config._yaml import read_yaml
from cti.config.hours import ALWAYS_OPEN_ID, HoursCalendar, always_open_calendar, bank_holidays
from cti.config.models import (
    Number,
    OutOfHours,
    Queue,
    Requirement,
    RoutingPolicy,
    Service,
    Skill,
    User,
    to_e164,
)
from cti.domain.errors import ConfigError, NotFound
from cti.domain.model import RoutingPlan, Stage, personal_target

DEMO_DIR = Path(__file__).with_name("demo")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class CentreConfig:
    folder: Path
    skills: Mapping[str, Skill]
    services: Mapping[str, Service]
    calendars: Mapping[str, HoursCalendar]
    queues: Mapping[str, Queue]
    numbers: Mapping[str, Number]  # by E.164
    users: Mapping[str, User]
    routing: RoutingPolicy
    _targets: Mapping[str, tuple[Requirement, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        targets: dict[str, tuple[Requirement, ...]] = {}
        for queue in self.queues.values():
            targets[queue.id] = queue.requirements
            for index, rule in enumerate(queue.overflow):
                if rule.to_skills is not None:
                    targets[queue.overflow_target(index)] = rule.to_skills
        object.__setattr__(self, "_targets", MappingProxyType(targets))

    # --- routing ----------------------------------------------------------------------------------
    @property
    def routing_targets(self) -> Mapping[str, tuple[Requirement, ...]]:
        """Every routing target and the skills it needs: each queue, and ``<queue>~overflow<n>`` for
        each ``to_skills`` overflow rule."""
        return self._targets

    def targets_for(self, skills: Mapping[str, int]) -> list[str]:
        """The routing targets an agent with ``skills`` serves (not including its personal one)."""
        return [
            target
            for target, requirements in self._targets.items()
            if all(requirement.met_by(skills) for requirement in requirements)
        ]

    def queue(self, queue_id: str) -> Queue:
        try:
            return self.queues[queue_id]
        except KeyError:
            raise NotFound(
                f"unknown queue '{queue_id}'", error_id="queue_not_found", queue=queue_id
            ) from None

    def plan_for(
        self, queue_id: str, named_worker: str | None = None, named_first_ms: int | None = None
    ) -> RoutingPlan:
        """How a contact entering ``queue_id`` widens its targets over time.

        With a named worker (the allocated social worker, say) only that worker is tried for
        ``named_first_ms`` (default: routing.yaml's named_worker_first_s) before the queue joins in.
        Overflow times always count from enqueue.
        """
        queue = self.queue(queue_id)
        stages: list[Stage] = []
        if named_worker is None:
            stages.append(Stage(0, (queue.id,), "queue"))
        else:
            if named_first_ms is None:
                named_first_ms = self.routing.named_worker_first_s * 1000
            if named_first_ms < 0:
                raise ValueError("named_first_ms must not be negative")
            stages.append(Stage(0, (personal_target(named_worker),), "named_worker"))
            stages.append(Stage(named_first_ms, (queue.id,), "queue"))
        for index, rule in enumerate(queue.overflow):
            stages.append(Stage(rule.after_s * 1000, (queue.overflow_target(index),), "overflow"))
        stages.sort(key=lambda stage: stage.after_ms)  # stable: ties keep their order
        return RoutingPlan(tuple(stages))

    # --- numbers ----------------------------------------------------------------------------------
    def number_for(self, dialled: str) -> Number | None:
        """The configured number ``dialled`` (national or E.164), or None."""
        try:
            return self.numbers.get(to_e164(dialled))
        except ValueError:
            return None

    def queue_for_number(self, dialled: str) -> str | None:
        """The queue a per-service number goes straight to; None for numbers that go to an IVR menu."""
        number = self.number_for(dialled)
        return number.queue if number is not None else None

    # --- hours ------------------------------------------------------------------------------------
    def calendar_of(self, queue_id: str) -> HoursCalendar:
        return self.calendars[self.queue(queue_id).hours]

    def is_open(self, queue_id: str, at: datetime) -> bool:
        return hours.is_open(self.calendar_of(queue_id), at)

    def next_change(self, queue_id: str, at: datetime) -> datetime | None:
        return hours.next_change(self.calendar_of(queue_id), at)

    def out_of_hours(self, queue_id: str) -> OutOfHours:
        """Where calls go while ``queue_id`` is closed. Every queue whose calendar closes has one (checked
        at load); asking for an always-open queue without one raises NotFound."""
        ooh = self.queue(queue_id).out_of_hours
        if ooh is None:
            raise NotFound(
                f"queue '{queue_id}' has no out-of-hours destination",
                error_id="no_out_of_hours",
                queue=queue_id,
            )
        return ooh

    def destination(self, queue_id: str, at: datetime) -> OutOfHours:
        """Where a call for ``queue_id`` goes at ``at``: the queue itself if open, else its out-of-hours
        destination, followed until an open queue or a transfer (loops are refused at load)."""
        current = self.queue(queue_id)
        while not self.is_open(current.id, at):
            ooh = self.out_of_hours(current.id)
            if ooh.queue is None:
                return ooh
            current = self.queue(ooh.queue)
        return OutOfHours(queue=current.id)


def _entries(
    folder: Path,
    file: str,
    key: str,
    model: type[M],
    id_field: str,
    canonical: Callable[[str], str] | None = None,
) -> dict[str, M]:
    items = section(read_yaml(folder / file, file), file, key)
    entries = validate_entries(file, items, model, id_field, canonical)
    return {str(getattr(entry, id_field)): entry for entry in entries}


def _routing(folder: Path) -> RoutingPolicy:
    path = folder / "routing.yaml"
    if not path.exists():
        return RoutingPolicy()
    data: Any = read_yaml(path, path.name)
    return validate_one(path.name, "policy", data, RoutingPolicy)


def load_centre(folder: Path) -> CentreConfig:
    """Load and check the centre configuration in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(str(folder), "(folder)", "(folder)", "centre configuration folder not found")
    bank_holidays()  # the shipped list: fail now rather than at the first call
    skills = _entries(folder, "skills.yaml", "skills", Skill, "id")
    services = _entries(folder, "services.yaml", "services", Service, "id")
    calendars = _entries(folder, "hours.yaml", "calendars", HoursCalendar, "id")
    calendars.setdefault(ALWAYS_OPEN_ID, always_open_calendar())
    queues = _entries(folder, "queues.yaml", "queues", Queue, "id")
    _references.check_queues(queues, skills, services, calendars)
    numbers = _entries(folder, "numbers.yaml", "numbers", Number, "number", to_e164)
    _references.check_numbers(numbers, queues, services)
    users = _entries(folder, "users.yaml", "users", User, "username")
    _references.check_users(users, skills)
    routing = _routing(folder)
    return CentreConfig(
        folder=folder,
        skills=MappingProxyType(skills),
        services=MappingProxyType(services),
        calendars=MappingProxyType(calendars),
        queues=MappingProxyType(queues),
        numbers=MappingProxyType(numbers),
        users=MappingProxyType(users),
        routing=routing,
    )
