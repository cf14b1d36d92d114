// The triage script runner: one question at a time, red flags prominent, back, and the outcome with its
// proposed action (accept it, or override it with a reason). Scripts API: see API-CONTRACTS (scripts).
import { announce, api, el, fill, humanise, reportError, serviceName } from "./common.js";

let session = null;
let contactId = null;
let onOutcome = () => {};

export async function loadScripts() {
  const select = document.getElementById("script-choice");
  try {
    const scripts = await api("GET", "/api/scripts");
    fill(select, scripts.map((s) => el("option", { value: s.id, text: s.title })));
    if (!scripts.length) fill(select, el("option", { value: "", text: "No approved scripts" }));
  } catch (error) {
    fill(select, el("option", { value: "", text: "Scripts unavailable" }));
  }
  updateStart();
}

function updateStart() {
  const select = document.getElementById("script-choice");
  document.getElementById("script-start").disabled = !contactId || !select.value;
}

/** The contact in hand changed: scripts run against it. */
export function setScriptContact(id, outcomeCallback) {
  if (id !== contactId) {
    contactId = id;
    session = null;
    render();
  }
  if (outcomeCallback) onOutcome = outcomeCallback;
  updateStart();
}

export function currentOutcome() {
  return session && session.outcome ? session : null;
}

export function setupScript() {
  document.getElementById("script-choice").addEventListener("change", updateStart);
  document.getElementById("script-start").addEventListener("click", async () => {
    const scriptId = document.getElementById("script-choice").value;
    if (!contactId || !scriptId) return;
    await act(() => api("POST", `/api/contacts/${encodeURIComponent(contactId)}/script`, { script_id: scriptId }));
  });
}

async function act(call) {
  try {
    session = await call();
    render();
  } catch (error) {
    reportError(error);
  }
}

function path(suffix) {
  return `/api/script-sessions/${encodeURIComponent(session.id)}/${suffix}`;
}

const ACTIONS = ["signpost", "refer", "warm_handover", "book", "transfer_999", "transfer_111"];
const ACTION_TEXT = {
  signpost: "Signpost to a service",
  refer: "Refer (create a service request)",
  warm_handover: "Warm handover to a specialist",
  book: "Book an appointment",
  transfer_999: "Transfer to 999",
  transfer_111: "Transfer to NHS 111",
};

function render() {
  const body = document.getElementById("script-body");
  document.getElementById("script-chooser").hidden = !!session;
  if (!session) {
    fill(body, el("p", { class: "muted", text: contactId ? "Choose a script and start." : "Scripts run during a call." }));
    return;
  }
  const hadFocus = body.contains(document.activeElement);
  const parts = [el("p", { class: "script-title" }, el("strong", { text: session.title || session.script }),
    ` · ${session.answers.length} answered`)];
  if (session.notice) parts.push(el("p", { class: "help", text: session.notice }));
  const redAnswers = session.answers.filter((a) => a.red_flag);
  if (redAnswers.length) {
    parts.push(el("ul", { class: "red-flag-list", "aria-label": "Red flags answered" },
      redAnswers.map((a) => el("li", { class: "red-flag-banner", text: `Red flag: ${a.question} — ${a.answer}` }))));
  }
  const q = session.question;
  if (session.state !== "finished" && q) {
    const headingId = `q-${q.id}`;
    const box = el("div", { class: q.red_flag ? "question red-flag" : "question", role: "group", "aria-labelledby": headingId });
    if (q.red_flag) box.append(el("p", { class: "red-flag-tag", text: "Red-flag screening question: ask it now" }));
    box.append(el("h3", { id: headingId, class: "question-text", text: q.text }));
    if (q.help) box.append(el("p", { class: "help", text: q.help }));
    if (q.rationale) box.append(el("details", {}, el("summary", { text: "Why we ask" }), el("p", { text: q.rationale })));
    const answers = el("div", { class: "answers" });
    for (const a of q.answers) {
      answers.append(
        el("button", {
          type: "button",
          class: "answer",
          text: a.text,
          onclick: () => act(() => api("POST", path("answer"), { question_id: q.id, answer_id: a.id })),
        }),
      );
    }
    box.append(answers);
    parts.push(box);
  }
  const back = session.answers.length && !session.decision
    ? el("button", { type: "button", class: "quiet script-back", text: "Back", onclick: () => act(() => api("POST", path("back"))) })
    : null;
  if (session.outcome) parts.push(outcomeView(session.outcome));
  if (back) parts.push(back);
  fill(body, parts);
  if (hadFocus) {
    const next = body.querySelector(".answer, .outcome button, .script-back");
    if (next) next.focus();
  }
  if (session.outcome) onOutcome(session);
}

