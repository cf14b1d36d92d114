"""The frontdoor command: configuration problems are reported plainly, naming file, entry and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cti.cli import app
from cti.config.centre import DEMO_DIR

runner = CliRunner()


def broken_centre(tmp_path: Path) -> Path:
    folder = tmp_path / "centre"
    shutil.copytree(DEMO_DIR, folder)
    queues = folder / "queues.yaml"
    queues.write_text(queues.read_text().replace("min_proficiency: 1}]", "min_proficiency: 7}]", 1))
    return folder


def test_config_check_accepts_the_demo_centre() -> None:
    result = runner.invoke(app, ["config", "check", str(DEMO_DIR)])
    assert result.exit_code == 0
    assert "12 queues" in result.output


def test_config_check_names_file_entry_and_field(tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "check", str(broken_centre(tmp_path))])
    assert result.exit_code == 1
    assert "queues.yaml" in result.output
    assert "asc_triage" in result.output
    assert "min_proficiency" in result.output


def test_serve_refuses_to_start_on_invalid_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRONTDOOR_CENTRE_DIR", str(broken_centre(tmp_path)))
    result = runner.invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert "invalid configuration" in result.output
    assert "queues.yaml" in result.output


def test_serve_refuses_a_bad_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDOOR_BACKEND", "cassandra")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "backend" in result.output
