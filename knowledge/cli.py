"""``frontdoor kb ...``"""

from __future__ import annotations

import typer

app = typer.Typer(help="knowledge", no_args_is_help=True)