function proposedView(p) {
  if (!p) return null;
  const rows = [el("dt", { text: "Proposed action" }), el("dd", { class: "proposed-action", text: ACTION_TEXT[p.kind] || humanise(p.kind) })];
  const add = (label, value) => {
    if (value !== null && value !== undefined && value !== "") rows.push(el("dt", { text: label }), el("dd", { text: String(value) }));
  };
  if (p.kind === "warm_handover") {
    add("To", serviceName(p.target));
    add("Allocated worker first", p.worker);
  } else if (p.kind === "transfer_out") {
    add("Number", p.number);
  } else if (p.kind === "service_request" || p.kind === "booking") {
    add("Service", serviceName(p.service));
    add("Timeframe", humanise(p.timeframe));
  } else if (p.kind === "signpost") {
    add("Service type", humanise(p.service_type));
  }
  add("Due by", p.due_at ? new Date(p.due_at).toLocaleString("en-GB") : null);
  const parts = [el("dl", { class: "facts" }, rows)];
  if (p.kind === "signpost") {
    if (p.directory && p.directory.length) {
      parts.push(el("ul", { class: "plain", "aria-label": "Services to signpost to" }, p.directory.map((d) =>
        el("li", {}, el("strong", { text: d.name }), ` · ${d.open_now ? "open now" : "closed now"}`, d.contact && d.contact.phone ? ` · ${d.contact.phone}` : ""))));
    } else if (p.directory_available === false) {
      parts.push(el("p", { class: "warn", text: "The directory is unavailable: search it beside the script." }));
    }
  }
  return parts;
}

function outcomeView(outcome) {
  const box = el("div", { class: "outcome", role: "region", "aria-label": "Script outcome" });
  box.append(el("h3", { text: "Outcome" }));
  if (outcome.red_flag) box.append(el("p", { class: "red-flag-banner", role: "alert", text: "Red flag outcome: act now" }));
  box.append(el("p", { class: "outcome-text", text: outcome.text || humanise(outcome.id) }));
  box.append(el("dl", { class: "facts" },
    outcome.skill ? [el("dt", { text: "Skill" }), el("dd", { text: outcome.skill })] : null,
    outcome.timeframe ? [el("dt", { text: "Timeframe" }), el("dd", { text: humanise(outcome.timeframe) })] : null));
  box.append(...(proposedView(outcome.proposed) || [el("p", { class: "proposed-action", text: ACTION_TEXT[outcome.action] || humanise(outcome.action) })]));
  const d = session.decision;
  if (d) {
    box.append(el("p", { class: "decided", role: "status", text: d.accepted ? "Proposed action accepted" : `Overridden: ${ACTION_TEXT[d.action] || humanise(d.action)} (${d.reason})` }));
    return box;
  }
  const accept = el("button", { type: "button", class: "primary", text: "Accept proposed action" });
  accept.addEventListener("click", async () => {
    await act(() => api("POST", path("outcome"), { accept: true }));
    announce("Proposed action accepted");
  });
  const actionSelect = el("select", { id: "override-action" }, ACTIONS.filter((a) => a !== outcome.action).map((a) => el("option", { value: a, text: ACTION_TEXT[a] })));
  const reasonInput = el("input", { id: "override-reason", autocomplete: "off", maxlength: "500" });
  const override = el("button", { type: "button", text: "Override" });
  override.addEventListener("click", () =>
    act(() => api("POST", path("outcome"), { accept: false, override_action: actionSelect.value, reason: reasonInput.value.trim() })),
  );
  box.append(
    el("div", { class: "actions" }, accept),
    el("details", {}, el("summary", { text: "Override the proposed action" }),
      el("label", { for: "override-action", text: "Action instead" }), actionSelect,
      el("label", { for: "override-reason", text: "Reason (required)" }), reasonInput, override),
  );
  return box;
}
