"""``frontdoor asterisk check``: connect, log in, resync, and report what the PBX looks like."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

from cti.asterisk.client import AmiAuthError, AmiClient, AmiConnectionError, AmiError, Resync

# Write classes a Frontdoor AMI user never needs: they give shell, config or module control.
DANGEROUS_COMMANDS = {
    "command": "the CLI (system class): with it an AMI user can run shell commands",
    "updateconfig": "config writes (config class)",
    "getconfig": "config reads (config class): secrets in manager.conf and pjsip.conf",
    "moduleload": "module loading (system class)",
}
NEEDED_VARS = ("FRONTDOOR_CALL", "FRONTDOOR_AGENT")


@dataclass
class Report:
    connected: bool = False
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def check(
    host: str, port: int, username: str, secret: str, *, auth: str = "md5", timeout: float = 5.0
) -> Report:
    report = Report()
    say: Callable[[str], None] = report.lines.append
    warn: Callable[[str], None] = report.warnings.append
    client = AmiClient(
        host,
        port,
        username,
        secret,
        auth="plain" if auth == "plain" else "md5",
        connect_timeout=timeout,
        action_timeout=timeout,
        events="off",
    )
    if not _is_loopback(host):
        warn(
            f"{host} is not loopback: AMI is plain text (secret, caller numbers); use loopback, a VPN "
            "or an SSH tunnel"
        )
    try:
        snapshot = await client.connect_once()
        report.connected = True
        say(f"connected to {host}:{port} as {username} ({client.banner})")
        await _describe(client, snapshot, say, warn)
    except AmiAuthError as exc:
        say(f"login refused for {username}: {exc.message}")
    except (OSError, TimeoutError, AmiConnectionError, AmiError) as exc:
        say(f"cannot connect to {host}:{port}: {type(exc).__name__}: {exc}")
    finally:
        await client.close()
    return report


async def _describe(
    client: AmiClient, snapshot: Resync | None, say: Callable[[str], None], warn: Callable[[str], None]
) -> None:
    try:
        settings = await client.send("CoreSettings")
        say(
            f"Asterisk {settings.response.get('AsteriskVersion', '?')}, "
            f"AMI {settings.response.get('AMIversion', '?')}"
        )
    except AmiError as exc:
        say(f"PBX version unknown ({exc.message})")
    if snapshot is not None:
        say(f"channels: {len(snapshot.channels)}")
        for channel in snapshot.channels:
            # Names, states and where they are; never the caller's number.
            say(
                f"  {channel.get('Channel')}  {channel.get('ChannelStateDesc')}  "
                f"{channel.get('Context')}  {channel.get('Application')}"
            )
        if snapshot.channels and not any("FRONTDOOR_CALL" in c.variables() for c in snapshot.channels):
            warn(
                "manager.conf channelvars lacks FRONTDOOR_CALL,FRONTDOOR_AGENT: after a restart Frontdoor "
                "cannot re-adopt calls that were in progress"
            )
        queues = [m for m in snapshot.queues if m.event == "QueueParams"]
        say(f"queues: {len(queues)}")
        for queue in queues:
            members = sum(
                1
                for m in snapshot.queues
                if m.event == "QueueMember" and m.get("Queue") == queue.get("Queue")
            )
            say(
                f"  {queue.get('Queue')}  calls={queue.get('Calls')}  members={members}  "
                f"strategy={queue.get('Strategy')}"
            )
        if queues:
            say("  (Frontdoor routes calls itself; Asterisk queues are not used by it)")
    try:
        commands = await client.send("ListCommands")
        available = {key.lower() for key, _ in commands.response.pairs}
        for name, why in DANGEROUS_COMMANDS.items():
            if name in available:
                warn(f"the AMI user may use {name}: {why}; give it write=call,originate,agi only")
        for needed in ("originate", "redirect", "bridge", "hangup", "agi", "coreshowchannels"):
            if needed not in available:
                warn(f"the AMI user may not use {needed.title()}: the adapter needs it")
    except AmiError as exc:
        warn(f"cannot list the AMI user's commands ({exc.message})")
