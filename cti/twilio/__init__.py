"""Twilio: voice webhooks (signature-checked), TwiML, conferences for queueing and agent legs."""

from __future__ import annotations

from fastapi import FastAPI
from redis.asyncio import Redis

from cti.config.settings import Settings
from cti.domain.clock import Clock
from cti.domain.errors import ConfigError
from cti.telephony.port import Telephony


def install(app: FastAPI) -> None:
    """Add the webhook routes (``/twilio/...``)."""


def create_telephony(settings: Settings, clock: Clock, client: Redis | None) -> Telephony:
    """The twilio adapter for ``FRONTDOOR_TELEPHONY=twilio``; shared state via ``client``."""
    raise ConfigError("settings", "telephony", "telephony", "the twilio adapter is not available yet")
