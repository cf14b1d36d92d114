"""The catalogue's models accept what the feed sends and refuse what it must not."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

import cti.live
from cti.domain.events import Event
from cti.live.messages import MESSAGE_TYPES, UnknownMessageType, validate_supervisor_message

AGENT = {
    "agent": "agent1",
    "status": "available",
    "reason": None,
    "engine": "idle",
    "since": 1,
    "contact": None,
}


def test_every_message_type_is_in_the_catalogue_document() -> None:
    text = (Path(cti.live.__file__).parent / "EVENTS.md").read_text()
    for type_ in MESSAGE_TYPES:
        assert f"`{type_}`" in text


def test_an_event_or_its_json_validates() -> None:
    event = Event("supervisor", 1, "agent.state", 1, AGENT)
    assert validate_supervisor_message(event) == validate_supervisor_message(event.to_json())


def test_unknown_types_and_bad_data_are_refused() -> None:
    with pytest.raises(UnknownMessageType):
        validate_supervisor_message({"type": "queue.gossip", "data": {}})
    with pytest.raises(ValidationError):
        validate_supervisor_message({"type": "agent.state", "data": {**AGENT, "status": "dozing"}})
    with pytest.raises(ValidationError):
        validate_supervisor_message({"type": "agent.state", "data": {**AGENT, "extra": 1}})


def test_an_alert_names_a_queue_or_an_agent_as_its_kind_says() -> None:
    base = {"id": "breach:k", "kind": "breach", "contact": "k", "at": 5, "detail": "late"}
    validate_supervisor_message({"type": "alert.raised", "data": {**base, "queue": "q1"}})
    for bad in ({**base}, {**base, "queue": "q1", "agent": "a"}, {**base, "agent": "a"}):
        with pytest.raises(ValidationError):
            validate_supervisor_message({"type": "alert.raised", "data": bad})
    unreachable = {"id": "agent_unreachable:a", "kind": "agent_unreachable", "at": 5, "detail": "x"}
    validate_supervisor_message({"type": "alert.cleared", "data": {**unreachable, "agent": "a"}})
    with pytest.raises(ValidationError):
        validate_supervisor_message({"type": "alert.cleared", "data": {**unreachable, "queue": "q1"}})
