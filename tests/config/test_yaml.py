"""The configuration YAML reader: YAML 1.2 numbers, duplicate keys refused, merges allowed."""

from __future__ import annotations

from datetime import date

import pytest

from cti.config._yaml import parse_yaml
from cti.domain.errors import ConfigError


def test_times_and_phone_numbers_stay_text() -> None:
    data = parse_yaml("a: 20:00\nb: 0116\nc: 01164960000\nd: 0116 496 0000\n", "t.yaml")
    assert data == {"a": "20:00", "b": "0116", "c": "01164960000", "d": "0116 496 0000"}


def test_numbers_dates_and_booleans() -> None:
    data = parse_yaml("a: 12\nb: -3\nc: 0.8\nd: 1_000\ne: 2026-05-04\nf: true\ng: ~\n", "t.yaml")
    assert data == {"a": 12, "b": -3, "c": 0.8, "d": 1000, "e": date(2026, 5, 4), "f": True, "g": None}


def test_anchors_and_merge_keys() -> None:
    text = "base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  x: 3\nsame: *b\n"
    assert parse_yaml(text, "t.yaml") == {
        "base": {"x": 1, "y": 2},
        "item": {"x": 3, "y": 2},
        "same": {"x": 1, "y": 2},
    }


def test_duplicate_key_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("a:\n  b: 1\n  c: 2\n  b: 3\n", "t.yaml")
    assert caught.value.details == {"file": "t.yaml", "entry": "line 4", "field": "b"}


def test_syntax_error_names_line_and_column() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("a: 1\nb: [2\nc: 3\n", "t.yaml")
    assert caught.value.details["entry"].startswith("line ")
    assert caught.value.details["field"] == "(syntax)"


def test_empty_document() -> None:
    assert parse_yaml("# only a comment\n", "t.yaml") is None


def test_one_document_only() -> None:
    with pytest.raises(ConfigError, match="invalid YAML"):
        parse_yaml("a: 1\n---\nb: 2\n", "t.yaml")
