// The supervisor wallboard: queues and agents live from the supervisor stream, breach and unreachable
// alerts, and the supervisor's actions (set an agent's status, move a waiting contact, raise its priority).
import {
  $, announce, api, Channel, clearError, connectionIndicator, duration, el, fill, humanise, percent,
  reportError, setupLogin, show,
} from "./common.js";

const board = {
  names: new Map(), // queue id -> name
  queues: new Map(), // queue id -> queue.stats data
  agents: new Map(), // agent id -> agent.state data
  alerts: new Map(), // alert id -> alert data
  rows: new Map(), // agent id -> <tr>
  waitingRows: new Map(), // contact id -> <tr>
};
let channel = null;
let ticker = null;
let waitingTimer = null;
let clockOffset = 0; // server time - browser time, from the snapshot

const KIND_TEXT = { breach: "Breach", potential_breach: "Close to breach", agent_unreachable: "Agent unreachable" };

async function start(me) {
  fill("whoami", `${me.username} (${humanise(me.role)})`);
  try {
    const queues = await api("GET", "/api/queues");
    for (const q of queues) board.names.set(q.id, q.name);
    fill("waiting-queue", queues.map((q) => el("option", { value: q.id, text: q.name })));
  } catch (error) {
    reportError(error);
  }
  channel = new Channel("supervisor", onMessage, connectionIndicator);
  channel.start();
  window.clearInterval(ticker);
  ticker = window.setInterval(tick, 1000);
  refreshWaiting();
}

function stop() {
  if (channel) channel.stop();
  channel = null;
  window.clearInterval(ticker);
}

function queueName(id) {
  return board.names.get(id) || id;
}

function onMessage(msg) {
  const d = msg.data;
  switch (msg.type) {
    case "snapshot":
      clockOffset = d.at ? d.at - Date.now() : 0;
      board.queues = new Map(d.queues.map((q) => [q.queue, q]));
      board.agents = new Map(d.agents.map((a) => [a.agent, a]));
      board.alerts = new Map(d.alerts.map((a) => [a.id, a]));
      renderQueues();
      renderAgents();
      renderAlerts();
      $("as-of").textContent = d.partial ? "Figures partial since a restart" : "";
      break;
    case "queue.stats":
      board.queues.set(d.queue, d);
      renderQueues();
      if (d.queue === $("waiting-queue").value) scheduleWaiting();
      break;
    case "agent.state":
      board.agents.set(d.agent, d);
      renderAgents();
      break;
    case "alert.raised":
      board.alerts.set(d.id, d);
      renderAlerts();
      break;
    case "alert.cleared":
      board.alerts.delete(d.id);
      renderAlerts();
      break;
    default:
      break;
  }
}

// --- queues --------------------------------------------------------------------------------------------

function renderQueues() {
  const breaching = new Set([...board.alerts.values()].filter((a) => a.kind === "breach").map((a) => a.queue));
  const tiles = [...board.queues.values()].map((q) => {
    const slClass = q.service_level === null ? "" : q.service_level >= q.target ? "sl-good" : "sl-bad";
    const classes = ["tile", q.waiting > 0 ? "waiting" : "", breaching.has(q.queue) ? "breaching" : ""].join(" ");
    return el("article", { class: classes, "aria-labelledby": `queue-${q.queue}`, dataset: { queue: q.queue } },
      el("h3", { id: `queue-${q.queue}`, text: queueName(q.queue) }),
      el("p", { class: "headline" },
        el("span", { class: "big-number queue-waiting", text: String(q.waiting) }), el("span", { class: "unit", text: " waiting " }),
        el("span", { class: "mid-number queue-longest", text: duration(q.longest_wait_s) }), el("span", { class: "unit", text: " longest" })),
      el("dl", { class: "figures" },
        el("div", {}, el("dt", { text: `SL ≤${q.threshold_s}s` }), el("dd", { class: `queue-sl ${slClass}`, title: `target ${percent(q.target)}`, text: percent(q.service_level) })),
        el("div", {}, el("dt", { text: "Abandon" }), el("dd", { class: "queue-abandon", text: percent(q.abandon_rate) })),
        el("div", {}, el("dt", { text: "Answered" }), el("dd", { class: "queue-answered", text: String(q.answered) })),
        el("div", {}, el("dt", { text: "Offered" }), el("dd", { class: "queue-offered", text: String(q.offered) }))));
  });
  fill("queues", tiles);
}

// --- agents --------------------------------------------------------------------------------------------

function stateText(a) {
  if (a.status === "not_ready") return `Not ready${a.reason ? " (" + humanise(a.reason) + ")" : ""}`;
  if (a.status === "logged_out") return "Logged out";
  const engine = { idle: "Available", offered: "Ringing", busy: "On a call", wrap_up: "Wrap-up", reserved: "Reserved" };
  return engine[a.engine] || humanise(a.engine);
}

function agentRow(id) {
  const select = el("select", { id: `set-${id}`, "aria-label": `New status for ${id}` },
    el("option", { value: "available", text: "Available" }),
    el("option", { value: "not_ready", text: "Not ready" }),
    el("option", { value: "logged_out", text: "Log out" }));
  const button = el("button", { type: "button", text: "Set", "aria-label": `Set status of ${id}` });
  button.addEventListener("click", async () => {
    clearError();
    const status = select.value;
    try {
      await api("PUT", `/api/agents/${encodeURIComponent(id)}/status`, { status, reason: status === "not_ready" ? "supervisor" : null });
      announce(`${id}: status set to ${humanise(status)}`);
    } catch (error) {
      reportError(error);
    }
  });
  const row = el("tr", { dataset: { agent: id } },
    el("th", { scope: "row", text: id }),
    el("td", { class: "agent-state" }),
    el("td", { class: "agent-time num" }),
    el("td", { class: "agent-contact" }),
    el("td", {}, select, button));
  board.rows.set(id, row);
  return row;
}

