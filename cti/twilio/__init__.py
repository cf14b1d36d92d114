"""Twilio: voice webhooks (signature-checked), TwiML, conferences for queueing and agent legs.

``create_telephony`` builds the adapter for ``FRONTDOOR_TELEPHONY=twilio`` (the REST client from the
settings, state in Redis when ``client`` is given); ``install`` adds the webhooks (``/twilio/...``),
the supervisor's listen/coach (``/api/twilio/...``) and, when the app starts with this adapter, the
flow that drives the IVR (``services.extras["twilio"]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from redis.asyncio import Redis

from cti.config.settings import Settings
from cti.domain.clock import Clock
from cti.domain.errors import ConfigError
from cti.telephony.port import Telephony
from cti.twilio.adapter import TwilioTelephony
from cti.twilio.book import CallBook, MemoryCallBook, RedisCallBook
from cti.twilio.twiml import Urls

if TYPE_CHECKING:
    from cti.wiring import Services

__all__ = ["TwilioTelephony", "create_telephony", "install", "rest_client"]

EXTRAS_KEY = "twilio"
REQUIRED = ("public_base_url", "twilio_auth_token", "twilio_account_sid", "twilio_caller_id",
            "twilio_fallback_number")  # fmt: skip


def rest_client(settings: Settings) -> Any:
    """Twilio's REST client over its asynchronous HTTP client (credentials from the settings only)."""
    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.rest import Client

    assert settings.twilio_auth_token is not None
    return Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        http_client=AsyncTwilioHttpClient(),
    )


def _check(settings: Settings) -> None:
    for name in REQUIRED:
        if getattr(settings, name) is None:
            raise ConfigError(
                "settings", f"FRONTDOOR_{name.upper()}", name, "required for FRONTDOOR_TELEPHONY=twilio"
            )


def create_telephony(settings: Settings, clock: Clock, client: Redis | None) -> Telephony:
    """The twilio adapter for ``FRONTDOOR_TELEPHONY=twilio``; shared state via ``client``."""
    _check(settings)
    assert settings.public_base_url is not None and settings.twilio_caller_id is not None
    book: CallBook = (
        RedisCallBook(client, settings.redis_prefix) if client is not None else MemoryCallBook(clock)
    )
    return TwilioTelephony(
        rest_client(settings),
        book,
        Urls(settings.public_base_url),
        caller_id=settings.twilio_caller_id,
        endpoints=settings.twilio_agent_phones,
    )


def install(app: FastAPI) -> None:
    """Add the webhook routes (``/twilio/...``)."""
    from cti.twilio.flow import TwilioFlow
    from cti.twilio.webhooks import api, router

    app.include_router(router)
    app.include_router(api)

    async def started(services: Services) -> None:
        telephony = services.telephony
        if isinstance(telephony, TwilioTelephony):
            fallback = services.settings.twilio_fallback_number
            assert fallback is not None
            services.extras[EXTRAS_KEY] = TwilioFlow(services, telephony, fallback)

    async def stopping(services: Services) -> None:
        services.extras.pop(EXTRAS_KEY, None)

    app.state.on_started.append(started)
    app.state.on_stopping.append(stopping)
