"""A specialist in a warm handover links an article on the caller's contact (the handover's party)."""

from __future__ import annotations

from tests.handover.conftest import Centre, centre, open_centre  # noqa: F401  (fixtures)

BODY = {"article_id": "kb-amh-crisis"}


async def test_the_specialist_of_an_active_handover_may_link(centre: Centre) -> None:  # noqa: F811
    call_id = await centre.call_answered_by_agent()
    specialist = await centre.login("specialist04")
    await centre.available(specialist)
    asked = await centre.ask(call_id, target="amh_spa")
    outsider = await centre.login("specialist05")
    refused = await centre.r.client.post(f"/api/contacts/{call_id}/articles", json=BODY, headers=specialist)
    assert refused.status_code == 403  # asked, but not yet accepted by anyone
    await centre.answer(specialist, asked["consult_contact_id"])
    await centre.until_state(asked["id"], "consulting")
    resp = await centre.r.client.post(f"/api/contacts/{call_id}/articles", json=BODY, headers=specialist)
    assert resp.status_code == 201, resp.text
    assert resp.json()["linked_by"] == "specialist04"
    resp = await centre.r.client.post(f"/api/contacts/{call_id}/articles", json=BODY, headers=outsider)
    assert resp.status_code == 403
