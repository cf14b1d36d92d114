"""``frontdoor asterisk check`` against the test AMI server (in a thread: the command runs its own loop)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from cti.asterisk.testing import AmiTestServer
from cti.cli import app

runner = CliRunner()


@pytest.fixture
def pbx() -> Iterator[AmiTestServer]:
    loop = asyncio.new_event_loop()
    server = AmiTestServer({"frontdoor": "fd-secret", "admin": "admin-secret"}, system_users=["admin"])
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        server.add_queue("asc_triage", [("Alice Adams", "PJSIP/2001")])
        loop.run_until_complete(server.caller_dials("01164960000", "07700900123", "Alice Caller"))
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(5)
    yield server
    asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_check_connects_and_reports_version_channels_and_queues(pbx: AmiTestServer) -> None:
    args = ["asterisk", "check", "--host", "127.0.0.1", "--port", str(pbx.port)]
    result = runner.invoke(app, [*args, "--username", "frontdoor", "--secret", "fd-secret"])
    assert result.exit_code == 0, result.output
    assert "Asterisk 22.10.1" in result.output
    assert "channels: 1" in result.output and "frontdoor-in" in result.output
    assert "asc_triage  calls=0  members=1" in result.output
    assert "07700900123" not in result.output  # no caller numbers on the console
    assert "WARNING: the AMI user may use command" not in result.output


def test_check_warns_about_a_user_with_system_privilege(pbx: AmiTestServer) -> None:
    args = ["asterisk", "check", "--host", "127.0.0.1", "--port", str(pbx.port), "--plain"]
    result = runner.invoke(app, [*args, "--username", "admin", "--secret", "admin-secret"])
    assert result.exit_code == 0, result.output
    assert "WARNING: the AMI user may use command" in result.output
    assert "WARNING: the AMI user may use updateconfig" in result.output


def test_check_takes_its_settings_from_the_environment(
    pbx: AmiTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRONTDOOR_AMI_PORT", str(pbx.port))
    monkeypatch.setenv("FRONTDOOR_AMI_SECRET", "wrong")
    result = runner.invoke(app, ["asterisk", "check"])
    assert result.exit_code == 1
    assert "login refused for frontdoor: Authentication failed" in result.output


def test_check_fails_when_nothing_listens() -> None:
    result = runner.invoke(app, ["asterisk", "check", "--port", "1", "--secret", "x"])
    assert result.exit_code == 1
    assert "cannot connect to 127.0.0.1:1" in result.output


def test_the_adapter_needs_a_secret() -> None:
    from cti.asterisk import create_telephony
    from cti.config.settings import load_settings
    from cti.domain.clock import ManualClock
    from cti.domain.errors import ConfigError

    with pytest.raises(ConfigError, match="ami_secret"):
        create_telephony(load_settings(None, telephony="asterisk"), ManualClock(), None)
