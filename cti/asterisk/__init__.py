"""Asterisk over AMI: an asyncio client of our own and the telephony adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI
from redis.asyncio import Redis

from cti.config.settings import Settings
from cti.domain.clock import Clock
from cti.domain.errors import ConfigError
from cti.telephony.port import Telephony

if TYPE_CHECKING:
    from cti.wiring import Services


def create_telephony(settings: Settings, clock: Clock, client: Redis | None) -> Telephony:
    """The asterisk adapter for ``FRONTDOOR_TELEPHONY=asterisk``. Its state is in memory: one node
    holds the AMI connection (``client`` is not used)."""
    from cti.asterisk.adapter import AsteriskTelephony
    from cti.asterisk.client import AmiClient

    if settings.ami_secret is None:
        raise ConfigError(
            "settings", "FRONTDOOR_AMI_SECRET", "ami_secret", "required for the asterisk adapter"
        )
    ami = AmiClient(
        settings.ami_host, settings.ami_port, settings.ami_username, settings.ami_secret.get_secret_value()
    )
    return AsteriskTelephony(ami, clock)


def install(app: FastAPI) -> None:
    """Give the adapter the app's services once started (the hold loop asks ``ivr.waiting`` what to play)."""

    async def started(services: Services) -> None:
        attach = getattr(services.telephony, "attach_services", None)
        if attach is not None:
            attach(services)

    async def stopping(services: Services) -> None:
        attach = getattr(services.telephony, "attach_services", None)
        if attach is not None:
            attach(None)

    app.state.on_started.append(started)
    app.state.on_stopping.append(stopping)
