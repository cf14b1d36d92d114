"""A real server (the live view is installed by ``create_app``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.api.conftest import Running, settings_for, start_server

start_live_server = start_server  # create_app installs the live view


@pytest.fixture
async def live_server(tmp_path: Path) -> AsyncIterator[Running]:
    async for r in start_live_server(settings_for(tmp_path)):
        yield r
