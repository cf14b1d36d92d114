"""Settings: defaults, YAML file, environment and explicit overrides, in that rising order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cti.config import DEMO_DIR, Settings, load_settings
from cti.config.settings import CONFIG_FILE_ENV
from cti.domain.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("FRONTDOOR_") and name.upper() != "FRONTDOOR_REQUIRE_SERVICES":
            monkeypatch.delenv(name)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    settings = load_settings()
    assert settings.backend == "memory"
    assert settings.telephony == "sim"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.redis_prefix == "fd"
    assert settings.database_url == "sqlite+aiosqlite:///./var/frontdoor.db"
    assert settings.centre_dir == DEMO_DIR
    assert (settings.host, settings.port, settings.demo) == ("127.0.0.1", 8000, False)
    assert (settings.token_ttl_s, settings.token_idle_s) == (8 * 3600, 30 * 60)
    assert settings.allowed_origins == []
    assert settings.public_base_url is None
    assert settings.twilio_auth_token is None
    assert settings.log_level == "INFO"
    assert (settings.sim_seed, settings.sim_calls_per_minute) == (42, 4.0)


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDOOR_BACKEND", "redis")
    monkeypatch.setenv("FRONTDOOR_PORT", "9001")
    monkeypatch.setenv("FRONTDOOR_DEMO", "true")
    monkeypatch.setenv("FRONTDOOR_TWILIO_AUTH_TOKEN", "s3cret")
    monkeypatch.setenv("FRONTDOOR_ALLOWED_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("FRONTDOOR_LOG_LEVEL", "debug")
    settings = load_settings()
    assert (settings.backend, settings.port, settings.demo, settings.log_level) == (
        "redis",
        9001,
        True,
        "DEBUG",
    )
    assert settings.allowed_origins == ["https://a.example", "https://b.example"]
    assert settings.twilio_auth_token is not None
    assert settings.twilio_auth_token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_origins_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDOOR_ALLOWED_ORIGINS", '["https://a.example"]')
    assert Settings().allowed_origins == ["https://a.example"]


def test_yaml_file(tmp_path: Path) -> None:
    (tmp_path / "centre").mkdir()
    path = write(
        tmp_path / "frontdoor.yaml",
        "backend: redis\nport: 9100\ncentre_dir: centre\nallowed_origins: [https://a.example]\n"
        "public_base_url: https://fd.example/\nsim_calls_per_minute: 12.5\n",
    )
    settings = load_settings(path)
    assert (settings.backend, settings.port, settings.sim_calls_per_minute) == ("redis", 9100, 12.5)
    assert settings.centre_dir == tmp_path / "centre"  # relative to the file, not the working directory
    assert settings.allowed_origins == ["https://a.example"]
    assert settings.public_base_url == "https://fd.example"


def test_yaml_file_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_FILE_ENV, str(write(tmp_path / "fd.yaml", "port: 9200\n")))
    assert load_settings().port == 9200
    assert Settings().port == 9200


def test_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "fd.yaml", "port: 9100\nhost: 0.0.0.0\nsim_seed: 7\nlog_level: WARNING\n")
    monkeypatch.setenv("FRONTDOOR_PORT", "9200")
    monkeypatch.setenv("FRONTDOOR_HOST", "10.0.0.1")
    settings = load_settings(path, port=9300, log_level=None)
    assert settings.port == 9300  # explicit beats environment and file
    assert settings.host == "10.0.0.1"  # environment beats file
    assert settings.sim_seed == 7  # file beats default
    assert settings.log_level == "WARNING"  # a None override is no override


def test_explicit_file_beats_file_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_FILE_ENV, str(write(tmp_path / "env.yaml", "port: 9100\n")))
    assert load_settings(write(tmp_path / "arg.yaml", "port: 9200\n")).port == 9200


def test_empty_yaml_file(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path / "fd.yaml", "# nothing yet\n")).port == 8000


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ("port: high\n", "port", "valid integer"),
        ("port: 70000\n", "port", "less than or equal to 65535"),
        ("backend: postgres\n", "backend", "'memory' or 'redis'"),
        ("telephony: skype\n", "telephony", "'sim', 'twilio' or 'asterisk'"),
        ("colour: blue\n", "colour", "unknown setting"),
        ("centre_dir: /nowhere/at/all\n", "centre_dir", "folder not found"),
        ("redis_url: http://localhost\n", "redis_url", "redis://"),
        ("public_base_url: fd.example\n", "public_base_url", "http"),
        ("token_ttl_s: 0\n", "token_ttl_s", "greater than 0"),
        ("log_level: loud\n", "log_level", "'DEBUG'"),
    ],
)
def test_invalid_file_value_names_field(tmp_path: Path, text: str, field: str, problem: str) -> None:
    path = write(tmp_path / "fd.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.details == {"file": str(path), "entry": "settings", "field": field}
    assert problem in caught.value.message


def test_invalid_environment_value_names_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDOOR_PORT", "eighty")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.details == {"file": "environment", "entry": "FRONTDOOR_PORT", "field": "port"}


def test_invalid_override_names_field() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(backend="mongo")
    assert caught.value.details == {"file": "arguments", "entry": "load_settings", "field": "backend"}


def test_yaml_file_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_settings(write(tmp_path / "bad.yaml", "port: [8000\n"))
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_settings(write(tmp_path / "list.yaml", "- port\n"))
    with pytest.raises(ConfigError, match="key written twice"):
        load_settings(write(tmp_path / "twice.yaml", "port: 1\nport: 2\n"))
