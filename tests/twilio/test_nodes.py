"""Two nodes behind one load balancer (redis + PostgreSQL): Twilio's webhooks for one call land on
either, and the call carries on, because its state is in Redis, not in a node's memory."""

from __future__ import annotations

from pathlib import Path

from cti.domain.states import ContactState
from tests.conftest import fresh_postgres_database
from tests.twilio.conftest import BASE, FRONT_DOOR, PHONES, Twilio, path_of, start_server, twilio_settings
from tests.twilio.fake_rest import RecordingHttp
from tests.twilio.test_flows import AGENT, AMH_KEYS, CALLER_NUMBER, login_available, sids


async def test_a_call_moves_between_nodes(
    tmp_path: Path, rest: RecordingHttp, redis_url: str, redis_prefix: str, postgres_admin_url: str
) -> None:
    async with fresh_postgres_database(postgres_admin_url) as pg_url:
        shared = {
            "backend": "redis",
            "redis_url": redis_url,
            "redis_prefix": redis_prefix,
            "database_url": pg_url,
        }
        async for ra in start_server(twilio_settings(tmp_path / "a", **shared)):
            async for rb in start_server(twilio_settings(tmp_path / "b", **shared)):
                a, b = Twilio(ra, rest), Twilio(rb, rest)
                agent = await login_available(a, AGENT)
                sid = next(sids)
                page = await a.twiml(
                    "/twilio/voice", {"CallSid": sid, "From": CALLER_NUMBER, "To": FRONT_DOOR}
                )
                for node, key in zip([b, a, b], AMH_KEYS, strict=True):
                    page = await node.twiml(page.gather_url(), {"CallSid": sid, "Digits": key})
                assert page.conference().text == f"fd-{sid}"
                # A repeated gather on the other node: the same answer, not a second enqueue.
                assert (
                    await a.twiml(f"/twilio/gather?step={len(AMH_KEYS)}", {"CallSid": sid, "Digits": "3"})
                ).text == page.text
                conference = await b.conference_event(sid, "participant-join")
                leg = await a.wait_for_leg(PHONES[AGENT])
                answered = await b.twiml(path_of(leg["Url"]), {"CallSid": leg["sid"]})
                assert answered.conference().text == f"fd-{sid}"
                rest.clear()
                resp = await a.r.client.post(f"/api/contacts/{sid}/hold", headers=agent)
                assert resp.status_code == 200, resp.text
                assert rest.calls() == [
                    (
                        f"conferences({conference}).participants({sid}).update",
                        {"Hold": "true", "HoldUrl": f"{BASE}/twilio/held", "HoldMethod": "POST"},
                    )
                ]
                await b.status(sid, "completed", 7)
                await a.status(sid, "completed", 7)
                assert (await ra.services.store.get_contact(sid)).state is ContactState.WRAP_UP
                assert len(rest.calls_to(PHONES[AGENT])) == 1  # rung once, whichever node published the offer
