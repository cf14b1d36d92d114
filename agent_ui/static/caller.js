// The caller panel: the screen-pop (who may be calling, their history, open requests, referral pattern,
// flags and communication needs), a choice when several people share the number, and the full record on
// purpose (with a reason, audited by the server).
import { api, duration, el, fill, humanise, reportError, serviceName, shortDate } from "./common.js";

const RECORD_REASONS = ["Caller on the line", "Checking history for the caller", "Safeguarding check"];

let chosen = new Map(); // contact id -> chosen person id (only for this page's life)

export function forgetCaller() {
  chosen = new Map();
}

function field(label, value) {
  if (value === null || value === undefined || value === "") return null;
  return [el("dt", { text: label }), el("dd", { text: String(value) })];
}

function flagList(flags, label) {
  if (!flags || flags.length === 0) return null;
  return el(
    "ul",
    { class: "flags", "aria-label": label },
    flags.map((f) => el("li", { class: "flag", text: humanise(f) })),
  );
}

function needsList(needs) {
  const entries = Object.entries(needs || {});
  if (entries.length === 0) return null;
  return el(
    "ul",
    { class: "needs", "aria-label": "Communication needs" },
    entries.map(([k, v]) => el("li", { class: "need", text: `${humanise(k)}: ${v}` })),
  );
}

/** A few words for the offer: who, repeat caller, open requests. */
export function popSummary(pop) {
  const c = pop.contact || {};
  const caller = pop.caller || {};
  const people = caller.people || [];
  const lines = [];
  const queue = c.queue_name || c.queue || "";
  lines.push(el("p", { class: "offer-queue", text: queue }));
  const who = [];
  if (c.withheld) who.push("Number withheld");
  else if (c.number) who.push(c.number);
  if (c.caller_type) who.push(humanise(c.caller_type));
  if (c.ivr && c.ivr.language) who.push(`Language: ${c.ivr.language}`);
  lines.push(el("p", { class: "offer-who", text: who.join(" · ") }));
  if (caller.match === "matched" && people.length === 1) {
    const p = people[0];
    lines.push(el("p", { class: "offer-person", text: `${p.name}${p.date_of_birth ? ", born " + shortDate(p.date_of_birth) : ""}` }));
    const notes = [];
    if (p.repeat_caller && p.repeat_caller.repeat) notes.push(`Repeat caller: ${p.repeat_caller.contacts} contacts in ${p.repeat_caller.days} days`);
    if (p.open_service_requests.length) notes.push(`${p.open_service_requests.length} open service request${p.open_service_requests.length === 1 ? "" : "s"}`);
    if (p.allocated_worker) notes.push(`Allocated worker: ${p.allocated_worker.worker_name}`);
    if (notes.length) lines.push(el("p", { class: "offer-notes", text: notes.join(" · ") }));
    lines.push(flagList(p.flags, "Flags"));
    lines.push(needsList(p.communication_needs));
  } else if (caller.match === "ambiguous") {
    lines.push(el("p", { class: "offer-person warn", text: `${people.length}${caller.more ? "+" : ""} people share this number: confirm who is calling` }));
  } else if ((caller.referrers || []).length) {
    const r = caller.referrers[0];
    lines.push(el("p", { class: "offer-person", text: `${r.name}, ${r.role} (${r.organisation})` }));
  } else {
    lines.push(el("p", { class: "offer-person muted", text: `Caller ${humanise(caller.match || "unknown").toLowerCase()}` }));
  }
  if (c.waited_s !== null && c.waited_s !== undefined) lines.push(el("p", { class: "muted", text: `Waited ${duration(c.waited_s)}` }));
  if (c.routing) lines.push(el("p", { class: "muted", text: `Offered to you: ${c.routing.why}` }));
  return lines;
}

function candidateChoice(contactId, people, onChange) {
  const group = el("fieldset", { class: "candidates" }, el("legend", { text: "Which person is calling? Confirm with identity questions." }));
  for (const p of people) {
    const id = `who-${p.id}`;
    const input = el("input", { type: "radio", name: "who", id, value: String(p.id) });
    if (chosen.get(contactId) === p.id) input.checked = true;
    input.addEventListener("change", () => {
      chosen.set(contactId, p.id);
      onChange();
    });
    group.append(
      el("div", { class: "choice" }, input,
        el("label", { for: id, text: `${p.name}${p.date_of_birth ? ", born " + shortDate(p.date_of_birth) : ""}${p.nhs_number ? ", NHS " + p.nhs_number : ""}` })),
    );
  }
  return group;
}

