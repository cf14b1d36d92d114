"""Structured logs: one JSON object per line, UTC timestamps, personal data masked."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Field names that could carry personal data. Code should never log them; this is the safety net.
_PERSONAL = frozenset(
    {
        "cli",
        "phone",
        "e164",
        "caller",
        "nhs_number",
        "name",
        "given_name",
        "family_name",
        "date_of_birth",
        "address",
        "postcode",
        "password",
        "token",
    }
)


def mask_personal(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key in _PERSONAL:
            event[key] = "***"
    return event


def configure(level: str = "INFO") -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            mask_personal,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),  # JSON escapes CR/LF in caller-supplied text
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
