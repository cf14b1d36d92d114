"""The agent desktop and the wallboard in real Chromium: a whole call, a warm handover, live figures.

A caller with history rings the mental health queue; agent14 takes it, runs a triage script, links a
knowledge article and warm-hands the caller to specialist04 (a second browser), who reads the note
before the consult connects; agent14 completes and wraps up. supervisor01's wallboard follows along.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cti.domain.identifiers import display_phone
from tests.api.conftest import Running
from tests.conftest import until
from tests.ui.conftest import Ui, Watched, expect

QUEUE = "amh_spa"  # open 24x7 in the demo centre
CALLER = "07700 900321"
DOCS = Path(__file__).resolve().parents[2] / "agent_ui" / "docs"


async def seed_caller(r: Running) -> int:
    """A synthetic caller with a recent contact and an open service request (illustrative data)."""
    records = r.services.records
    person = await records.add_person(
        given_name="Rowan",
        family_name="Example",
        date_of_birth=date(1950, 2, 3),
        nhs_number="9990000018",
        flags=["lives_alone"],
        communication_needs={"interpreter": "pl"},
        phones=[(CALLER, "mobile")],
    )
    earlier = datetime.now(UTC) - timedelta(days=3)
    await records.record_contact(
        "ui-earlier-1",
        started_at=earlier,
        caller_e164=CALLER,
        person_id=person.id,
        service=QUEUE,
        queue=QUEUE,
    )
    await records.update_contact("ui-earlier-1", outcome_code="advice_given")
    await records.create_service_request(
        person.id, QUEUE, "Community mental health review", status="triaged", reference="SR-UI-0001"
    )
    return person.id


async def screenshot(watched: Watched, name: str, tmp_path: Path) -> None:
    """Pictures for the README: kept under tmp, copied to agent_ui/docs when FRONTDOOR_UI_SCREENSHOTS=1."""
    shot = tmp_path / name
    await watched.page.evaluate("window.scrollTo(0, 0)")
    await watched.page.screenshot(path=str(shot), full_page=False)
    if os.environ.get("FRONTDOOR_UI_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copy(shot, DOCS / name)


async def unlabelled_controls(watched: Watched) -> list[str]:
    """Visible form controls without an accessible name (label, aria-label or aria-labelledby)."""
    found = await watched.page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea, button')]
            .filter((e) => e.offsetParent !== null)
            .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                && !e.getAttribute('aria-labelledby') && !(e.tagName === 'BUTTON' && e.textContent.trim()))
            .map((e) => e.outerHTML.slice(0, 80))"""
    )
    return list(found)


async def supervisor_actions(r: Running, board: Watched, desk: Watched, tmp_path: Path) -> None:
    """A contact nobody serves waits: the supervisor raises its priority and moves it; then sets an
    agent's status, which the agent's desktop shows."""
    wb = board.page
    sup = await r.login("supervisor01")
    waiting = await r.place_call(sup, queue="bed_bureau", cli="07700 900456", caller_type="professional")
    await expect(wb.locator('article[data-queue="bed_bureau"] .queue-waiting')).to_have_text("1")
    await wb.get_by_label("Queue", exact=True).select_option("bed_bureau")
    row = wb.locator(f'#waiting-body tr[data-contact="{waiting}"]')
    await expect(row.locator(".contact-wait")).to_have_text(re.compile(r"^0:\d\d$"))
    await row.get_by_label(f"New priority for {waiting}").fill("9")
    await row.get_by_role("button", name="Set priority").click()
    await expect(row.locator(".contact-priority")).to_have_text("9")
    await expect(wb.locator('tr[data-agent="specialist04"] .agent-state')).to_have_text("On a call")
    await screenshot(board, "wallboard.png", tmp_path)
    assert await unlabelled_controls(board) == []
    await row.get_by_label(f"Queue to move {waiting} to").select_option("icrs_rapid_response")
    await row.get_by_role("button", name="Move").click()
    await expect(wb.locator('article[data-queue="icrs_rapid_response"] .queue-waiting')).to_have_text("1")
    await expect(wb.locator('article[data-queue="bed_bureau"] .queue-waiting')).to_have_text("0")
    await expect(row).to_be_hidden()

    agent = wb.locator('tr[data-agent="agent14"]')
    await agent.get_by_label("New status for agent14").select_option("not_ready")
    await agent.get_by_role("button", name="Set status of agent14").click()
    await expect(agent.locator(".agent-state")).to_have_text("Not ready (Supervisor)")
    await expect(desk.page.locator("#my-state")).to_contain_text("Not ready (Supervisor)")


