"""The AMI client over a real TCP socket: replayed captures and the model PBX of cti.asterisk.testing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cti.asterisk.client import AmiAuthError, AmiClient, AmiError, Resync
from cti.asterisk.protocol import FrameParser, Message
from cti.asterisk.testing import AmiTestServer
from tests.asterisk.test_protocol import FIXTURES, TRANSCRIPTS
from tests.conftest import until

PLAIN = [p.stem for p in TRANSCRIPTS if not p.stem.startswith("07")] + ["07b-protocol-errors"]


@pytest.fixture
async def server() -> AsyncIterator[AmiTestServer]:
    srv = AmiTestServer({"frontdoor": "fd-secret"})
    await srv.start()
    yield srv
    await srv.close()


def make_client(server: AmiTestServer, **kwargs: object) -> AmiClient:
    options: dict[str, object] = {"backoff_initial": 0.01, "backoff_max": 0.05, "ping_interval": 30.0}
    options.update(kwargs)
    secret = str(options.pop("secret", "fd-secret"))
    return AmiClient(server.host, server.port, "frontdoor", secret, **options)  # type: ignore[arg-type]


def recorded(name: str) -> tuple[list[Message], list[Message]]:
    received = FrameParser().feed((FIXTURES / f"{name}.ami").read_bytes())
    sent = FrameParser(expect_banner=False).feed((FIXTURES / f"{name}.sent.ami").read_bytes())
    return received, sent


def without_action_id(message: Message) -> list[tuple[str, str]]:
    return [(k, v) for k, v in message.pairs if k.lower() != "actionid"]


@pytest.mark.parametrize("name", PLAIN)
async def test_replayed_capture_replies_lists_and_events(server: AmiTestServer, name: str) -> None:
    """The client sends the captured actions; replies, list items and the event stream match the
    capture exactly (ActionIDs aside: the client uses its own)."""
    received, sent = recorded(name)
    server.replay(name, FIXTURES)
    client = AmiClient(server.host, server.port, "cti", "cti-secret", auth="plain", resync=False)
    events: list[Message] = []
    client.on_event(events.append)
    await client.connect_once()
    assert client.banner == "Asterisk Call Manager/11.0.0"
    by_id = {m.action_id: m for m in received if m.event is None}
    list_ids = {m.action_id for m in received if m.event is None and m.get("EventList") == "start"}
    for action in sent[1:]:
        headers = [(k, v) for k, v in action.pairs if k.lower() not in ("action", "actionid")]
        reply = await client.send(action.get("Action") or "", headers, check=False)
        expected = by_id[action.action_id]
        assert without_action_id(reply.response) == without_action_id(expected)
        if action.action_id in list_ids:
            items = [m for m in received if m.event and m.action_id == action.action_id]
            assert reply.complete is not None
            assert [without_action_id(m) for m in [*reply.events, reply.complete]] == [
                without_action_id(m) for m in items
            ]
            assert int(reply.complete["ListItems"]) == len(reply.events)
    await client.drained()
    list_items = {id(m) for m in received if m.event and m.action_id in list_ids}
    expected_events = [m for m in received if m.event and id(m) not in list_items]
    assert [without_action_id(m) for m in events] == [without_action_id(m) for m in expected_events]
    await client.close()


async def test_replayed_md5_login_sends_the_key_asterisk_accepted(server: AmiTestServer) -> None:
    server.replay("07c-md5-challenge-login", FIXTURES)
    client = AmiClient(server.host, server.port, "cti", "cti-secret", auth="md5", events="off", resync=False)
    await client.connect_once()
    login = next(m for m in server.actions if m.get("Action") == "Login")
    assert login["Key"] == "f0e6c8a7f0471cc7d7479e02b1c7005d"
    pong = await client.send("Ping")
    assert pong.response["Ping"] == "Pong"
    await client.close()


async def test_replayed_permission_denied_is_an_error(server: AmiTestServer) -> None:
    server.replay("07d-permission-denied", FIXTURES)
    client = AmiClient(server.host, server.port, "cti-monitor", "monitor-secret", auth="plain", resync=False)
    await client.connect_once()
    with pytest.raises(AmiError, match="Permission denied"):
        await client.send("Originate", [("Channel", "Local/07700900000@caller-sim")])
    summary = await client.send("QueueSummary", [("Queue", "mental-health")])
    assert [m["Queue"] for m in summary.events] == ["mental-health"]
    await client.close()


async def test_md5_and_plain_login_against_the_model(server: AmiTestServer) -> None:
    for auth in ("md5", "plain"):
        client = make_client(server, auth=auth)
        snapshot = await client.connect_once()
        assert isinstance(snapshot, Resync)
        await client.close()
    assert server.logins == 2
    challenge = [m.get("Action") for m in server.actions][:3]
    assert challenge == ["Challenge", "Login", "CoreShowChannels"]


async def test_wrong_secret_fails_and_the_server_hangs_up(server: AmiTestServer) -> None:
    client = make_client(server, secret="wrong")
    with pytest.raises(AmiAuthError, match="Authentication failed"):
        await client.connect_once()
    await until(lambda: not server.sessions, message="server closes the connection")
    await client.close()


async def test_actions_before_login_are_denied(server: AmiTestServer) -> None:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(b"Action: Ping\r\nActionID: a1\r\n\r\n")
    parser = FrameParser()
    messages: list[Message] = []
    while not messages:
        messages += parser.feed(await reader.read(1024))
    assert parser.banner == "Asterisk Call Manager/11.0.0"
    assert messages[0].pairs == [("Response", "Error"), ("ActionID", "a1"), ("Message", "Permission denied")]
    writer.close()


async def test_resync_after_every_login_reaches_handlers_in_event_order(server: AmiTestServer) -> None:
    server.add_queue("asc_triage", [("Alice Adams", "PJSIP/2001")])
    caller = await server.caller_dials("01164960000", "07700900123", "Alice Caller")
    client = make_client(server)
    seen: list[str] = []
    client.on_event(lambda m: seen.append(m.event or ""))
    client.on_resync(lambda r: seen.append(f"resync{r.generation}:{len(r.channels)}:{len(r.queues)}"))
    await client.start()
    await until(lambda: "resync1:1:2" in seen, message="first resync")
    await server.hang_up(caller.uniqueid)
    await until(lambda: "Hangup" in seen, message="hangup event")
    await server.drop_connections()
    await until(lambda: "resync2:0:2" in seen, message="resync after reconnect")
    assert client.generation == 2
    # Events of the first connection come before its... resync of the second, in order.
    assert seen.index("resync1:1:2") < seen.index("Hangup") < seen.index("resync2:0:2")
    await client.close()


async def test_ping_watchdog_drops_a_silent_connection_and_reconnects(server: AmiTestServer) -> None:
    client = make_client(server, ping_interval=0.05, ping_timeout=0.1, connect_timeout=0.2)
    await client.start()
    assert await client.wait_connected(2)
    server.mute()
    await until(lambda: not client.connected, message="watchdog notices")
    server.mute(False)
    await until(lambda: client.connected and client.generation >= 2, message="reconnected")
    await client.close()


async def test_garbage_and_a_failing_handler_never_stop_the_client(server: AmiTestServer) -> None:
    client = make_client(server)
    events: list[str] = []

    def fragile(message: Message) -> None:
        if message.event == "Boom":
            raise RuntimeError("handler bug")
        events.append(message.event or "")

    client.on_event(fragile)
    await client.start()
    assert await client.wait_connected(2)
    session = server.sessions[0]
    session.writer.write(
        b"\x00\xff\xfe total garbage\r\n\r\nno colon here\r\n\r\n: empty key\r\n\r\n"
        b"Event: Boom\r\n\r\nResponse: Success\r\nActionID: nobody-asked\r\n\r\n"
        b"Event: Newexten\r\nChannel: x\r\n\r\n" + b"z" * 100 + b"\n\r\n"
    )
    await until(lambda: "Newexten" in events, message="later events still handled")
    assert (await client.send("Ping")).response["Ping"] == "Pong"
    assert client.connected and client.generation == 1
    assert client.garbage >= 3
    await client.close()


async def test_an_unreachable_port_is_retried_with_backoff(tmp_path: Path) -> None:
    srv = AmiTestServer()
    port = await srv.start()
    await srv.close()  # nothing listens there now
    client = AmiClient("127.0.0.1", port, "frontdoor", "fd-secret", backoff_initial=0.01, backoff_max=0.02)
    await client.start()
    await until(lambda: client.last_error is not None, message="connect error recorded")
    assert not client.connected
    await client.close()
