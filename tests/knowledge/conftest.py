"""One knowledge base for the module-level tests (loading it builds the search index)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from knowledge.base import KnowledgeBase


@pytest.fixture(scope="session")
def kb() -> Iterator[KnowledgeBase]:
    loaded = KnowledgeBase.load()
    yield loaded
    loaded.close()
