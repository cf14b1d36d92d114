"""Twilio: voice webhooks (signature-checked), TwiML, conferences for queueing and agent legs."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Add the webhook routes (``/twilio/...``)."""
