"""Only Twilio gets in: every webhook checks X-Twilio-Signature over the configured public URL, and
no body, however malformed, gets more than a 4xx."""

from __future__ import annotations

from pathlib import Path

from tests.api.conftest import settings_for
from tests.twilio.conftest import BASE, FALLBACK, Twilio, sign, start_server
from tests.twilio.fake_rest import RecordingHttp

CALL = "CA" + "a" * 32
VOICE = {"CallSid": CALL, "From": "+447700900123", "To": "+441164960000", "CallStatus": "ringing"}
ROUTES = [
    "/twilio/voice",
    "/twilio/gather?step=1",
    "/twilio/status",
    "/twilio/conference",
    "/twilio/hold?contact=x&turn=0",
    "/twilio/held",
    "/twilio/agent?contact=x&agent=agent14",
    "/twilio/join?contact=x",
    "/twilio/fallback",
]


async def test_unsigned_and_wrongly_signed_requests_are_refused(twilio_app: Twilio) -> None:
    for path in ROUTES:
        await refused_everywhere(twilio_app, path)


async def refused_everywhere(twilio_app: Twilio, path: str) -> None:
    client = twilio_app.r.client
    unsigned = await client.post(path, data=VOICE)
    assert unsigned.status_code == 403
    assert unsigned.json()["error_id"] == "twilio_signature_invalid"
    forged = await twilio_app.post(
        path, VOICE, signature=sign(BASE + path, {**VOICE, "From": "+447700900999"})
    )
    assert forged.status_code == 403 and forged.json()["error_id"] == "twilio_signature_invalid"
    # Signed for the address the request really reached (the Host header): not the public URL, refused.
    local = await twilio_app.post(path, VOICE, signature=sign(twilio_app.r.base_url + path, VOICE))
    assert local.status_code == 403
    other_token = await twilio_app.post(path, VOICE, signature="dGhpcyBpcyBub3QgYSBzaWduYXR1cmU=")
    assert other_token.status_code == 403


async def the_signature_covers_the_query_string(twilio_app: Twilio) -> None:
    signed_for = "/twilio/hold?contact=x&turn=0"
    params = {"CallSid": CALL}
    resp = await twilio_app.post(
        "/twilio/hold?contact=x&turn=7", params, signature=sign(BASE + signed_for, params)
    )
    assert resp.status_code == 403


async def test_the_fallback_the_hold_page_and_unknown_calls(twilio_app: Twilio) -> None:
    await the_signature_covers_the_query_string(twilio_app)
    await on_hold_callers_hear_a_message_in_a_loop(twilio_app)
    await unknown_calls_get_404(twilio_app)
    page = await twilio_app.twiml("/twilio/fallback", {**VOICE, "ErrorCode": "11200"})
    dial = page.find("Dial")
    assert dial is not None and dial.text == FALLBACK
    assert page.said() and "adviser" in page.said()[0]


async def on_hold_callers_hear_a_message_in_a_loop(twilio_app: Twilio) -> None:
    page = await twilio_app.twiml("/twilio/held", {"CallSid": CALL})
    redirect = page.find("Redirect")
    assert redirect is not None and redirect.text == f"{BASE}/twilio/held"
    assert "on hold" in page.said()[0]