async def test_a_full_call_with_script_article_and_warm_handover(
    ui: Ui, server: Running, tmp_path: Path
) -> None:
    r = server
    page_headers = (await r.client.get("/")).headers
    assert "script-src 'self'" in page_headers["content-security-policy"]
    assert "unsafe-inline" not in page_headers["content-security-policy"]
    await seed_caller(r)
    sup = await r.login("supervisor01")
    board = await ui.open("/wallboard", "supervisor01")
    wb = board.page
    tile = wb.locator(f'article[data-queue="{QUEUE}"]')
    await expect(tile.locator(".queue-waiting")).to_have_text("0")

    desk = await ui.open("/", "agent14")
    page = desk.page
    await expect(page.locator("#my-state")).to_contain_text("Logged out")

    # A call waits: the wallboard shows it at once.
    call_id = await r.place_call(sup, queue=QUEUE, cli=CALLER, caller_type="carer")
    await expect(tile.locator(".queue-waiting")).to_have_text("1")
    await expect(wb.locator("#waiting-body tr")).to_have_count(0)  # the list shows the first queue
    await wb.get_by_label("Queue", exact=True).select_option(QUEUE)
    await expect(wb.locator(f'#waiting-body tr[data-contact="{call_id}"]')).to_be_visible()

    # The agent goes available; the offer pops with the caller's history and a countdown.
    await page.get_by_role("button", name="Available", exact=True).click()
    offer = page.locator("#offer")
    await expect(offer).to_be_visible()
    await expect(offer).to_contain_text("Adult mental health")
    await expect(offer).to_contain_text("Rowan Example")
    await expect(offer).to_contain_text("Repeat caller: 2 contacts in 7 days")
    await expect(offer).to_contain_text("1 open service request")
    await expect(page.locator("#offer-countdown")).to_have_text(re.compile(r"^\d{1,2} s to answer$"))
    caller = page.locator("#caller")
    await expect(caller.locator(".person-name")).to_have_text("Rowan Example")
    await expect(caller).to_contain_text("999 000 0018")
    await expect(caller.locator(".timeline")).to_contain_text("Advice given")
    await expect(caller).to_contain_text("SR-UI-0001")
    await expect(caller).to_contain_text("Triaged")
    await expect(caller.locator(".flag")).to_have_text(["Lives alone"])
    await expect(caller.locator(".need")).to_have_text(["Interpreter: pl"])
    await expect(caller).to_contain_text(f"{display_phone(CALLER)}")
    await expect(wb.locator('tr[data-agent="agent14"] .agent-state')).to_have_text("Ringing")

    # Keyboard: the offer has the focus on Accept; Enter answers.
    await expect(page.locator("#accept-offer")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#call-state")).to_have_text("Connected · Adult mental health")
    await expect(offer).to_be_hidden()
    await expect(tile.locator(".queue-waiting")).to_have_text("0")
    await expect(tile.locator(".queue-answered")).to_have_text("1")
    await expect(wb.locator('tr[data-agent="agent14"] .agent-state')).to_have_text("On a call")
    await expect(wb.locator('tr[data-agent="agent14"] .agent-contact')).to_have_text(call_id)

    # Hold and resume.
    await page.get_by_role("button", name="Hold").click()
    await expect(page.locator("#call-state")).to_contain_text("On hold")
    await page.get_by_role("button", name="Resume").click()
    await expect(page.locator("#call-state")).to_contain_text("Connected")

    # The triage script: one question at a time, red flags prominent, back, the outcome and its action.
    script = page.locator("#script")
    await script.get_by_label("Script").select_option("amh_spa_mental_health")
    await script.get_by_role("button", name="Start").click()
    question = script.locator(".question")
    await expect(question.locator(".question-text")).to_contain_text("taken an overdose")
    await expect(question.locator(".red-flag-tag")).to_be_visible()
    await question.get_by_role("button", name="No", exact=True).click()
    await expect(question.locator(".question-text")).to_contain_text("immediate risk of suicide")
    await question.get_by_role("button", name="No", exact=True).click()
    await expect(question.locator(".question-text")).to_contain_text("open to a mental health team")
    await script.get_by_role("button", name="Back").click()
    await expect(question.locator(".question-text")).to_contain_text("immediate risk of suicide")
    await question.get_by_role("button", name="Yes", exact=True).click()
    outcome = script.locator(".outcome")
    await expect(outcome.locator(".outcome-text")).to_have_text(
        "Warm handover to the crisis practitioner now; stay with the caller."
    )
    await expect(script.locator(".red-flag-list")).to_contain_text("immediate risk of suicide")
    await expect(outcome.locator(".proposed-action")).to_have_text("Warm handover to a specialist")
    await expect(outcome).to_contain_text("Adult mental health")  # the proposed target queue
    await outcome.get_by_role("button", name="Accept proposed action").click()
    await expect(outcome.locator(".decided")).to_have_text("Proposed action accepted")

    # Knowledge beside the call: find an article, read it, link it to the contact.
    await page.get_by_label("Search", exact=True).fill("talking therapies low mood")
    await page.get_by_role("button", name="Search", exact=True).click()
    first = page.locator("#kb-results li.article").first
    await expect(first.locator(".result-title")).to_contain_text("Talking therapies")
    await first.get_by_role("button", name=re.compile("^Open")).click()
    article = page.locator("#kb-article")
    await expect(article.locator("h3")).to_contain_text("Talking therapies")
    await expect(article.locator(".article-body")).to_contain_text("refer themselves")
    await article.get_by_role("button", name=re.compile("^Link")).click()
    await expect(article.locator(".link-article")).to_have_text("Linked")
    await article.get_by_text("Flag this article").click()
    await article.get_by_label("What is wrong?").fill("The self-referral number has changed")
    await article.get_by_role("button", name="Flag as wrong or out of date").click()
    await expect(article.get_by_role("button", name="Flagged")).to_be_disabled()
    # The directory on its own, open services only.
    await page.get_by_label("In", exact=True).select_option("open")
    await page.get_by_role("button", name="Search", exact=True).click()
    await expect(page.locator("#kb-status")).to_have_text(re.compile(r"^\d+ results?$"))
    shown = await page.locator("#kb-results li").count()
    await expect(page.locator("#kb-results li .badge.ok")).to_have_count(shown)  # all "Open now"
    await expect(page.locator("#kb-results li.article")).to_have_count(0)
    links = await r.client.get(f"/api/contacts/{call_id}/articles", headers=await r.login("agent14"))
    assert [link["article_id"] for link in links.json()["links"]] == ["kb-amh-talking-therapies"]
    flags = (await r.client.get("/api/kb/flags", headers=sup)).json()["flags"]
    assert [(f["article_id"], f["reason"]) for f in flags] == [
        ("kb-amh-talking-therapies", "The self-referral number has changed")
    ]

    assert await unlabelled_controls(desk) == []

    # Warm handover to the mental health queue: the specialist reads the note before the consult.
    spec = await ui.open("/", "specialist04")
    sp = spec.page
    await sp.get_by_role("button", name="Available", exact=True).click()
    await expect(sp.locator("#my-state")).to_contain_text("Available")
    await expect(page.get_by_label("Queue", exact=True)).to_have_value(QUEUE)  # from the script
    await expect(page.get_by_label("Triage outcome")).to_have_value(
        "Warm handover to the crisis practitioner now; stay with the caller."
    )
    await page.get_by_label("Reason for the handover (required)").fill("Low mood, wants a practitioner today")
    await page.get_by_label("What the caller has been told").fill("A practitioner will join us shortly")
    await page.get_by_label("Risk flags (codes, comma separated)").fill("lives_alone")
    await page.get_by_label("Note for the specialist").fill("Daughter calling; prefers first names.")
    await page.get_by_role("button", name="Ask for a specialist").click()

    # The specialist's phone rings with the caller's context; the agent sees the search.
    await expect(sp.locator("#offer-heading")).to_have_text("Warm handover from agent14")
    await expect(sp.locator("#offer")).to_contain_text("Rowan Example")
    status = page.locator("#handover-status")
    await expect(status.locator(".handover-state")).to_have_text("Finding a specialist…")
    await expect(page.locator("#call-state")).to_contain_text("On hold")

    # On accepting, the note and the caller's context arrive before the caller is put through.
    await sp.get_by_role("button", name="Accept").click()
    incoming = sp.locator("#incoming-handover")
    await expect(incoming.locator(".note-reason")).to_have_text("Low mood, wants a practitioner today")
    await expect(incoming.locator(".note-free")).to_have_text("Daughter calling; prefers first names.")
    await expect(incoming.locator(".person-name")).to_have_text("Rowan Example")
    await expect(incoming).to_contain_text("NHS 999 000 0018, born 3 Feb 1950")
    await expect(incoming.locator(".flags.risk .flag")).to_have_text(["Lives alone"])
    await expect(sp.locator("#call-state")).to_have_text("Connected · consult with agent14, caller on hold")
    await expect(status.locator(".handover-state")).to_have_text("Specialist on the line with you")
    await expect(status.locator(".handover-specialist")).to_have_text("specialist04")
    await screenshot(desk, "desktop.png", tmp_path)
    await status.get_by_label("Note to the other side").fill("GP visited last week")
    await status.get_by_role("button", name="Send note").click()
    await expect(incoming.locator(".live-notes")).to_contain_text("agent14: GP visited last week")
    await status.get_by_role("button", name="Complete handover").click()
    await expect(status.locator(".handover-state")).to_contain_text("Completed")
    await expect(sp.locator("#call-state")).to_have_text("Connected · caller handed over by agent14")

    # Wrap-up: outcome, first-contact resolution, reason codes (one of them failure demand).
    wrap = page.locator("#wrapup")
    await expect(wrap).to_be_visible()
    await expect(page.locator("#call-state")).to_contain_text("Wrap-up")
    await expect(wrap.get_by_label("Outcome")).to_have_value("warm_handover")  # from the script
    await wrap.get_by_label("Crisis or urgent need").check()
    await wrap.get_by_label("Progress chase (where's my nurse / referral)").check()
    await wrap.get_by_role("button", name="Finish wrap-up").click()
    await expect(wrap).to_be_hidden()
    await expect(page.locator("#call-state")).to_have_text("No call in hand.")
    await expect(wb.locator('tr[data-agent="agent14"] .agent-state')).to_have_text("Available")

    async def wrapped() -> bool:
        found = await r.services.records.get_contact(call_id)
        return found is not None and found.outcome_code == "warm_handover"

    await until(wrapped, message="the wrap-up in the records")
    await supervisor_actions(r, board, desk, tmp_path)
    recorded = await r.services.records.get_contact(call_id)
    assert recorded is not None
    assert recorded.reason_codes == ["crisis", "progress_chase"] and recorded.failure_demand is True
    assert recorded.first_contact_resolution is False

    # Nothing personal in the address bar or in storage: only the session token, in sessionStorage.
    for watched in (desk, spec, board):
        assert "?" not in watched.page.url and "#" not in watched.page.url
        storage = await watched.page.evaluate("() => [localStorage.length, Object.keys(sessionStorage)]")
        assert storage == [0, ["frontdoor.token"]]


async def test_a_shared_number_asks_who_is_calling(ui: Ui, server: Running) -> None:
    r = server
    records = r.services.records
    shared = "07700 900654"
    for given, born in (("Alex", date(1941, 5, 6)), ("Sam", date(1969, 7, 8))):
        await records.add_person(
            given_name=given, family_name="Sharedline", date_of_birth=born, phones=[(shared, "home")]
        )
    desk = await ui.open("/", "agent14")
    page = desk.page
    await page.get_by_label("Reason", exact=True).select_option("lunch")
    await page.get_by_role("button", name="Not ready").click()
    await expect(page.locator("#my-state")).to_contain_text("Not ready (Lunch)")
    await page.get_by_role("button", name="Available", exact=True).click()
    await expect(page.locator("#my-state")).to_contain_text("Available")
    await r.place_call(await r.login("supervisor01"), queue=QUEUE, cli=shared)

    offer = page.locator("#offer")
    await expect(offer).to_contain_text("2 people share this number: confirm who is calling")
    caller = page.locator("#caller")
    choices = caller.get_by_role("group", name=re.compile("Which person is calling"))
    await expect(choices.get_by_role("radio")).to_have_count(2)
    await expect(caller.locator(".person-name")).to_have_count(0)  # nobody assumed
    await choices.get_by_label(re.compile("^Sam Sharedline")).check()
    await expect(caller.locator(".person-name")).to_have_text("Sam Sharedline")

    # The full record is opened on purpose, with a reason, and the view is audited.
    await caller.get_by_label("Why are you opening the record?").select_option("Safeguarding check")
    await caller.get_by_role("button", name="Open full record").click()
    await expect(caller.locator(".full-record h4")).to_have_text("Full record: contact timeline")
    person_id = int(await choices.get_by_label(re.compile("^Sam Sharedline")).get_attribute("value") or 0)
    (entry,) = await records.audit_entries(str(person_id))
    assert (entry.actor, entry.action, entry.reason) == ("agent14", "view", "Safeguarding check")

    await offer.get_by_role("button", name="Reject").click()
    await expect(offer).to_be_hidden()
    await expect(page.locator("#my-state")).to_contain_text("Not ready (Rejected)")
    await expect(caller).to_contain_text("No caller yet.")

    # Signing out logs the agent out too, so no call rings an empty desk.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.locator("#login-message")).to_have_text("You have signed out.")
    assert (await r.services.store.get_agent("agent14")).status == "logged_out"
    assert await page.evaluate("() => sessionStorage.length") == 0
