"""What the desktop channel reads: the parts of the services it needs, as structural types.

``cti.wiring.Services`` satisfies both protocols; ``Sources`` is the plain bundle the composition root
can build before ``Services`` exists (the feed is made in the same step as the other followers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cti.bus.port import EventBus
from cti.config.centre import CentreConfig
from cti.domain.clock import Clock
from cti.records.repository import Records
from cti.state.port import StateStore


class PopSources(Protocol):
    """What a screen-pop is built from."""

    @property
    def store(self) -> StateStore: ...

    @property
    def records(self) -> Records: ...

    @property
    def centre(self) -> CentreConfig: ...

    @property
    def clock(self) -> Clock: ...


class DesktopSources(PopSources, Protocol):
    """What an agent's desktop snapshot is built from: the pop's sources and the bus."""

    @property
    def bus(self) -> EventBus: ...


@dataclass(frozen=True, slots=True)
class Sources:
    store: StateStore
    records: Records
    centre: CentreConfig
    clock: Clock
