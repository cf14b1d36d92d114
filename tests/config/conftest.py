"""Fixtures for configuration tests: the shipped demo centre, and editable copies of it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from cti.config import DEMO_DIR, CentreConfig, load_centre
from cti.config._yaml import parse_yaml


@pytest.fixture(scope="session")
def demo() -> CentreConfig:
    return load_centre(DEMO_DIR)


@pytest.fixture
def centre_dir(tmp_path: Path) -> Path:
    """A copy of the demo centre that a test may break."""
    target = tmp_path / "centre"
    shutil.copytree(DEMO_DIR, target, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    return target


Editor = Callable[[str, Callable[[Any], None]], None]


@pytest.fixture
def edit(centre_dir: Path) -> Editor:
    """``edit("queues.yaml", change)``: load the file, let ``change`` mutate the data, write it back."""

    def apply(file: str, change: Callable[[Any], None]) -> None:
        path = centre_dir / file
        data = parse_yaml(path.read_text(encoding="utf-8"), file)
        change(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")

    return apply
