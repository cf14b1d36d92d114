// Warm handover. Asking side: choose a queue or a named worker, write the note, watch the specialist's
// state, complete or cancel, exchange live notes. Specialist side: the note and the caller's context,
// shown as soon as it arrives (before the consult connects). Both sides follow the handover through
// `handover.state` messages on their own stream, and restore it from the snapshot after a reload.
import {
  announce, api, el, fill, humanise, learnNames, nhsNumber, reportError, serviceName, shortDate, show,
} from "./common.js";

const STATE_TEXT = {
  requested: "Finding a specialist…",
  specialist_reserved: "Specialist reserved: their phone is ringing and they are reading your note",
  consulting: "Specialist on the line with you",
  completed: "Completed: the caller is with the specialist",
  cancelled: "Cancelled: the caller is back with you",
  failed: "Failed: the caller is back with you",
};
// What the specialist's side says about a handover it takes part in.
const SPECIALIST_TEXT = {
  specialist_reserved: "reading the note",
  consulting: "on the line with the agent",
  completed: "completed: the caller is with you",
  cancelled: "cancelled: the caller went back to the agent",
  failed: "failed: the caller went back to the agent",
};
const ACTIVE = new Set(["requested", "specialist_reserved", "consulting"]);
const RANK = { requested: 0, specialist_reserved: 1, consulting: 2, completed: 3, cancelled: 3, failed: 3 };

let contactId = null;
let outgoing = null; // the handover JSON (asking side)
const incoming = new Map(); // handover id -> note message data (specialist side)
let me = null;

export function setupHandover(user) {
  me = user;
  const form = document.getElementById("handover-form");
  for (const radio of form.querySelectorAll("input[name=handover-to]")) {
    radio.addEventListener("change", () => {
      const toWorker = form.querySelector("input[name=handover-to]:checked").value === "worker";
      show("handover-queue-row", !toWorker);
      show("handover-worker-row", toWorker);
      if (toWorker) loadWorkers();
    });
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!contactId) return;
    const toWorker = form.querySelector("input[name=handover-to]:checked").value === "worker";
    const reason = document.getElementById("handover-reason").value.trim();
    if (!reason) {
      reportError(new Error("write the reason for the handover"));
      document.getElementById("handover-reason").focus();
      return;
    }
    const text = (id) => document.getElementById(id).value.trim() || null;
    const body = {
      note: {
        reason,
        triage_outcome: text("handover-triage"),
        risk_flags: (document.getElementById("handover-flags").value || "")
          .split(",")
          .map((f) => f.trim())
          .filter(Boolean),
        told_caller: text("handover-told"),
        free_text: text("handover-free"),
      },
    };
    if (toWorker) body.worker = document.getElementById("handover-worker").value.trim();
    else body.target = document.getElementById("handover-queue").value;
    try {
      mergeOutgoing(await api("POST", `/api/contacts/${encodeURIComponent(contactId)}/handover`, body));
      announce("Handover requested: the caller is on hold");
      renderOutgoing();
    } catch (error) {
      reportError(error);
    }
  });
  loadQueues();
}

async function loadQueues() {
  try {
    const queues = await api("GET", "/api/queues");
    learnNames(queues);
    fill("handover-queue", queues.map((q) => el("option", { value: q.id, text: `${q.name}${q.open ? "" : " (closed)"}` })));
  } catch {
    // the queue list stays empty; a named worker still works
  }
}

/** The colleagues signed in now, offered as choices for a named worker (typing a username still works). */
async function loadWorkers() {
  try {
    const { workers } = await api("GET", "/api/ui/workers");
    fill("handover-worker-options", workers.map((w) =>
      el("option", { value: w.username, text: `${w.display_name} (${humanise(w.role)}, ${humanise(w.status)})` })));
  } catch {
    // no choices: the username can still be typed
  }
}

/** Prefill the handover from a finished triage script (its outcome and proposed target). */
export function prefillFromScript(session) {
  const outcome = session.outcome || {};
  const proposed = outcome.proposed || {};
  const triage = document.getElementById("handover-triage");
  if (!triage.value) triage.value = outcome.text || humanise(outcome.id);
  const flags = document.getElementById("handover-flags");
  if (!flags.value && outcome.red_flag) flags.value = "red_flag";
  if (proposed.kind !== "warm_handover") return;
  const select = document.getElementById("handover-queue");
  if (proposed.target && [...select.options].some((o) => o.value === proposed.target)) select.value = proposed.target;
  if (proposed.worker && !document.getElementById("handover-worker").value) {
    document.getElementById("handover-worker").value = proposed.worker;
  }
}

let talkingNow = false;

export function setHandoverContact(id, talking) {
  talkingNow = talking;
  if (id !== contactId) {
    contactId = id;
    if (!outgoing || !ACTIVE.has(outgoing.state)) outgoing = null;
  }
  renderOutgoing();
  document.getElementById("handover-submit").disabled = !(talking && contactId && !(outgoing && ACTIVE.has(outgoing.state)));
}

/** Take a newer view of the asking side's handover; a state never goes back (the POST's answer may
 * arrive after the stream has already said the specialist was reserved). */
