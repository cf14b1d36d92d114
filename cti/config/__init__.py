"""Configuration as data: process settings, and the centre (services, queues, numbers, skills, hours,
users, routing policy) loaded from a folder of YAML files and checked as a whole at start."""

from cti.config.centre import DEMO_DIR, CentreConfig, load_centre
from cti.config.hours import HoursCalendar, is_open, next_change
from cti.config.models import (
    Number,
    OutOfHours,
    Overflow,
    Queue,
    Requirement,
    RoutingPolicy,
    Service,
    ServiceLevel,
    Skill,
    User,
)
from cti.config.settings import Settings, load_settings

__all__ = [
    "DEMO_DIR",
    "CentreConfig",
    "HoursCalendar",
    "Number",
    "OutOfHours",
    "Overflow",
    "Queue",
    "Requirement",
    "RoutingPolicy",
    "Service",
    "ServiceLevel",
    "Settings",
    "Skill",
    "User",
    "is_open",
    "load_centre",
    "load_settings",
    "next_change",
]
