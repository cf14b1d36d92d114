"""Demo mode: seeded people and history, a living centre of simulated callers and agents."""

from __future__ import annotations

from fastapi import FastAPI
from rich.console import Console
from rich.table import Table

from cti.config.settings import Settings
from cti.wiring import Services

DEMO_PASSWORD = "demo"  # demo configuration only: printed on purpose
HUMAN_AGENTS = [f"agent{i:02d}" for i in range(1, 11)] + [f"specialist{i:02d}" for i in range(1, 4)]
BOT_AGENTS = [f"agent{i:02d}" for i in range(11, 21)] + [f"specialist{i:02d}" for i in range(4, 7)]


def install_demo(app: FastAPI, settings: Settings) -> None:
    async def start(services: Services) -> None:
        from cti.records.demo_data import seed_demo
        from cti.sim.bots import BotProfile
        from cti.sim.centre import LivingCentre

        await seed_demo(services.records)
        numbers = await services.records.known_numbers(limit=500)
        # Bots talk for 40% of the queues' usual time, so a demo minute shows several whole calls.
        centre = LivingCentre(
            services,
            bots=BOT_AGENTS,
            calls_per_minute=settings.sim_calls_per_minute,
            seed=settings.sim_seed,
            known_numbers=numbers,
            bot_profile=BotProfile(talk_scale=0.4, wrap_s=(8.0, 30.0)),
        )
        services.extras["living_centre"] = centre
        await centre.start()

    async def stop(services: Services) -> None:
        centre = services.extras.pop("living_centre", None)
        if centre is not None:
            await centre.stop()

    app.state.on_started.append(start)
    app.state.on_stopping.append(stop)


def print_banner(settings: Settings) -> None:
    console = Console()
    base = f"http://{settings.host}:{settings.port}"
    console.print(f"\n[bold]Frontdoor demo[/bold] on {base}")
    console.print(f"  records: {settings.database_url}; state: in memory; telephony: simulator")
    console.print(f"  API docs      {base}/docs")
    console.print(f"  OpenAPI       {base}/openapi.json")
    console.print(f"  Health        {base}/healthz")
    table = Table(title="Demo logins (password for all: demo)", show_lines=False)
    table.add_column("role")
    table.add_column("usernames")
    table.add_row("agent (you)", "agent01 .. agent10")
    table.add_row("agent (simulated)", "agent11 .. agent20")
    table.add_row("specialist", "specialist01 .. specialist03 (04..06 simulated)")
    table.add_row("supervisor", "supervisor01")
    table.add_row("admin", "admin")
    console.print(table)
    console.print(
        f"  Try: curl -s -X POST {base}/api/login -H 'content-type: application/json' "
        '-d \'{"username":"agent01","password":"demo"}\'\n'
    )
