"""Asterisk over AMI: an asyncio client of our own and the telephony adapter."""

from __future__ import annotations

from redis.asyncio import Redis

from cti.config.settings import Settings
from cti.domain.clock import Clock
from cti.domain.errors import ConfigError
from cti.telephony.port import Telephony


def create_telephony(settings: Settings, clock: Clock, client: Redis | None) -> Telephony:
    """The asterisk adapter for ``FRONTDOOR_TELEPHONY=asterisk``; shared state via ``client``."""
    raise ConfigError("settings", "telephony", "telephony", "the asterisk adapter is not available yet")
