"""HTTP API (installed by ``cti.app.create_app``)."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Add this package's routes and start/stop hooks to the app."""
