"""``frontdoor scripts ...``: lint triage scripts (CI lints every shipped one)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cti.domain.errors import FrontdoorError

app = typer.Typer(help="Triage call scripts", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Triage call scripts."""


@app.command()
def lint(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Script files or folders (default: the shipped library)")
    ] = None,
    centre: Annotated[
        Path | None, typer.Option("--centre", help="Centre folder to check skills, services, queues against")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Reject what domain.md rejects (each problem names script, node, reason); run the built-in
    tests; report outcomes no test reaches. Exit 1 if any script has a problem."""
    from scripts.lint import centre_references, lint_paths
    from scripts.service import LIBRARY_DIR

    targets = paths or [LIBRARY_DIR]
    for target in targets:
        if not target.exists():
            typer.echo(f"frontdoor scripts lint: no such file or folder: {target}", err=True)
            raise typer.Exit(2)
    try:
        refs = centre_references(centre)
    except FrontdoorError as exc:
        typer.echo(f"frontdoor scripts lint: {exc.message}", err=True)
        raise typer.Exit(2) from None
    reports = lint_paths(targets, refs)
    if as_json:
        out = [
            {
                "source": r.source,
                "script": r.script.ref if r.script else None,
                "ok": r.ok,
                "problems": [
                    {"script": p.script, "node": p.node, "rule": p.rule, "message": p.message}
                    for p in r.problems
                ],
                "tests": {"run": r.tests_run, "passed": r.tests_passed},
                "untested_outcomes": r.untested_outcomes,
            }
            for r in reports
        ]
        typer.echo(json.dumps(out, indent=2))
    else:
        for r in reports:
            name = r.script.ref if r.script else r.source
            verdict = "ok" if r.ok else f"{len(r.problems)} problem(s)"
            typer.echo(f"{name}: {verdict}; tests {r.tests_passed}/{r.tests_run} passed")
            for problem in r.problems:
                typer.echo(f"  {problem}")
            if r.untested_outcomes:
                typer.echo(f"  outcomes no test reaches: {', '.join(r.untested_outcomes)}")
        bad = sum(1 for r in reports if not r.ok)
        typer.echo(f"{len(reports)} script(s) linted, {bad} rejected")
    if not reports or any(not r.ok for r in reports):
        raise typer.Exit(1)
