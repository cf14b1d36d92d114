// The agent desktop: status, offers with the screen-pop and a countdown, the call in hand, wrap-up, and the
// panels (caller, script, knowledge, handover). Driven by the agent's stream (/ws/agent).
import {
  $, announce, api, Channel, clearError, connectionIndicator, duration, el, fill, humanise, reportError,
  setupLogin, show,
} from "./common.js";
import { forgetCaller, popSummary, renderCaller } from "./caller.js";
import { currentOutcome, loadScripts, setScriptContact, setupScript } from "./script.js";
import { setKbContact, setupKb } from "./kb.js";
import {
  incomingFor, onHandoverMessage, prefillFromScript, restoreHandovers, setHandoverContact, setupHandover,
} from "./handover.js";

const desk = {
  me: null,
  state: null, // {status, reason, engine, since}
  offer: null, // offer.created data
  contact: null, // {contact, state, queue, screen_pop, wrap_up_until}
  pops: new Map(), // contact id -> screen-pop (from offers)
  consults: new Map(), // contact id -> the consult's details, when a call is a warm handover's consult
};
let channel = null;
let ticker = null;
let codes = null; // wrap-up codes, loaded once
let wrapFor = null; // the contact the wrap-up form was prepared for

const STATUS_TEXT = { available: "Available", not_ready: "Not ready", logged_out: "Logged out" };
const ENGINE_TEXT = {
  idle: "waiting for a call",
  offered: "call offered",
  busy: "on a call",
  wrap_up: "wrap-up",
  reserved: "reserved for a consult",
};
// A script's action and the wrap-up outcome code it suggests (the agent can change it).
const SCRIPT_TO_OUTCOME = {
  signpost: "signposted",
  refer: "referral_made",
  warm_handover: "warm_handover",
  book: "service_request_created",
  transfer_999: "transferred_999",
  transfer_111: "transferred_111",
};
const CONTACT_TEXT = { connected: "Connected", held: "On hold", wrap_up: "Wrap-up", closed: "Ended" };

function start(me) {
  desk.me = me;
  fill("whoami", `${me.username} (${humanise(me.role)})`);
  channel = new Channel("agent", onMessage, connectionIndicator);
  channel.start();
  loadScripts();
  setupOnce();
  window.clearInterval(ticker);
  ticker = window.setInterval(tick, 500);
}

function stop() {
  if (channel) channel.stop();
  channel = null;
  window.clearInterval(ticker);
  desk.state = desk.offer = desk.contact = null;
  forgetCaller();
}

let wired = false;
function setupOnce() {
  if (wired) return;
  wired = true;
  setupScript();
  setupKb();
  setupHandover(desk.me);
  $("go-available").addEventListener("click", () => setStatus("available", null));
  $("go-not-ready").addEventListener("click", () => setStatus("not_ready", $("not-ready-reason").value));
  $("accept-offer").addEventListener("click", () => offerAction("accept"));
  $("reject-offer").addEventListener("click", () => offerAction("reject"));
  $("hold").addEventListener("click", () => callAction("hold"));
  $("resume").addEventListener("click", () => callAction("resume"));
  $("hangup").addEventListener("click", () => callAction("hangup"));
  $("wrapup-form").addEventListener("submit", submitWrapUp);
}

async function setStatus(status, reason) {
  clearError();
  try {
    const agent = await api("PUT", "/api/agents/me/status", { status, reason });
    // The stream says the same; apply the answer only if the stream has not already said something newer.
    if (!desk.state || agent.status_since > desk.state.since) {
      applyState({ status: agent.status, reason: agent.reason, engine: agent.engine, since: agent.status_since });
    }
  } catch (error) {
    reportError(error);
  }
}

async function offerAction(action) {
  if (!desk.offer) return;
  clearError();
  const offer = desk.offer;
  try {
    await api("POST", `/api/offers/${encodeURIComponent(offer.offer)}/${action}`);
    if (action === "reject") clearOffer();
  } catch (error) {
    reportError(error);
  }
}

async function callAction(action) {
  if (!desk.contact) return;
  clearError();
  try {
    await api("POST", `/api/contacts/${encodeURIComponent(desk.contact.contact)}/${action}`);
  } catch (error) {
    reportError(error);
  }
}

// --- the stream ---------------------------------------------------------------------------------------

