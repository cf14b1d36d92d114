// Shared by the desktop and the wallboard: DOM building (text only, never HTML), the API client, the
// sign-in form and the websocket channel with automatic reconnect and replay.
// Only the session token is kept in the browser (sessionStorage); nothing personal goes in a URL.

const TOKEN_KEY = "frontdoor.token";

/** Build an element. Children are nodes or strings (strings become text nodes: no HTML parsing). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export const $ = (id) => document.getElementById(id);

/** Replace the contents of an element (by id or node) with the given children. */
export function fill(target, ...children) {
  const node = typeof target === "string" ? $(target) : target;
  node.replaceChildren();
  append(node, children);
  return node;
}

export function show(target, visible = true) {
  const node = typeof target === "string" ? $(target) : target;
  node.hidden = !visible;
}

/** Say something to screen readers (and show it): polite for status, assertive for offers and alerts. */
export function announce(text, urgent = false) {
  const region = $(urgent ? "announce-urgent" : "announce-polite");
  if (!region) return;
  region.textContent = "";
  // A new text node after clearing makes screen readers read it even when the text repeats.
  window.setTimeout(() => {
    region.textContent = text;
  }, 30);
}

export function humanise(code) {
  if (code === null || code === undefined || code === "") return "";
  const text = String(code).replaceAll("_", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const serviceNames = new Map();

/** Remember display names for service and queue codes (from GET /api/queues). */
export function learnNames(queues) {
  for (const q of queues) serviceNames.set(q.id, q.name);
}

/** A service or queue code in words: its queue's name when there is one, else the code spelled out. */
export function serviceName(code) {
  if (!code) return "";
  return serviceNames.get(code) || String(code).replaceAll("_", " ").toUpperCase();
}

/** An NHS number as people read it: 3-3-4 digits. */
export function nhsNumber(value) {
  const digits = String(value || "").replace(/\s/g, "");
  return /^\d{10}$/.test(digits) ? `${digits.slice(0, 3)} ${digits.slice(3, 6)} ${digits.slice(6)}` : String(value || "");
}

export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

export function percent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)}%`;
}

export function shortDate(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? String(iso)
    : d.toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" });
}

// --- API --------------------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `request failed (${status})`);
    this.status = status;
    this.errorId = (body && body.error_id) || "http_" + status;
    this.body = body;
  }
}

export function token() {
  return window.sessionStorage.getItem(TOKEN_KEY);
}

let onSignedOut = () => {};

export async function api(method, path, body = undefined) {
  const headers = { accept: "application/json" };
  const current = token();
  if (current) headers.authorization = `Bearer ${current}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    credentials: "omit",
  });
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && path !== "/api/login") {
      window.sessionStorage.removeItem(TOKEN_KEY);
      onSignedOut("Your session has ended. Please sign in again.");
    }
    throw new ApiError(response.status, data);
  }
  return data;
}

/** Show an API failure in the page's error line (role=alert). */
export function reportError(error, where = "error-line") {
  const line = $(where);
  const text = error instanceof ApiError ? error.message : `Something went wrong: ${error.message || error}`;
  if (line) {
    line.textContent = text;
    line.hidden = false;
  }
}

export function clearError(where = "error-line") {
  const line = $(where);
  if (line) {
    line.textContent = "";
    line.hidden = true;
  }
}

// --- sign in ------------------------------------------------------------------------------------------

/**
 * Wire the sign-in form. `roles` are the roles this page is for; `start(me)` runs once signed in.
 * Returns a function that signs out.
 */
export function setupLogin(roles, start, stop) {
  const form = $("login-form");
  const message = $("login-message");
  const signedOut = (text) => {
    stop();
    show("app", false);
    show("login", true);
    message.textContent = text || "";
    $("login-username").focus();
  };
  onSignedOut = signedOut;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "Signing in…";
    try {
      const result = await api("POST", "/api/login", {
        username: $("login-username").value.trim(),
        password: $("login-password").value,
      });
      if (!roles.includes(result.role)) {
        message.textContent = `This page is for ${roles.join(" or ")} accounts.`;
        return;
      }
      window.sessionStorage.setItem(TOKEN_KEY, result.access_token);
      $("login-password").value = "";
      message.textContent = "";
      enter({ username: result.username, role: result.role });
    } catch (error) {
      message.textContent =
        error instanceof ApiError && error.status === 401 ? "Wrong username or password." : error.message;
    }
  });
  const enter = (me) => {
    show("login", false);
    show("app", true);
    start(me);
  };
  if (token()) {
    api("GET", "/api/me")
      .then((me) => (roles.includes(me.role) ? enter(me) : signedOut("")))
      .catch(() => signedOut(""));
  } else {
    signedOut("");
  }
  return async () => {
    try {
      await api("POST", "/api/logout");
    } catch {
      // signed out locally either way
    }
    window.sessionStorage.removeItem(TOKEN_KEY);
    signedOut("You have signed out.");
  };
}