MALFORMED_FIELDS = [
    ("/twilio/voice", {"From": "+447700900123", "To": "+441164960000"}, "CallSid"),
    ("/twilio/voice", {"CallSid": "CA123", "To": "+441164960000"}, "CallSid"),
    ("/twilio/voice", {"CallSid": CALL, "From": "+447700900123"}, "To"),
    ("/twilio/voice", {"CallSid": CALL, "To": "<script>"}, "To"),
    ("/twilio/status", {"CallSid": CALL}, "CallStatus"),
    ("/twilio/status", {"CallSid": CALL, "CallStatus": "completed", "SequenceNumber": "x"}, "SequenceNumber"),
    ("/twilio/status", {"CallSid": CALL, "CallStatus": "Completed!"}, "CallStatus"),
    (
        "/twilio/status",
        {"CallSid": CALL, "CallStatus": "completed", "SequenceNumber": "\u00b2"},
        "SequenceNumber",
    ),
    ("/twilio/status", {"CallSid": "CF" + "a" * 32, "CallStatus": "completed"}, "CallSid"),
    ("/twilio/conference", {"ConferenceSid": "CF1", "FriendlyName": "fd-x"}, "ConferenceSid"),
    ("/twilio/gather?step=0", {"CallSid": CALL, "Digits": "12a"}, "Digits"),
    ("/twilio/gather?step=0", {"CallSid": CALL, "Digits": "1" * 65}, "Digits"),
    ("/twilio/voice", {"CallSid": CALL, "To": "+441164960000", "From": "x" * 300}, "From"),
]
MALFORMED_QUERIES = [
    ("/twilio/gather?step=-1", {"CallSid": CALL}),
    ("/twilio/gather?step=x", {"CallSid": CALL}),
    ("/twilio/gather", {"CallSid": CALL}),
    ("/twilio/hold?contact=%3Cx%3E&turn=0", {"CallSid": CALL}),
    ("/twilio/hold?contact=x", {"CallSid": CALL}),
    ("/twilio/agent?contact=x", {"CallSid": CALL}),
]
NOT_FORMS = [
    ("application/json", b'{"CallSid": "x"}'),
    ("application/x-www-form-urlencoded", b"\xff\xfe=\x00"),
    ("application/x-www-form-urlencoded", b"CallSid"),
    ("application/x-www-form-urlencoded", b"a=1&&&=="),
    ("application/x-www-form-urlencoded", b"a=" + b"1" * 70_000),
    ("text/plain", b"hello"),
]


async def test_malformed_requests_get_4xx_never_500(twilio_app: Twilio) -> None:
    for path, params, field in MALFORMED_FIELDS:
        resp = await twilio_app.post(path, params)
        assert resp.status_code == 422, resp.text
        assert resp.json()["error_id"] == "twilio_bad_field"
        assert resp.json()["details"]["field"] == field
    for path, params in MALFORMED_QUERIES:
        resp = await twilio_app.post(path, params)
        assert resp.status_code == 422, (path, resp.text)
        assert resp.json()["error_id"] == "invalid_request"
    junk = [
        {"x": "y"},
        {"CallSid": CALL},
        {"CallSid": CALL, "Digits": "", "CallStatus": "", "To": "", "From": ""},
    ]
    for path in ROUTES:
        for params in junk:
            resp = await twilio_app.post(path, params)
            assert resp.status_code < 500, (path, params, resp.text)
    for content_type, body in NOT_FORMS:
        resp = await twilio_app.r.client.post(
            "/twilio/voice", content=body, headers={"content-type": content_type, "X-Twilio-Signature": "x"}
        )
        assert resp.status_code == 422, resp.text
        assert resp.json()["error_id"] == "twilio_bad_body"


async def unknown_calls_get_404(twilio_app: Twilio) -> None:
    resp = await twilio_app.post("/twilio/gather?step=0", {"CallSid": CALL, "Digits": "1"})
    assert resp.status_code == 404 and resp.json()["error_id"] == "twilio_unknown_call"
    resp = await twilio_app.post("/twilio/agent?contact=x&agent=agent14", {"CallSid": CALL})
    assert resp.status_code == 404 and resp.json()["error_id"] == "twilio_unknown_call"


async def test_without_twilio_telephony_the_webhooks_are_absent(tmp_path: Path, rest: RecordingHttp) -> None:
    async for r in start_server(settings_for(tmp_path)):
        resp = await r.client.post(
            "/twilio/voice", data=VOICE, headers={"X-Twilio-Signature": sign(BASE, VOICE)}
        )
        assert resp.status_code == 404 and resp.json()["error_id"] == "twilio_not_enabled"
