"""``frontdoor scripts ...``"""

from __future__ import annotations

import typer

app = typer.Typer(help="scripts", no_args_is_help=True)