// --- the websocket channel ------------------------------------------------------------------------------

/**
 * One stream over /ws/agent or /ws/supervisor. Calls `onMessage(msg)` for every message in order and
 * `onStatus(state, detail)` with "connecting" | "live" | "reconnecting" | "stopped". Keeps the last seq and
 * resumes from it after a drop; messages are states, so a replayed one is simply applied again.
 */
export class Channel {
  constructor(kind, onMessage, onStatus) {
    this.kind = kind;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.lastSeq = null;
    this.ws = null;
    this.stopped = true;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.pingEvery = 0;
    this.refusals = 0;
    this.replayed = 0;
    this.resuming = false;
    this.live = false;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.clearTimeout(this.retryTimer);
    window.clearInterval(this.pingTimer);
    this.pingTimer = null;
    if (this.ws) this.ws.close(1000, "signed out");
    this.ws = null;
    this.lastSeq = null;
    this.onStatus("stopped", "");
  }

  async connect() {
    if (this.stopped) return;
    this.onStatus(this.attempt === 0 && this.lastSeq === null ? "connecting" : "reconnecting", "");
    let ticket;
    try {
      ticket = (await api("POST", "/api/ws-ticket")).ticket;
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return; // signed out
      this.retry();
      return;
    }
    if (this.stopped) return;
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const params = new URLSearchParams({ ticket, batch: "1" }); // batch: several events may share a frame
    if (this.lastSeq !== null) params.set("last_seq", String(this.lastSeq));
    const ws = new WebSocket(`${scheme}://${window.location.host}/ws/${this.kind}?${params}`);
    this.ws = ws;
    this.resuming = this.lastSeq !== null;
    this.replayed = 0;
    this.live = false;
    ws.addEventListener("message", (event) => this.receive(event.data));
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      window.clearInterval(this.pingTimer);
      this.pingTimer = null;
      this.ws = null;
      if (this.stopped) return;
      if (event.code === 1008 || event.code === 1003 || event.code === 1009) {
        // Refused by policy: a new ticket may fix it, but do not retry in a loop.
        this.refusals += 1;
        if (this.refusals >= 3) {
          this.stopped = true;
          this.onStatus("refused", event.reason || "refused by the server");
          return;
        }
      }
      this.retry();
    });
    this.schedulePings(10000);
  }

  /** Ping often enough to stay present: at least every third of the server's heartbeat timeout. */
  schedulePings(intervalMs) {
    if (this.pingEvery === intervalMs && this.pingTimer) return;
    this.pingEvery = intervalMs;
    window.clearInterval(this.pingTimer);
    this.pingTimer = window.setInterval(() => this.send({ type: "ping" }), intervalMs);
  }

  retry() {
    if (this.stopped) return;
    this.onStatus("reconnecting", "");
    const delay = Math.min(5000, 250 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt += 1;
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** One frame: a message, or (we open with batch=1) an array of messages to handle in order. */
  receive(raw) {
    let parsed;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return;
    }
    if (Array.isArray(parsed)) {
      for (const msg of parsed) this.handle(msg);
    } else {
      this.handle(parsed);
    }
  }

  handle(msg) {
    if (!msg || typeof msg !== "object") return;
    switch (msg.type) {
      case "heartbeat":
        this.lastSeq = msg.seq;
        if (msg.data && msg.data.timeout_s > 0) {
          this.schedulePings(Math.max(500, Math.min(10000, (msg.data.timeout_s * 1000) / 3.5)));
        }
        if (!this.live) {
          this.live = true;
          this.onStatus("live", this.resuming ? `replayed ${this.replayed}` : "");
        }
        this.attempt = 0;
        this.refusals = 0;
        this.resuming = false;
        return;
      case "pong":
      case "error":
        return;
      case "resync":
        this.lastSeq = msg.seq;
        this.send({ type: "snapshot" });
        return;
      case "snapshot":
        this.resuming = false;
        this.lastSeq = msg.seq;
        this.onMessage(msg);
        return;
      default:
        if (this.lastSeq !== null && msg.seq <= this.lastSeq) return; // already applied
        if (this.resuming) this.replayed += 1;
        this.lastSeq = msg.seq;
        this.onMessage(msg);
    }
  }
}

/** Show the channel's state in the header indicator (a polite live region). */
export function connectionIndicator(state, detail) {
  const node = $("connection");
  const labels = {
    connecting: "Connecting…",
    live: "Connected",
    reconnecting: "Connection lost: reconnecting…",
    stopped: "Offline",
    refused: "Connection refused",
  };
  let text = labels[state] || state;
  if (state === "refused") text = `Connection refused: ${detail}. Reload the page to try again.`;
  if (state === "live" && detail && detail.startsWith("replayed")) {
    const count = Number(detail.split(" ")[1]);
    text = `Reconnected: ${count} missed update${count === 1 ? "" : "s"} caught up`;
  }
  node.textContent = text;
  node.dataset.state = state;
}