function onMessage(msg) {
  const d = msg.data;
  switch (msg.type) {
    case "snapshot":
      applyState(d.state);
      desk.offer = null;
      if (d.offer) showOffer(d.offer);
      else clearOffer();
      desk.contact = d.contact ? { ...d.contact } : null;
      if (d.contact && d.contact.screen_pop) desk.pops.set(d.contact.contact, d.contact.screen_pop);
      if (d.contact) lookupConsult(d.contact.contact);
      restoreHandovers(d.handovers);
      offerHeading();
      renderContact();
      break;
    case "agent.state":
      applyState(d);
      break;
    case "offer.created":
      desk.pops.set(d.contact, d.screen_pop);
      if (desk.pops.size > 20) desk.pops.delete(desk.pops.keys().next().value); // the oldest
      showOffer(d);
      break;
    case "offer.ended":
      if (desk.offer && desk.offer.offer === d.offer) {
        clearOffer();
        const why = { timed_out: "not answered in time", rejected: "rejected", cancelled: "the caller hung up", rescinded: "withdrawn" };
        announce(`Offer ended: ${why[d.why] || d.why}`, true);
      }
      break;
    case "contact.updated":
      onContact(d);
      break;
    case "handover.note":
      onHandoverMessage(msg);
      offerHeading();
      renderContact();
      break;
    case "handover.note_added":
      onHandoverMessage(msg);
      break;
    case "handover.state":
    case "handover.ended":
      onHandoverMessage(msg);
      renderContact();
      break;
    default:
      break;
  }
}

function applyState(state) {
  desk.state = { ...state };
  renderState();
}

function onContact(d) {
  if (d.change === "connected") {
    if (desk.offer && desk.offer.contact === d.contact) clearOffer();
    desk.contact = { contact: d.contact, state: d.state, queue: d.queue, screen_pop: desk.pops.get(d.contact) || null };
    announce("Call connected");
    $("main").focus();
  } else if (d.state === "closed") {
    if (desk.contact && desk.contact.contact === d.contact) {
      desk.contact = null;
      announce("Contact closed");
    }
  } else {
    if (!desk.contact || desk.contact.contact !== d.contact) {
      desk.contact = { contact: d.contact, state: d.state, queue: d.queue, screen_pop: desk.pops.get(d.contact) || null };
    }
    desk.contact.state = d.state;
    if (d.wrap_up_until) desk.contact.wrap_up_until = d.wrap_up_until;
    if (d.change === "wrap_up") announce(d.by === "caller" ? "The caller hung up: wrap-up" : "Wrap-up", true);
    if (d.change === "held") announce("Caller on hold");
    if (d.change === "resumed") announce("Caller back from hold");
  }
  renderContact();
}

// --- rendering ----------------------------------------------------------------------------------------

function renderState() {
  const s = desk.state;
  if (!s) return;
  const reason = s.status === "not_ready" && s.reason ? ` (${humanise(s.reason)})` : "";
  const text = `${STATUS_TEXT[s.status] || humanise(s.status)}${reason} · ${ENGINE_TEXT[s.engine] || humanise(s.engine)}`;
  const node = $("my-state");
  node.dataset.status = s.status;
  node.dataset.since = String(s.since);
  if (node.dataset.text !== text) {
    node.dataset.text = text;
    fill(node, el("span", { class: "state-text", text }), " ", el("span", { class: "state-time", "aria-hidden": "true" }));
  }
  $("go-available").disabled = s.status === "available";
  $("go-available").setAttribute("aria-pressed", String(s.status === "available"));
  $("go-not-ready").setAttribute("aria-pressed", String(s.status === "not_ready"));
  tick();
}

/** A consult call (a colleague's warm handover) says so on the contact: who is handing over. */
async function lookupConsult(contactId) {
  if (desk.consults.has(contactId)) return;
  try {
    const contact = await api("GET", `/api/contacts/${encodeURIComponent(contactId)}`);
    if (contact.attrs && contact.attrs.kind === "consult") {
      desk.consults.set(contactId, { from_agent: contact.attrs.from_agent, handover: contact.attrs.handover });
      offerHeading();
      renderContact();
    }
  } catch {
    // not ours any more (the offer ended): nothing to show
  }
}

