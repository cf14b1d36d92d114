"""``frontdoor asterisk ...``"""

from __future__ import annotations

import typer

app = typer.Typer(help="Asterisk (AMI)", no_args_is_help=True)
