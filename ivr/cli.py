"""``frontdoor ivr ...``"""

from __future__ import annotations

import typer

app = typer.Typer(help="IVR flows", no_args_is_help=True)
