"""The agent desktop channel: each agent's message stream (``agent:{id}``) with the screen-pop.

``install(app)`` adds the REST endpoints; the feed that publishes the messages (with screen-pops)
before it rings is the composition root's ``DesktopFeed`` (``services.ringer``). Imports are deferred:
the composition root imports the feed, and the API imports the composition root.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI


__all__ = ["install"]


def install(app: FastAPI) -> None:
    """The desktop's REST endpoints. The feed itself is the composition root's (``services.ringer``)."""
    from cti.desktop.api import router

    app.include_router(router)