function mergeOutgoing(fresh) {
  if (outgoing && outgoing.id === fresh.id && RANK[fresh.state] < RANK[outgoing.state]) {
    outgoing = { ...fresh, state: outgoing.state, specialist: outgoing.specialist, reason: outgoing.reason };
  } else {
    outgoing = { ...(outgoing && outgoing.id === fresh.id ? outgoing : {}), ...fresh };
  }
}

/** After a reload or a reconnect: the handovers the snapshot says this agent takes part in. */
export function restoreHandovers(handovers) {
  const mine = me && me.username;
  const listed = new Set();
  for (const h of handovers || []) {
    listed.add(h.id);
    if (h.from_agent === mine) {
      if (!outgoing || outgoing.id === h.id || !ACTIVE.has(outgoing.state)) mergeOutgoing(h);
    } else if (h.specialist === mine) {
      const known = incoming.get(h.id);
      incoming.set(h.id, {
        handover: h.id, contact: h.contact_id, consult_contact: h.consult_contact_id, from_agent: h.from_agent,
        note: h.note, notes: h.notes || [], caller: h.context || (known && known.caller) || {}, state: h.state,
      });
    }
  }
  // A handover followed before that the snapshot no longer lists is over: ask how it ended.
  if (outgoing && ACTIVE.has(outgoing.state) && !listed.has(outgoing.id)) refresh(outgoing.id);
  for (const h of incoming.values()) if (ACTIVE.has(h.state) && !listed.has(h.handover)) refresh(h.handover);
  renderOutgoing();
  renderIncoming();
}

async function refresh(handoverId) {
  try {
    const fresh = await api("GET", `/api/handovers/${encodeURIComponent(handoverId)}`);
    if (outgoing && outgoing.id === fresh.id) mergeOutgoing(fresh);
    const inc = incoming.get(fresh.id);
    if (inc) Object.assign(inc, { state: fresh.state, reason: fresh.reason, notes: fresh.notes || inc.notes });
    renderOutgoing();
    renderIncoming();
  } catch (error) {
    if (error.status !== 404) return;
    if (outgoing && outgoing.id === handoverId) outgoing = null;
    incoming.delete(handoverId);
    renderOutgoing();
    renderIncoming();
  }
}

function notesView(handoverId, notes) {
  const list = el("ul", { class: "live-notes", "aria-label": "Notes during the handover", "aria-live": "polite" },
    (notes || []).map((n) => el("li", {}, el("strong", { text: `${n.author}: ` }), n.text)));
  const input = el("input", { id: `note-${handoverId}`, autocomplete: "off", maxlength: "1000" });
  const send = el("button", { type: "button", text: "Send note" });
  send.addEventListener("click", async () => {
    const text = input.value.trim();
    if (!text) return;
    try {
      await api("POST", `/api/handovers/${encodeURIComponent(handoverId)}/notes`, { text });
      input.value = "";
    } catch (error) {
      reportError(error);
    }
  });
  return el("div", { class: "notes-box" }, list, el("label", { for: input.id, text: "Note to the other side" }), input, send);
}

function renderOutgoing() {
  const box = document.getElementById("handover-status");
  const form = document.getElementById("handover-form");
  if (!outgoing) {
    show(box, false);
    show(form, talkingNow);
    show("handover-idle", !talkingNow);
    return;
  }
  const active = ACTIVE.has(outgoing.state);
  show(form, !active && talkingNow);
  show("handover-idle", !active && !talkingNow);
  show(box, true);
  const parts = [
    el("p", { class: `handover-state state-${outgoing.state}`, role: "status", text: STATE_TEXT[outgoing.state] || humanise(outgoing.state) }),
    el("dl", { class: "facts" },
      el("dt", { text: "To" }), el("dd", { text: outgoing.worker ? `${outgoing.worker} (${serviceName(outgoing.target)})` : serviceName(outgoing.target) }),
      el("dt", { text: "Specialist" }), el("dd", { class: "handover-specialist", text: outgoing.specialist || "not yet" }),
      outgoing.reason ? [el("dt", { text: "Why" }), el("dd", { text: humanise(outgoing.reason) })] : null),
  ];
  if (active) {
    const complete = el("button", { type: "button", class: "primary", text: "Complete handover" });
    complete.disabled = !outgoing.specialist;
    complete.addEventListener("click", () => finish("complete"));
    const cancel = el("button", { type: "button", text: "Cancel and take the caller back" });
    cancel.addEventListener("click", () => finish("cancel"));
    parts.push(el("div", { class: "actions" }, complete, cancel));
    parts.push(notesView(outgoing.id, outgoing.notes));
  }
  fill(box, parts);
}

async function finish(action) {
  try {
    mergeOutgoing(await api("POST", `/api/handovers/${encodeURIComponent(outgoing.id)}/${action}`));
    announce(STATE_TEXT[outgoing.state] || humanise(outgoing.state));
    renderOutgoing();
  } catch (error) {
    reportError(error);
  }
}

// --- messages on the agent's stream ---------------------------------------------------------------------

