"""Process settings: which adapters to run and where things are.

Sources, highest first: explicit overrides (``load_settings(**overrides)``, e.g. command-line options),
environment variables ``FRONTDOOR_<FIELD>``, then an optional YAML file of the same field names given
by ``config_file`` or ``FRONTDOOR_CONFIG_FILE``, then the defaults below. A relative ``centre_dir`` in
the YAML file is taken relative to that file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from cti.config._entries import field_path
from cti.config._yaml import read_yaml
from cti.config.centre import DEMO_DIR
from cti.domain.errors import ConfigError

ENV_PREFIX = "FRONTDOOR_"
CONFIG_FILE_ENV = "FRONTDOOR_CONFIG_FILE"
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

# The file load_settings was given; the YAML source reads it while Settings is being built.
_config_file: ContextVar[Path | None] = ContextVar("frontdoor_config_file", default=None)


def _config_path() -> Path | None:
    explicit = _config_file.get()
    if explicit is not None:
        return explicit
    from_env = os.environ.get(CONFIG_FILE_ENV)
    return Path(from_env) if from_env else None


def _read_settings_file(path: Path) -> dict[str, Any]:
    data = read_yaml(path, str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(str(path), "settings", "(file)", "expected a mapping of setting names to values")
    centre_dir = data.get("centre_dir")
    if isinstance(centre_dir, str) and not Path(centre_dir).is_absolute():
        data["centre_dir"] = str(path.parent / centre_dir)
    return data


class _YamlFileSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        path = _config_path()
        self._data = _read_settings_file(path) if path is not None else {}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)

    backend: Literal["memory", "redis"] = "memory"  # state store and event bus together
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = Field(default="fd", pattern=r"^[A-Za-z0-9_.-]+$")
    database_url: str = "sqlite+aiosqlite:///./var/frontdoor.db"
    telephony: Literal["sim", "twilio", "asterisk"] = "sim"
    centre_dir: Path = DEMO_DIR
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    demo: bool = False
    token_ttl_s: int = Field(default=8 * 3600, gt=0)
    token_idle_s: int = Field(default=30 * 60, gt=0)
    # From the environment either a JSON list or comma-separated: "https://a.example,https://b.example".
    allowed_origins: Annotated[list[str], NoDecode] = []
    public_base_url: str | None = None
    twilio_auth_token: SecretStr | None = None
    # The Twilio adapter (FRONTDOOR_TELEPHONY=twilio): account, the number agents' legs are called from,
    # the number the fallback URL dials, and each agent's phone (else their Twilio Client identity).
    twilio_account_sid: str | None = None
    twilio_caller_id: str | None = None
    twilio_fallback_number: str | None = None
    twilio_agent_phones: dict[str, str] = {}
    log_level: LogLevel = "INFO"
    sim_seed: int = 42
    sim_calls_per_minute: float = Field(default=4.0, ge=0)
    handover_timeout_s: float = Field(default=60.0, gt=0)  # no specialist by then: caller back with the agent
    # Asterisk Manager Interface (FRONTDOOR_TELEPHONY=asterisk and ``frontdoor asterisk check``)
    ami_host: str = "127.0.0.1"
    ami_port: int = Field(default=5038, ge=1, le=65535)
    ami_username: str = "frontdoor"
    ami_secret: SecretStr | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlFileSource(settings_cls))

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("expected an SQLAlchemy URL for SQLite or PostgreSQL")
        return value

    @field_validator("centre_dir")
    @classmethod
    def _centre_exists(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(f"folder not found: {value}")
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


@contextmanager
def _reading(config_file: Path | None) -> Iterator[None]:
    token = _config_file.set(config_file)
    try:
        yield
    finally:
        _config_file.reset(token)


def _where(field: str, overrides: dict[str, Any], config_file: Path | None) -> tuple[str, str]:
    """Which source gave ``field`` its bad value, as (file, entry) for the ConfigError."""
    env_name = f"{ENV_PREFIX}{field}".upper()
    if field in overrides:
        return "arguments", "load_settings"
    if any(name.upper() == env_name for name in os.environ):
        return "environment", env_name
    if config_file is not None:
        return str(config_file), "settings"
    return "defaults", "settings"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings. ``overrides`` win over everything; None values among them are ignored, so
    optional command-line options can be passed straight through."""
    given = {name: value for name, value in overrides.items() if value is not None}
    path = config_file if config_file is not None else _config_path()
    with _reading(path):
        try:
            return Settings(**given)
        except ValidationError as exc:
            error = exc.errors()[0]
            loc = error["loc"]
            name = str(loc[0]) if loc else "(settings)"
            file, entry = _where(name, given, path)
            problem = "unknown setting" if error["type"] == "extra_forbidden" else error["msg"]
            raise ConfigError(file, entry, field_path(loc) if loc else name, problem) from None
