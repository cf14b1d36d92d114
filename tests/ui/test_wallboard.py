"""The wallboard's alerts, live: a caller waiting past the queue's threshold (breach) and an agent whose
desktop went silent (unreachable). The centre is the demo one with short thresholds for the test."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from playwright.async_api import Browser

from cti.config.settings import DEMO_DIR
from tests.api.conftest import Running, settings_for, start_server
from tests.ui.conftest import Ui, expect

QUEUE = "amh_spa"


def quick_centre(tmp_path: Path) -> Path:
    """The demo centre with a 1 s service-level threshold on amh_spa and a 1 s desktop heartbeat."""
    centre = tmp_path / "centre"
    shutil.copytree(DEMO_DIR, centre)
    queues = yaml.safe_load((centre / "queues.yaml").read_text())
    for queue in queues["queues"]:
        if queue["id"] == QUEUE:
            queue["service_level"] = {"threshold_s": 1, "target": 0.9}
    (centre / "queues.yaml").write_text(yaml.safe_dump(queues))
    routing = yaml.safe_load((centre / "routing.yaml").read_text())
    routing["heartbeat_timeout_s"] = 1
    (centre / "routing.yaml").write_text(yaml.safe_dump(routing))
    return centre


async def test_breach_and_unreachable_alerts(browser: Browser, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, centre_dir=quick_centre(tmp_path))
    async for r in start_server(settings):
        await alerts_on_the_wallboard(Ui(browser, r.base_url), r)


async def alerts_on_the_wallboard(ui: Ui, r: Running) -> None:
    board = await ui.open("/wallboard", "supervisor01")
    wb = board.page
    alerts = wb.locator("#alerts")
    await expect(wb.locator("#no-alerts")).to_be_visible()

    call_id = await r.place_call(await r.login("supervisor01"), queue=QUEUE, cli="07700 900777")
    breach = alerts.locator("li.alert.breach")
    await expect(breach).to_have_text(
        f"Breach: Adult mental health · contact {call_id} · waited longer than the 1 s threshold"
    )
    await expect(wb.locator(f'article[data-queue="{QUEUE}"]')).to_have_class("tile waiting breaching")

    # An agent who does not serve this queue goes available, then their desktop goes away.
    desk = await ui.open("/", "agent01")
    await desk.page.get_by_role("button", name="Available", exact=True).click()
    await expect(wb.locator('tr[data-agent="agent01"] .agent-state')).to_have_text("Available")
    await desk.context.close()
    unreachable = alerts.locator("li.alert.agent_unreachable")
    await expect(unreachable).to_have_text(
        "Agent unreachable: agent01 lost their connection and was made not ready"
    )
    await expect(wb.locator('tr[data-agent="agent01"] .agent-state')).to_have_text("Not ready (Unreachable)")

    # The caller is answered: the breach clears. The supervisor logs the lost agent out: so does that alert.
    answering = await ui.open("/", "agent14")
    await answering.page.get_by_role("button", name="Available", exact=True).click()
    await answering.page.get_by_role("button", name="Accept").click()
    await expect(breach).to_have_count(0)
    row = wb.locator('tr[data-agent="agent01"]')
    await row.get_by_label("New status for agent01").select_option("logged_out")
    await row.get_by_role("button", name="Set status of agent01").click()
    await expect(unreachable).to_have_count(0)
    await expect(wb.locator("#no-alerts")).to_be_visible()
    await expect(row).to_be_hidden()  # logged-out agents are hidden unless asked for
    await wb.get_by_label("Show logged-out agents").check()
    await expect(row.locator(".agent-state")).to_have_text("Logged out")
    for watched in ui.pages:
        await watched.context.close()
        watched.assert_clean()
