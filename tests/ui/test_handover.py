"""Warm handover in real Chromium beyond the happy path: a reload in the middle of it, and a cancel.

agent14 asks for a specialist for a caller with history; specialist04 accepts the consult. Both pages
are reloaded mid-consult and come back with the handover as it is (state, note, live notes, the
caller's context), and then follow it live from their own streams (no polling). A second handover
is cancelled from the browser: the caller is back with agent14 and specialist04's screen says so.
"""

from __future__ import annotations

from playwright.async_api import Request

from tests.api.conftest import Running
from tests.ui.conftest import Ui, Watched, expect
from tests.ui.test_desktop import CALLER, QUEUE, seed_caller


async def consulting(ui: Ui, r: Running, named: bool = False) -> tuple[Watched, Watched, str]:
    """agent14 on a call with the seeded caller has asked for a specialist (the queue, or specialist04
    by name, picked from the colleagues signed in); specialist04 accepted."""
    await seed_caller(r)
    desk = await ui.open("/", "agent14")
    spec = await ui.open("/", "specialist04")
    page, sp = desk.page, spec.page
    call_id = await r.place_call(await r.login("supervisor01"), queue=QUEUE, cli=CALLER)
    await page.get_by_role("button", name="Available", exact=True).click()
    await expect(page.locator("#offer")).to_contain_text("Rowan Example")
    await page.locator("#accept-offer").click()
    await expect(page.locator("#call-state")).to_have_text("Connected · Adult mental health")
    await sp.get_by_role("button", name="Available", exact=True).click()  # free for the consult only
    await expect(sp.locator("#my-state")).to_contain_text("Available")

    if named:
        await page.get_by_label("A named worker").check()
        choice = page.locator('#handover-worker-options option[value="specialist04"]')
        await expect(choice).to_have_text("Mental health practitioner 04 (Specialist, Available)")
        await expect(page.locator('#handover-worker-options option[value="agent14"]')).to_have_count(0)
        await page.get_by_label("Worker (username)").fill("specialist04")
    else:
        await page.get_by_label("Queue", exact=True).select_option(QUEUE)
    await page.get_by_label("Reason for the handover (required)").fill("Low mood, wants a practitioner today")
    await page.get_by_label("Note for the specialist").fill("Daughter calling; prefers first names.")
    await page.get_by_role("button", name="Ask for a specialist").click()
    await expect(sp.locator("#offer-heading")).to_have_text("Warm handover from agent14")
    await sp.get_by_role("button", name="Accept").click()
    status = page.locator("#handover-status")
    await expect(status.locator(".handover-state")).to_have_text("Specialist on the line with you")
    await expect(sp.locator("#incoming-handover .note-reason")).to_have_text(
        "Low mood, wants a practitioner today"
    )
    return desk, spec, call_id


async def test_a_reload_mid_handover_brings_the_handover_back_on_both_sides(ui: Ui, server: Running) -> None:
    desk, spec, _ = await consulting(ui, server)
    page, sp = desk.page, spec.page
    status = page.locator("#handover-status")
    await status.get_by_label("Note to the other side").fill("GP visited last week")
    await status.get_by_role("button", name="Send note").click()
    incoming = sp.locator("#incoming-handover")
    await expect(incoming.locator(".live-notes")).to_contain_text("agent14: GP visited last week")

    # The asking agent reloads: the panel comes back with the state, the specialist and the notes.
    await page.reload()
    await expect(page.locator("#connection")).to_have_text("Connected")
    await expect(page.locator("#login")).to_be_hidden()
    await expect(status.locator(".handover-state")).to_have_text("Specialist on the line with you")
    await expect(status.locator(".handover-specialist")).to_have_text("specialist04")
    await expect(status.locator(".live-notes")).to_have_text("agent14: GP visited last week")
    await expect(page.locator("#call-state")).to_contain_text("On hold")
    await expect(page.locator("#handover-form")).to_be_hidden()

    # The specialist reloads: the note, the caller's context and the live notes, before the transfer.
    await sp.reload()
    await expect(sp.locator("#connection")).to_have_text("Connected")
    await expect(incoming.locator(".from")).to_have_text("From agent14 · on the line with the agent")
    await expect(incoming.locator(".note-reason")).to_have_text("Low mood, wants a practitioner today")
    await expect(incoming.locator(".note-free")).to_have_text("Daughter calling; prefers first names.")
    await expect(incoming.locator(".person-name")).to_have_text("Rowan Example")
    await expect(incoming).to_contain_text("NHS 999 000 0018, born 3 Feb 1950")
    await expect(incoming.locator(".live-notes")).to_have_text("agent14: GP visited last week")
    await expect(sp.locator("#call-state")).to_have_text("Connected · consult with agent14, caller on hold")

    # Live again on both sides, from their own streams: nobody polls the handover.
    polled: list[str] = []

    def watch(request: Request) -> None:
        if request.method == "GET" and "/api/handovers/" in request.url:
            polled.append(request.url)

    page.on("request", watch)
    sp.on("request", watch)
    await incoming.get_by_label("Note to the other side").fill("Thanks, I have it")
    await incoming.get_by_role("button", name="Send note").click()
    await expect(status.locator(".live-notes li")).to_have_text(
        ["agent14: GP visited last week", "specialist04: Thanks, I have it"]
    )
    await status.get_by_role("button", name="Complete handover").click()
    await expect(status.locator(".handover-state")).to_have_text(
        "Completed: the caller is with the specialist"
    )
    await expect(incoming.locator(".from")).to_have_text("From agent14 · completed: the caller is with you")
    await expect(sp.locator("#call-state")).to_have_text("Connected · caller handed over by agent14")
    assert polled == []

    # Reloaded after the transfer, the specialist still has the note beside the caller.
    await sp.reload()
    await expect(sp.locator("#connection")).to_have_text("Connected")
    await expect(incoming.locator(".note-reason")).to_have_text("Low mood, wants a practitioner today")
    await expect(sp.locator("#call-state")).to_have_text("Connected · caller handed over by agent14")


async def test_cancelling_a_handover_takes_the_caller_back_and_tells_the_specialist(
    ui: Ui, server: Running
) -> None:
    desk, spec, call_id = await consulting(ui, server, named=True)
    page, sp = desk.page, spec.page
    status = page.locator("#handover-status")
    await status.get_by_role("button", name="Cancel and take the caller back").click()
    await expect(status.locator(".handover-state")).to_have_text("Cancelled: the caller is back with you")
    await expect(status.get_by_role("button", name="Complete handover")).to_have_count(0)
    await expect(page.locator("#call-state")).to_have_text("Connected · Adult mental health")
    await expect(page.locator("#handover-form")).to_be_visible()  # a new handover may be asked for

    incoming = sp.locator("#incoming-handover")
    await expect(incoming.locator(".from")).to_have_text(
        "From agent14 · cancelled: the caller went back to the agent"
    )
    await expect(sp.locator("#call-state")).to_have_text(
        "Wrap-up · consult with agent14 over: handover cancelled"
    )
    await incoming.get_by_role("button", name="Dismiss").click()
    await expect(incoming).to_be_hidden()

    contact = await server.services.store.get_contact(call_id)
    assert (contact.state, contact.agent_id) == ("connected", "agent14")
