"""What each party's desktop learns of a handover from its own stream and from its snapshot.

``handover.state`` goes to the parties (as they are at the time) on every transition; the snapshot
lists the agent's handovers (asker or specialist), with the caller's context for the specialist only.
"""

from __future__ import annotations

from typing import Any

import pytest

from cti.desktop.catalogue import AgentSnapshot, validate_agent_message
from tests.conftest import until
from tests.handover.conftest import AGENT, NOTE, Centre, CentreFactory
from tests.handover.test_flows import consulting


async def snapshot(centre: Centre, headers: dict[str, str]) -> dict[str, Any]:
    resp = await centre.r.client.get("/api/desktop/me", headers=headers)
    assert resp.status_code == 200, resp.text
    AgentSnapshot.model_validate(resp.json())
    return dict(resp.json())


async def test_each_transition_reaches_both_parties_as_handover_state(centre: Centre) -> None:
    _, handover, _ = await consulting(centre)
    done = await centre.post(f"/api/handovers/{handover['id']}/complete", centre.agent)
    assert done.status_code == 200, done.text

    async def told(agent: str) -> list[str]:
        return [m.data["state"] for m in await centre.events(f"agent:{agent}", "handover.state")]

    async def both_told_completed() -> bool:
        return [(await told(a))[-1:] for a in (AGENT, "specialist04")] == [["completed"]] * 2

    await until(both_told_completed, message="both parties told the handover completed")
    assert await told(AGENT) == ["requested", "specialist_reserved", "consulting", "completed"]
    assert await told("specialist04") == ["specialist_reserved", "consulting", "completed"]
    for agent in (AGENT, "specialist04"):
        for message in await centre.events(f"agent:{agent}", "handover.state"):
            validate_agent_message(message.to_json())
            assert message.data["handover"] == handover["id"]
            assert "note" not in message.data  # the state only; the note travels in handover.note
    assert await told("specialist06") == []


@pytest.mark.parametrize(
    "backend", ["memory", pytest.param("redis", marks=[pytest.mark.redis, pytest.mark.postgres])]
)
async def test_the_snapshot_restores_each_partys_handover(open_centre: CentreFactory, backend: str) -> None:
    async with open_centre(backend=backend) as centre:
        await snapshots_follow_the_handover(centre)


async def snapshots_follow_the_handover(centre: Centre) -> None:
    call_id, handover, spec = await consulting(centre)
    noted = await centre.post(f"/api/handovers/{handover['id']}/notes", centre.agent, text="GP visited")
    assert noted.status_code == 201, noted.text

    (asking,) = (await snapshot(centre, centre.agent))["handovers"]
    assert (asking["id"], asking["state"], asking["specialist"]) == (
        handover["id"],
        "consulting",
        "specialist04",
    )
    assert asking["note"]["free_text"] == NOTE["free_text"]
    assert [n["text"] for n in asking["notes"]] == ["GP visited"]
    assert asking["context"] is None  # the asker has the caller's screen-pop already

    (answering,) = (await snapshot(centre, spec))["handovers"]
    assert answering["id"] == handover["id"] and answering["contact_id"] == call_id
    assert answering["note"] == NOTE
    assert answering["context"]["contact"] == call_id

    bystander = await centre.login("specialist06")
    assert (await snapshot(centre, bystander))["handovers"] == []

    # Over: the asker's list empties; the specialist, still on the call, keeps the note beside it.
    done = await centre.post(f"/api/handovers/{handover['id']}/complete", centre.agent)
    assert done.status_code == 200, done.text
    await centre.until_state(handover["id"], "completed")
    assert (await snapshot(centre, centre.agent))["handovers"] == []
    (kept,) = (await snapshot(centre, spec))["handovers"]
    assert (kept["id"], kept["state"]) == (handover["id"], "completed")