function personDetail(p) {
  const parts = [];
  parts.push(el("h3", { class: "person-name", text: p.name }));
  parts.push(el("dl", { class: "facts" }, field("NHS number", p.nhs_number), field("Date of birth", shortDate(p.date_of_birth)), field("Phone known as", p.phone_kind)));
  if (p.repeat_caller && p.repeat_caller.repeat) {
    parts.push(el("p", { class: "badge warn", text: `Repeat caller: ${p.repeat_caller.contacts} contacts in ${p.repeat_caller.days} days` }));
  }
  if (p.flags && p.flags.length) {
    parts.push(el("h4", { text: "Flags" }), flagList(p.flags, "Flags"));
  }
  if (p.communication_needs && Object.keys(p.communication_needs).length) {
    parts.push(el("h4", { text: "Communication needs" }), needsList(p.communication_needs));
  }
  if (p.allocated_worker) {
    parts.push(el("p", { class: "allocated", text: `Allocated worker: ${p.allocated_worker.worker_name} (${serviceName(p.allocated_worker.service)})` }));
  }
  parts.push(el("h4", { text: "Recent contacts" }));
  parts.push(
    p.recent_contacts.length
      ? el("ol", { class: "timeline", "aria-label": "Recent contacts, newest first" },
          p.recent_contacts.map((c) => el("li", {}, el("span", { class: "date", text: shortDate(c.date) }), " ", serviceName(c.service), c.outcome ? " · " + humanise(c.outcome) : " · unfinished")))
      : el("p", { class: "muted", text: "None before this call." }),
  );
  parts.push(el("h4", { text: "Open service requests" }));
  parts.push(
    p.open_service_requests.length
      ? el("table", { class: "table" },
          el("caption", { class: "visually-hidden", text: "Open service requests" }),
          el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Reference" }), el("th", { scope: "col", text: "Service" }), el("th", { scope: "col", text: "Status" }), el("th", { scope: "col", text: "Due" }))),
          el("tbody", {}, p.open_service_requests.map((s) =>
            el("tr", { class: s.overdue ? "overdue" : "" },
              el("td", { text: s.reference }), el("td", { text: serviceName(s.service) }), el("td", { text: humanise(s.status) }),
              el("td", { text: s.due_at ? shortDate(s.due_at) + (s.overdue ? " (overdue)" : "") : "" })))))
      : el("p", { class: "muted", text: "None." }),
  );
  const rp = p.referral_pattern;
  if (rp) {
    parts.push(el("h4", { text: `Referral pattern (last ${rp.months} months)` }));
    parts.push(el("p", { class: "pattern", text: `${rp.contacts} contacts, ${rp.referrals} referrals` }));
    if (rp.services.length) {
      parts.push(el("ul", { class: "plain" }, rp.services.map((s) => el("li", { text: `${serviceName(s.service)}: ${s.contacts} contacts, ${s.referrals} referrals` }))));
    }
  }
  parts.push(fullRecordControl(p.id));
  return parts;
}

function fullRecordControl(personId) {
  const out = el("div", { class: "full-record", "aria-live": "polite" });
  const select = el("select", { id: `record-reason-${personId}` }, RECORD_REASONS.map((r) => el("option", { value: r, text: r })));
  const button = el("button", { type: "button", text: "Open full record" });
  button.addEventListener("click", async () => {
    try {
      const record = await api("GET", `/api/people/${encodeURIComponent(personId)}?${new URLSearchParams({ reason: select.value })}`);
      fill(out, el("h4", { text: "Full record: contact timeline" }),
        el("ol", { class: "timeline" }, record.recent_contacts.map((c) =>
          el("li", {}, el("span", { class: "date", text: shortDate(c.started_at) }), " ", serviceName(c.service), c.outcome_code ? " · " + humanise(c.outcome_code) : ""))));
    } catch (error) {
      reportError(error);
    }
  });
  fill(out, el("label", { for: select.id, text: "Why are you opening the record?" }), select, button);
  return out;
}

/** Render the caller panel from a screen-pop (or clear it). */
export function renderCaller(pop) {
  const body = document.getElementById("caller-body");
  if (!pop) {
    fill(body, el("p", { class: "muted", text: "No caller yet." }));
    return;
  }
  const c = pop.contact || {};
  const caller = pop.caller || {};
  const people = caller.people || [];
  const parts = [
    el("dl", { class: "facts" },
      field("Number", c.withheld ? "Withheld" : c.number),
      field("Caller type", humanise(c.caller_type)),
      field("Dialled", c.dialled),
      field("Queue", c.queue_name || c.queue),
      field("Language", c.ivr && c.ivr.language)),
  ];
  if (caller.prompt) parts.push(el("p", { class: "prompt", role: "note", text: caller.prompt }));
  const rerender = () => renderCaller(pop);
  let person = null;
  if (people.length === 1) {
    person = people[0];
  } else if (people.length > 1) {
    parts.push(candidateChoice(c.id, people, rerender));
    person = people.find((p) => p.id === chosen.get(c.id)) || null;
    if (caller.more) parts.push(el("p", { class: "muted", text: "More people share this number than are shown." }));
  } else if (!(caller.referrers || []).length) {
    parts.push(el("p", { class: "muted", text: `No record matched (${humanise(caller.match || "unknown").toLowerCase()}).` }));
  }
  for (const r of caller.referrers || []) {
    parts.push(el("p", { class: "referrer", text: `Professional: ${r.name}, ${r.role}, ${r.organisation}` }));
  }
  if (person) parts.push(el("div", { class: "person" }, personDetail(person)));
  fill(body, parts);
}
