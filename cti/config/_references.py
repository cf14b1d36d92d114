"""Checks between entries of different files: every name an entry uses must be defined somewhere."""

from __future__ import annotations

from collections.abc import Mapping

from cti.config.hours import HoursCalendar
from cti.config.models import Number, Queue, Requirement, Service, Skill, User
from cti.domain.errors import ConfigError

QUEUES = "queues.yaml"


def _check_skills(
    file: str, entry: str, field: str, requirements: tuple[Requirement, ...], skills: Mapping[str, Skill]
) -> None:
    for index, requirement in enumerate(requirements):
        if requirement.skill not in skills:
            raise ConfigError(
                file,
                entry,
                f"{field}[{index}].skill",
                f"unknown skill '{requirement.skill}' (not in skills.yaml)",
            )


def check_queues(
    queues: Mapping[str, Queue],
    skills: Mapping[str, Skill],
    services: Mapping[str, Service],
    calendars: Mapping[str, HoursCalendar],
) -> None:
    for queue in queues.values():
        qid = queue.id
        if queue.service not in services:
            raise ConfigError(
                QUEUES, qid, "service", f"unknown service '{queue.service}' (not in services.yaml)"
            )
        _check_skills(QUEUES, qid, "requirements", queue.requirements, skills)
        if queue.hours not in calendars:
            raise ConfigError(
                QUEUES, qid, "hours", f"unknown hours calendar '{queue.hours}' (not in hours.yaml)"
            )
        ooh = queue.out_of_hours
        if ooh is None and not calendars[queue.hours].always_open:
            raise ConfigError(
                QUEUES, qid, "out_of_hours", f"required: calendar '{queue.hours}' is not open at all times"
            )
        if ooh is not None and ooh.queue is not None:
            if ooh.queue not in queues:
                raise ConfigError(QUEUES, qid, "out_of_hours.queue", f"unknown queue '{ooh.queue}'")
            if ooh.queue == qid:
                raise ConfigError(QUEUES, qid, "out_of_hours.queue", "a queue cannot be its own out-of-hours")
        for index, rule in enumerate(queue.overflow):
            field = f"overflow[{index}]"
            if rule.to_queue is not None:
                if rule.to_queue not in queues:
                    raise ConfigError(QUEUES, qid, f"{field}.to_queue", f"unknown queue '{rule.to_queue}'")
                if rule.to_queue == qid:
                    raise ConfigError(QUEUES, qid, f"{field}.to_queue", "a queue cannot overflow to itself")
            else:
                _check_skills(QUEUES, qid, f"{field}.to_skills", rule.to_skills or (), skills)
    _check_out_of_hours_loops(queues)


def _check_out_of_hours_loops(queues: Mapping[str, Queue]) -> None:
    # Following out-of-hours destinations from any queue must end, or a closed centre never answers.
    for start in queues.values():
        path = [start.id]
        current = start
        while current.out_of_hours is not None and current.out_of_hours.queue is not None:
            current = queues[current.out_of_hours.queue]
            if current.id in path:
                loop = " -> ".join([*path[path.index(current.id) :], current.id])
                raise ConfigError(
                    QUEUES, start.id, "out_of_hours.queue", f"out-of-hours destinations loop: {loop}"
                )
            path.append(current.id)


def check_numbers(
    numbers: Mapping[str, Number], queues: Mapping[str, Queue], services: Mapping[str, Service]
) -> None:
    for number in numbers.values():
        if number.queue is not None and number.queue not in queues:
            raise ConfigError("numbers.yaml", number.number, "queue", f"unknown queue '{number.queue}'")
        if number.service is not None and number.service not in services:
            raise ConfigError(
                "numbers.yaml",
                number.number,
                "service",
                f"unknown service '{number.service}' (not in services.yaml)",
            )


def check_users(users: Mapping[str, User], skills: Mapping[str, Skill]) -> None:
    for user in users.values():
        for skill in user.skills:
            if skill not in skills:
                raise ConfigError(
                    "users.yaml",
                    user.username,
                    f"skills.{skill}",
                    f"unknown skill '{skill}' (not in skills.yaml)",
                )
