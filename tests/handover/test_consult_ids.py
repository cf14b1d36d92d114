"""Consult contacts are told from their ids, so the handover follower looks up only those."""

from __future__ import annotations

from typing import cast

import pytest

from cti.bus.memory import MemoryEventBus
from cti.domain.events import Event
from cti.handover.follower import HandoverFollower
from cti.handover.model import consult_contact_id, is_consult_contact, requeued_contact_id
from cti.handover.reactions import HandoverReactions


@pytest.mark.parametrize(
    "contact",
    [
        consult_contact_id("sim-4be1d7", 1),
        consult_contact_id("CA0123456789abcdef0123456789abcdef", 12),
        requeued_contact_id(consult_contact_id("1732100000.45", 2)),
        requeued_contact_id(requeued_contact_id(consult_contact_id("c1", 1))),
        consult_contact_id(consult_contact_id("c1", 1), 1),  # the specialist hands over in turn
    ],
)
def test_every_consult_id_is_recognised(contact: str) -> None:
    assert is_consult_contact(contact)


@pytest.mark.parametrize(
    "contact",
    ["sim-4be1d7", "CA0123456789abcdef0123456789abcdef", "1732100000.45", "c1.h", "c1.hq", "c1.h1x"],
)
def test_callers_contacts_of_every_telephony_are_not_consults(contact: str) -> None:
    assert not is_consult_contact(contact)


class Reactions:
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def ours(self, contact_id: str) -> bool:
        self.asked.append(contact_id)
        return False


def event(type: str, contact: str, seq: int = 1) -> Event:
    return Event("centre", seq, type, 1_000, {"contact": contact, "agent": "agent01", "offer": "o1"})


async def test_only_consult_contacts_and_wrap_ups_are_looked_up() -> None:
    reactions = Reactions()
    follower = HandoverFollower(MemoryEventBus(), cast(HandoverReactions, reactions))
    for type in ("offer.created", "offer.accepted", "contact.abandoned", "contact.wrap_up", "contact.held"):
        await follower.apply(event(type, "sim-4be1d7"))
        await follower.apply(event(type, "sim-4be1d7.h1"))
    # A caller's own contact matters only when it is wrapped up (the first agent left a handover).
    assert reactions.asked == ["sim-4be1d7.h1"] * 3 + ["sim-4be1d7", "sim-4be1d7.h1"]
