"""``frontdoor ivr ...``"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cti.config.centre import DEMO_DIR, load_centre
from cti.domain.errors import ConfigError
from ivr.flows import FLOWS_DIR
from ivr.lint import lint_path

app = typer.Typer(help="IVR flows", no_args_is_help=True)


@app.command("lint")
def lint_command(
    path: Annotated[Path, typer.Argument(help="A flow file or a folder of flows")] = FLOWS_DIR,
    centre: Annotated[
        Path | None, typer.Option(help="Centre folder whose queues, calendars and numbers to check against")
    ] = DEMO_DIR,
    no_centre: Annotated[bool, typer.Option("--no-centre", help="Check the flows on their own")] = False,
) -> None:
    """Reject unreachable nodes, dead ends and menus with no way to a human. Exit 1 on problems."""
    config = None
    if centre is not None and not no_centre:
        try:
            config = load_centre(centre)
        except ConfigError as exc:
            typer.echo(f"frontdoor: invalid centre configuration: {exc.message}", err=True)
            raise typer.Exit(2) from None
    problems = lint_path(path, config)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        typer.echo(f"{len(problems)} problem(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"{path}: no problems")
