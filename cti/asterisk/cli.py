"""``frontdoor asterisk ...``"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Asterisk (AMI)", no_args_is_help=True)


@app.command("check")
def check_command(
    host: Annotated[str | None, typer.Option(help="AMI host (else ami_host)")] = None,
    port: Annotated[int | None, typer.Option(help="AMI port (else ami_port)")] = None,
    username: Annotated[str | None, typer.Option(help="AMI user (else ami_username)")] = None,
    secret: Annotated[str | None, typer.Option(help="AMI secret (else ami_secret)")] = None,
    plain: Annotated[bool, typer.Option("--plain", help="Plain-text login instead of MD5 challenge")] = False,
    config: Annotated[Path | None, typer.Option(help="Settings YAML file")] = None,
) -> None:
    """Connect, log in, resync; print the PBX version, channels and queues; warn about risky settings."""
    from cti.asterisk.check import check
    from cti.config.settings import load_settings
    from cti.domain.errors import ConfigError

    try:
        settings = load_settings(config, ami_host=host, ami_port=port, ami_username=username)
    except ConfigError as exc:
        typer.echo(f"frontdoor: invalid configuration: {exc.message}", err=True)
        raise typer.Exit(2) from None
    if secret is None and settings.ami_secret is not None:
        secret = settings.ami_secret.get_secret_value()
    if secret is None:
        typer.echo("frontdoor: no AMI secret: give --secret or set FRONTDOOR_AMI_SECRET", err=True)
        raise typer.Exit(2)
    report = asyncio.run(
        check(
            settings.ami_host,
            settings.ami_port,
            settings.ami_username,
            secret,
            auth="plain" if plain else "md5",
        )
    )
    for line in report.lines:
        typer.echo(line)
    for warning in report.warnings:
        typer.echo(f"WARNING: {warning}")
    raise typer.Exit(0 if report.connected else 1)
