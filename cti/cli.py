"""The ``frontdoor`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Frontdoor: contact-centre backend for a health and social care single point of access.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def serve(
    demo: Annotated[bool, typer.Option("--demo", help="Demo data, simulated callers and agents")] = False,
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    config: Annotated[Path | None, typer.Option(help="Settings YAML file")] = None,
) -> None:
    """Run the server."""
    import uvicorn

    from cti import logs
    from cti.app import create_app
    from cti.config.centre import load_centre
    from cti.config.settings import load_settings
    from cti.demo import install_demo, print_banner
    from cti.domain.errors import ConfigError
    from cti.runtime import tune_gc

    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if demo:
        overrides["demo"] = True
    try:
        settings = load_settings(config, **overrides)
        load_centre(settings.centre_dir)  # fail here, clearly, rather than inside the server's start-up
    except ConfigError as exc:
        typer.echo(f"frontdoor: invalid configuration: {exc.message}", err=True)
        raise typer.Exit(2) from None
    logs.configure(settings.log_level)
    tune_gc()
    application = create_app(settings)
    if settings.demo:
        install_demo(application, settings)
        print_banner(settings)
    from cti.ws import UVICORN_WS_OPTIONS

    uvicorn.run(
        application, host=settings.host, port=settings.port, log_level="warning", **UVICORN_WS_OPTIONS
    )


@app.command()
def bench(
    quick: Annotated[bool, typer.Option(help="Small sizes, for a smoke run")] = False,
    redis_url: Annotated[str, typer.Option(help="Redis to measure")] = "redis://127.0.0.1:6379/0",
) -> None:
    """Measure routing throughput and latency on memory and Redis, beside the bare ceilings."""
    from cti.bench import run_bench

    raise typer.Exit(run_bench(redis_url=redis_url, quick=quick))


def _add_sub_commands() -> None:
    from cti.asterisk.cli import app as asterisk_app
    from ivr.cli import app as ivr_app
    from knowledge.cli import app as kb_app
    from scripts.cli import app as scripts_app

    app.add_typer(ivr_app, name="ivr")
    app.add_typer(asterisk_app, name="asterisk")
    app.add_typer(scripts_app, name="scripts")
    app.add_typer(kb_app, name="kb")


_add_sub_commands()

config_app = typer.Typer(help="Configuration", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("check")
def config_check(
    folder: Annotated[Path | None, typer.Argument(help="Centre configuration folder")] = None,
) -> None:
    """Validate a centre configuration folder; names the file, entry and field of any problem."""
    from cti.config.centre import load_centre
    from cti.config.settings import load_settings
    from cti.domain.errors import ConfigError

    target = folder or load_settings().centre_dir
    try:
        centre = load_centre(target)
    except ConfigError as exc:
        typer.echo(f"invalid: {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"ok: {len(centre.queues)} queues, {len(centre.users)} users in {target}")


if __name__ == "__main__":
    app()