function showOffer(offer) {
  desk.offer = offer;
  lookupConsult(offer.contact);
  offerHeading();
  fill("offer-summary", popSummary(offer.screen_pop));
  show("offer", true);
  renderCaller(offer.screen_pop);
  const pop = offer.screen_pop.contact || {};
  announce(`Incoming call${pop.queue_name ? " for " + pop.queue_name : ""}. Accept with the Accept button.`, true);
  const active = document.activeElement;
  if (!active || !["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName)) $("accept-offer").focus();
  tick();
}

/** An offer of a consult call says whose handover it is (the note may arrive just after the offer). */
function offerHeading() {
  if (!desk.offer) return;
  const consult = incomingFor(desk.offer.contact) || desk.consults.get(desk.offer.contact);
  $("offer-heading").textContent = consult ? `Warm handover from ${consult.from_agent}` : "Incoming call";
}

function clearOffer() {
  desk.offer = null;
  show("offer", false);
  if (!desk.contact) renderCaller(null);
}

function renderContact() {
  const c = desk.contact;
  const talking = !!c && (c.state === "connected" || c.state === "held");
  $("hold").disabled = !(c && c.state === "connected");
  $("resume").disabled = !(c && c.state === "held");
  $("hangup").disabled = !talking;
  if (c) {
    const pop = c.screen_pop || desk.pops.get(c.contact);
    const queue = (pop && pop.contact && pop.contact.queue_name) || c.queue || "";
    const consult = desk.consults.get(c.contact);
    const handover = consult ? incomingFor(c.contact) : null;
    let what = queue;
    if (consult) {
      const state = handover ? handover.state : null;
      if (state === "completed") what = `caller handed over by ${consult.from_agent}`;
      else if (state === "cancelled" || state === "failed") what = `consult with ${consult.from_agent} over: handover ${state}`;
      else what = `consult with ${consult.from_agent}, caller on hold`;
    }
    $("call-state").textContent = `${CONTACT_TEXT[c.state] || humanise(c.state)}${what ? " · " + what : ""}`;
    renderCaller(pop || null);
    const service = pop && pop.contact ? pop.contact.service : null;
    setScriptContact(c.contact, prefillFromScript);
    setKbContact(c.contact, service);
    setHandoverContact(c.contact, talking);
  } else {
    $("call-state").textContent = "No call in hand.";
    if (!desk.offer) renderCaller(null);
    setScriptContact(null);
    setKbContact(null, null);
    setHandoverContact(null, false);
  }
  const wrapping = !!c && c.state === "wrap_up";
  show("wrapup", wrapping);
  if (wrapping) prepareWrapUp();
}

async function prepareWrapUp() {
  const id = desk.contact.contact;
  if (wrapFor === id) return;
  wrapFor = id;
  try {
    if (!codes) {
      codes = await api("GET", "/api/ui/codes");
      fill("wrapup-outcome", el("option", { value: "", text: "Choose an outcome" }),
        Object.entries(codes.outcomes).map(([code, text]) => el("option", { value: code, text })));
      const checks = (entries) => Object.entries(entries).map(([code, text]) =>
        el("label", { class: "choice" }, el("input", { type: "checkbox", name: "reason", value: code, id: `reason-${code}` }), ` ${text}`));
      fill("wrapup-value", checks(codes.value_reasons));
      fill("wrapup-failure", checks(codes.failure_reasons));
    }
    $("wrapup-form").reset();
    const scripted = currentOutcome();
    if (scripted) {
      const action = scripted.decision ? scripted.decision.action : scripted.outcome.action;
      const code = SCRIPT_TO_OUTCOME[action];
      if (code && codes.outcomes[code]) $("wrapup-outcome").value = code;
    }
    const active = document.activeElement;
    if (!active || active === document.body || active.disabled || !$("app").contains(active) || active.closest("#call, #handover")) {
      $("wrapup-outcome").focus();
    }
  } catch (error) {
    wrapFor = null;
    reportError(error);
  }
}

async function submitWrapUp(event) {
  event.preventDefault();
  if (!desk.contact) return;
  const outcome = $("wrapup-outcome").value;
  if (!outcome) {
    reportError(new Error("choose an outcome code"));
    $("wrapup-outcome").focus();
    return;
  }
  const reasons = [...document.querySelectorAll("#wrapup-form input[name=reason]:checked")].map((i) => i.value);
  try {
    await api("POST", `/api/contacts/${encodeURIComponent(desk.contact.contact)}/wrap-up`, {
      outcome_code: outcome,
      first_contact_resolution: $("wrapup-fcr").checked,
      reason_codes: reasons,
    });
    clearError();
    $("wrapup-form").reset();
    announce("Wrap-up saved");
  } catch (error) {
    reportError(error);
  }
}

function tick() {
  const now = Date.now();
  const node = $("my-state");
  const time = node.querySelector(".state-time");
  if (time && node.dataset.since) time.textContent = duration((now - Number(node.dataset.since)) / 1000);
  if (desk.offer) {
    const left = Math.max(0, (desk.offer.expires_at - now) / 1000);
    $("offer-countdown").textContent = `${Math.ceil(left)} s to answer`;
    const total = Math.max(1, (desk.offer.expires_at - (desk.offer.screen_pop.built_at || now - 20000)) / 1000);
    $("offer-progress").value = Math.round((100 * left) / total);
  }
  if (desk.contact && desk.contact.state === "wrap_up" && desk.contact.wrap_up_until) {
    $("wrapup-timer").textContent = `Wrap-up ends by itself in ${duration((desk.contact.wrap_up_until - now) / 1000)}`;
  }
}

const signOut = setupLogin(["agent", "specialist"], start, stop);
// Signing out logs the agent out first (refused with a call in hand), so no offer rings an empty desk.
$("sign-out").addEventListener("click", async () => {
  if (desk.state && desk.state.status !== "logged_out") {
    try {
      await api("PUT", "/api/agents/me/status", { status: "logged_out", reason: null });
    } catch (error) {
      reportError(error);
      return;
    }
  }
  signOut();
});
