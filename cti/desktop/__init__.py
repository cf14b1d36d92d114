"""The agent desktop channel: each agent's message stream (``agent:{id}``) with the screen-pop.

``install(app)`` adds the REST endpoints and, once the services are built, makes the composition
root's ``DesktopFeed`` (``services.ringer``) publish desktop messages (with screen-pops) before it
rings; without one it starts its own. Imports are deferred: the composition root imports the feed,
and the API imports the composition root.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from cti.desktop.feed import DesktopFeed
    from cti.wiring import Services

__all__ = ["Desktop", "install"]


@dataclass
class Desktop:
    """What ``services.extras["desktop"]`` holds."""

    feed: DesktopFeed
    owns_feed: bool  # started here (so stopped here), not by the composition root


def install(app: FastAPI) -> None:
    from cti.desktop.api import router

    app.include_router(router)
    app.state.on_started.append(_started)
    app.state.on_stopping.append(_stopping)


async def _started(services: Services) -> None:
    from cti.desktop.feed import DesktopFeed

    ringer = getattr(services, "ringer", None)
    if isinstance(ringer, DesktopFeed):
        if ringer.sources is None:
            ringer.attach(services)
        services.extras["desktop"] = Desktop(feed=ringer, owns_feed=False)
        return
    feed = DesktopFeed(services.bus, services.telephony, services)
    await feed.start()
    services.extras["desktop"] = Desktop(feed=feed, owns_feed=True)


async def _stopping(services: Services) -> None:
    desktop = services.extras.pop("desktop", None)
    if isinstance(desktop, Desktop) and desktop.owns_feed:
        await desktop.feed.stop()