export function onHandoverMessage(msg) {
  const d = msg.data;
  if (msg.type === "handover.note") {
    incoming.set(d.handover, { ...d, state: "incoming" });
    announce(`Warm handover from ${d.from_agent}: ${d.note.reason}`, true);
    renderIncoming();
  } else if (msg.type === "handover.state") {
    const mine = me && me.username;
    if (d.from_agent === mine && (!outgoing || outgoing.id === d.handover || !ACTIVE.has(outgoing.state))) {
      const before = outgoing && outgoing.id === d.handover ? outgoing.state : null;
      mergeOutgoing({
        id: d.handover, contact_id: d.contact, consult_contact_id: d.consult_contact, from_agent: d.from_agent,
        target: d.target, worker: d.worker, specialist: d.specialist, state: d.state, reason: d.reason,
        caller: d.caller, expires_at: d.expires_at,
      });
      if (outgoing.state !== before) announce(STATE_TEXT[outgoing.state] || humanise(outgoing.state), !ACTIVE.has(outgoing.state));
      renderOutgoing();
    }
    const inc = incoming.get(d.handover);
    if (inc && (inc.state === "incoming" || RANK[d.state] >= RANK[inc.state])) {
      inc.state = d.state;
      inc.reason = d.reason;
      renderIncoming();
    }
  } else if (msg.type === "handover.note_added") {
    if (outgoing && outgoing.id === d.handover) {
      const notes = outgoing.notes || [];
      if (!notes.some((n) => n.at === d.note.at && n.author === d.note.author)) notes.push(d.note);
      outgoing.notes = notes;
      renderOutgoing();
    }
    const inc = incoming.get(d.handover);
    if (inc) {
      if (!inc.notes.some((n) => n.at === d.note.at && n.author === d.note.author)) inc.notes.push(d.note);
      renderIncoming();
    }
    if (d.note.author !== (me && me.username)) announce(`Note from ${d.note.author}: ${d.note.text}`);
  } else if (msg.type === "handover.ended") {
    if (outgoing && outgoing.id === d.handover) {
      outgoing = { ...outgoing, state: d.state, reason: d.reason };
      renderOutgoing();
    }
    const inc = incoming.get(d.handover);
    if (inc) {
      inc.state = d.state;
      inc.reason = d.reason;
      renderIncoming();
    }
  }
}

/** The consult contact this specialist is being offered or talking on, if it belongs to a handover. */
export function incomingFor(consultContact) {
  for (const h of incoming.values()) if (h.consult_contact === consultContact) return h;
  return null;
}

export function dismissIncoming(handoverId) {
  incoming.delete(handoverId);
  renderIncoming();
}

function renderIncoming() {
  const section = document.getElementById("incoming-handover");
  const items = [...incoming.values()];
  show(section, items.length > 0);
  if (!items.length) return;
  fill("incoming-handover-body", items.map((h) => {
    const ctx = h.caller || {};
    const person = ctx.person;
    const note = h.note || {};
    return el("div", { class: "incoming" },
      el("p", { class: "from", text: `From ${h.from_agent}${SPECIALIST_TEXT[h.state] ? " · " + SPECIALIST_TEXT[h.state] : ""}` }),
      el("dl", { class: "facts note" },
        el("dt", { text: "Reason" }), el("dd", { class: "note-reason", text: note.reason }),
        note.triage_outcome ? [el("dt", { text: "Triage outcome" }), el("dd", { text: note.triage_outcome })] : null,
        note.told_caller ? [el("dt", { text: "Caller told" }), el("dd", { text: note.told_caller })] : null,
        note.free_text ? [el("dt", { text: "Note" }), el("dd", { class: "note-free", text: note.free_text })] : null),
      note.risk_flags && note.risk_flags.length
        ? el("ul", { class: "flags risk", "aria-label": "Risk flags" }, note.risk_flags.map((f) => el("li", { class: "flag", text: humanise(f) })))
        : null,
      person
        ? el("div", { class: "person" },
            el("h3", { class: "person-name", text: person.display_name }),
            el("p", { text: [person.nhs_number ? `NHS ${nhsNumber(person.nhs_number)}` : "", person.date_of_birth ? `born ${shortDate(person.date_of_birth)}` : ""].filter(Boolean).join(", ") }),
            person.flags && person.flags.length ? el("ul", { class: "flags", "aria-label": "Flags" }, person.flags.map((f) => el("li", { class: "flag", text: humanise(f) }))) : null,
            Object.keys(person.communication_needs || {}).length
              ? el("ul", { class: "needs", "aria-label": "Communication needs" }, Object.entries(person.communication_needs).map(([k, v]) => el("li", { class: "need", text: `${humanise(k)}: ${v}` })))
              : null)
        : el("p", { class: "muted", text: "No matched person on the caller's record." }),
      ctx.referrer ? el("p", { text: `Professional: ${ctx.referrer.name}, ${ctx.referrer.role}, ${ctx.referrer.organisation}` }) : null,
      ACTIVE.has(h.state) || h.state === "incoming" ? notesView(h.handover, h.notes) : el("button", { type: "button", class: "quiet", text: "Dismiss", onclick: () => dismissIncoming(h.handover) }),
    );
  }));
}
