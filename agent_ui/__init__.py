"""The agent desktop and supervisor wallboard, served by the app (no front-end build step)."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Serve the pages and their static files."""
