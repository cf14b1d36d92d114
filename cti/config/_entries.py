"""Turning parsed YAML into validated models, with errors that name file, entry and field."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from cti.domain.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

_PROBLEMS = {
    "extra_forbidden": "unknown field",
    "missing": "required field is missing",
}


def field_path(loc: Sequence[int | str]) -> str:
    """``("requirements", 0, "skill")`` -> ``"requirements[0].skill"``."""
    text = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for a bad dict key; the key itself precedes it
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(entry)"


_SECRET_WORDS = ("password", "secret", "token")


def _describe(error: Any) -> str:
    problem = str(_PROBLEMS.get(error["type"], error["msg"])).removeprefix("Value error, ")
    value = error.get("input")
    secret = any(word in str(part) for part in error["loc"] for word in _SECRET_WORDS)
    if error["type"] not in _PROBLEMS and not secret and isinstance(value, str | int | float | bool):
        shown = repr(value)
        if shown not in problem:
            problem += f" (got {shown[:60]})"
    return problem


def config_error(
    file: str, entry: str, exc: ValidationError, prefix: Sequence[int | str] = ()
) -> ConfigError:
    """The first problem of ``exc`` as a ConfigError; the count of any others is appended."""
    errors = exc.errors()
    first = errors[0]
    problem = _describe(first)
    if len(errors) > 1:
        problem += f" (and {len(errors) - 1} more problem(s) in this entry)"
    return ConfigError(file, entry, field_path([*prefix, *first["loc"]]), problem)


def entry_name(raw: Any, key: str, index: int) -> str:
    """How an entry is named in errors: its id if it has a usable one, else its position."""
    if isinstance(raw, dict):
        value = raw.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value)
    return f"item {index + 1}"


def section(data: Any, file: str, key: str, *, required: bool = True) -> list[Any]:
    """The list under top-level ``key`` of a file such as ``queues.yaml`` (``queues: [...]``)."""
    if data is None and not required:
        return []
    if not isinstance(data, dict):
        raise ConfigError(file, "(file)", key, f"expected a mapping with the key '{key}' at the top")
    unknown = sorted(str(k) for k in data if k != key)
    if unknown:
        raise ConfigError(file, "(file)", unknown[0], f"unknown top-level key (expected only '{key}')")
    if key not in data:
        raise ConfigError(file, "(file)", key, "required top-level key is missing")
    items = data[key]
    if items is None:
        return []
    if not isinstance(items, list):
        raise ConfigError(file, "(file)", key, f"expected a list of entries, got {type(items).__name__}")
    return items


def validate_entries(
    file: str, items: list[Any], model: type[M], key: str, canonical: Callable[[str], str] | None = None
) -> list[M]:
    """Validate each entry; ids must be unique (``key`` names the id field). ``canonical`` turns an id
    as written into the form the model stores (a phone number into E.164), so that every error about
    one entry names it the same way."""
    result: list[M] = []
    first_seen: dict[str, int] = {}
    for index, raw in enumerate(items):
        name = entry_name(raw, key, index)
        if canonical is not None and not name.startswith("item "):
            with suppress(ValueError):  # else named as written; validation says what is wrong
                name = canonical(name)
        if not isinstance(raw, dict):
            raise ConfigError(file, name, "(entry)", f"expected a mapping, got {type(raw).__name__}")
        try:
            entry = model.model_validate(raw)
        except ValidationError as exc:
            raise config_error(file, name, exc) from None
        ident = str(getattr(entry, key))
        if ident in first_seen:
            raise ConfigError(file, ident, key, f"duplicate {key} (item {first_seen[ident] + 1} has it too)")
        first_seen[ident] = index
        result.append(entry)
    return result


def validate_one(file: str, entry: str, raw: Any, model: type[M]) -> M:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(file, entry, "(entry)", f"expected a mapping, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise config_error(file, entry, exc) from None