function renderAgents() {
  const body = $("agents-body");
  const ids = [...board.agents.keys()].sort();
  for (const id of ids) {
    const a = board.agents.get(id);
    const row = board.rows.get(id) || agentRow(id);
    const state = row.querySelector(".agent-state");
    state.textContent = stateText(a);
    state.className = `agent-state ${a.reason === "unreachable" ? "unreachable" : a.status}`;
    row.querySelector(".agent-contact").textContent = a.contact || "";
    row.dataset.since = String(a.since);
    row.hidden = a.status === "logged_out" && !$("show-logged-out").checked;
  }
  // Keep rows in order without recreating them (focus stays where the supervisor left it).
  ids.forEach((id, index) => {
    const row = board.rows.get(id);
    if (body.children[index] !== row) body.insertBefore(row, body.children[index] || null);
  });
  tick();
}

// --- alerts --------------------------------------------------------------------------------------------

function alertText(a) {
  const kind = KIND_TEXT[a.kind] || humanise(a.kind);
  if (a.kind === "agent_unreachable") return `${kind}: ${a.agent} lost their connection and was made not ready`;
  const where = a.queue ? queueName(a.queue) : "";
  return `${kind}: ${where}${a.contact ? " · contact " + a.contact : ""}${a.detail ? " · " + a.detail : ""}`;
}

function renderAlerts() {
  const list = $("alerts");
  const present = new Set();
  for (const a of board.alerts.values()) {
    present.add(a.id);
    let item = list.querySelector(`[data-alert="${CSS.escape(a.id)}"]`);
    const text = alertText(a);
    if (!item) {
      item = el("li", { class: `alert ${a.kind}`, dataset: { alert: a.id }, text });
      list.append(item);
    } else if (item.textContent !== text) {
      item.textContent = text;
      item.className = `alert ${a.kind}`;
    }
  }
  for (const item of [...list.children]) if (!present.has(item.dataset.alert)) item.remove();
  show("no-alerts", board.alerts.size === 0);
  renderQueues();
}

// --- waiting contacts: move and priority ------------------------------------------------------------------

function scheduleWaiting() {
  if (waitingTimer) return;
  waitingTimer = window.setTimeout(() => {
    waitingTimer = null;
    refreshWaiting();
  }, 300);
}

async function refreshWaiting() {
  const queue = $("waiting-queue").value;
  if (!queue) return;
  let contacts;
  try {
    contacts = await api("GET", `/api/queues/${encodeURIComponent(queue)}/waiting`);
  } catch (error) {
    return;
  }
  const body = $("waiting-body");
  const present = new Set(contacts.map((c) => c.id));
  for (const [id, row] of board.waitingRows) {
    if (!present.has(id)) {
      row.remove();
      board.waitingRows.delete(id);
    }
  }
  for (const c of contacts) {
    let row = board.waitingRows.get(c.id);
    if (!row) {
      row = waitingRow(c);
      board.waitingRows.set(c.id, row);
      body.append(row);
    }
    row.dataset.enqueued = String(c.enqueued_at);
    row.querySelector(".contact-priority").textContent = String(c.priority);
  }
  show("waiting-empty", contacts.length === 0);
  tick();
}

function waitingRow(c) {
  const priority = el("input", { type: "number", min: "0", max: "9", value: String(Math.min(9, c.priority + 1)), id: `prio-${c.id}`, "aria-label": `New priority for ${c.id}` });
  const raise = el("button", { type: "button", text: "Set priority", onclick: () => contactAction(c.id, "priority", { priority: Number(priority.value) }) });
  const target = el("select", { id: `move-${c.id}`, "aria-label": `Queue to move ${c.id} to` },
    [...board.names.entries()].map(([id, name]) => el("option", { value: id, text: name })));
  const move = el("button", { type: "button", text: "Move", onclick: () => contactAction(c.id, "move", { queue: target.value }) });
  return el("tr", { dataset: { contact: c.id } },
    el("th", { scope: "row", text: c.id }),
    el("td", { class: "contact-wait num" }),
    el("td", { class: "contact-priority num" }),
    el("td", {}, priority, raise),
    el("td", {}, target, move));
}

async function contactAction(contactId, action, body) {
  clearError();
  try {
    await api("POST", `/api/contacts/${encodeURIComponent(contactId)}/${action}`, body);
    announce(action === "move" ? `Contact moved to ${queueName(body.queue)}` : `Priority set to ${body.priority}`);
    refreshWaiting();
  } catch (error) {
    reportError(error);
  }
}

function tick() {
  const now = Date.now() + clockOffset;
  for (const row of board.rows.values()) {
    row.querySelector(".agent-time").textContent = duration((now - Number(row.dataset.since)) / 1000);
  }
  for (const row of board.waitingRows.values()) {
    row.querySelector(".contact-wait").textContent = duration((now - Number(row.dataset.enqueued)) / 1000);
  }
}

const signOut = setupLogin(["supervisor", "admin"], start, stop);
$("sign-out").addEventListener("click", () => signOut());
$("show-logged-out").addEventListener("change", renderAgents);
$("waiting-queue").addEventListener("change", () => {
  for (const row of board.waitingRows.values()) row.remove();
  board.waitingRows.clear();
  refreshWaiting();
});
