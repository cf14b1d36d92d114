"""The catalogue of agent messages: the page is current, the examples are valid, mismatches raise."""

from __future__ import annotations

from typing import Any

import pytest

from cti.desktop.catalogue import (
    AGENT_MESSAGES,
    PAGE,
    MessageMismatch,
    agent_page,
    validate_agent_message,
)
from cti.desktop.schemas import ScreenPop
from cti.desktop.screenpop import fallback_pop


def envelope(type: str, data: dict[str, Any], stream: str = "agent:agent01") -> dict[str, Any]:
    return {"stream": stream, "seq": 1, "type": type, "at": 1_767_780_000_000, "data": data}


def test_the_page_is_generated_from_the_models() -> None:
    assert PAGE.read_text(encoding="utf-8") == agent_page(), "run: python -m cti.desktop.catalogue"


@pytest.mark.parametrize("spec", AGENT_MESSAGES, ids=lambda s: s.type)
def test_every_example_matches_its_model(spec: Any) -> None:
    validate_agent_message(envelope(spec.type, spec.example))
    assert f"## `{spec.type}`" in agent_page()


def test_the_fallback_pop_matches_the_screen_pop_model() -> None:
    ScreenPop.model_validate(fallback_pop("c1", "amh_spa", 1))


@pytest.mark.parametrize(
    ("msg", "problem"),
    [
        (envelope("offer.offered", {}), "unknown agent message type"),
        (envelope("offer.ended", {"offer": "o", "contact": "c", "why": "lost"}), "does not match"),
        (
            envelope("offer.ended", {"offer": "o", "contact": "c", "why": "rejected", "x": 1}),
            "does not match",
        ),
        (envelope("agent.state", {"status": "available"}), "does not match"),
        (
            envelope("offer.ended", {"offer": "o", "contact": "c", "why": "rejected"}, "centre"),
            "not an agent",
        ),
        ({"type": "agent.state"}, "not an agent"),
    ],
)
def test_a_mismatch_raises(msg: dict[str, Any], problem: str) -> None:
    with pytest.raises(MessageMismatch, match=problem):
        validate_agent_message(msg)
