// Knowledge and directory search beside the script: open an article, link it to the contact in hand,
// flag it as wrong. Article bodies are shown as text (never as HTML). API: see API-CONTRACTS (knowledge).
import { announce, api, el, fill, reportError } from "./common.js";
import { markdown } from "./markdown.js";

let contactId = null;
let serviceHint = "";

export function setKbContact(id, service) {
  contactId = id;
  serviceHint = service || "";
  for (const button of document.querySelectorAll("#kb-results .link-article, #kb-article .link-article")) {
    button.disabled = !contactId;
  }
}

export function setupKb() {
  document.getElementById("kb-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = document.getElementById("kb-query").value.trim();
    if (!q) return;
    const scope = document.getElementById("kb-scope").value;
    const status = document.getElementById("kb-status");
    status.textContent = "Searching…";
    try {
      let results;
      if (scope === "open") {
        const found = await api("GET", `/api/directory/search?${new URLSearchParams({ q, open_now: "true" })}`);
        results = found.results.map((r) => ({ ...r, kind: "directory", title: r.name, snippet: r.description || "" }));
      } else {
        const params = new URLSearchParams({ q, limit: "10" });
        if (serviceHint) params.set("service", serviceHint);
        let found = await api("GET", `/api/kb/search?${params}`);
        if (!found.results.length && serviceHint) {
          params.delete("service");
          found = await api("GET", `/api/kb/search?${params}`);
        }
        results = found.results;
      }
      renderResults(results);
      status.textContent = `${results.length} result${results.length === 1 ? "" : "s"}`;
    } catch (error) {
      status.textContent = "Search failed.";
      reportError(error);
    }
  });
}

function linkButton(articleId, title) {
  const button = el("button", { type: "button", class: "link-article", text: "Link to contact", "aria-label": `Link “${title}” to this contact` });
  button.disabled = !contactId;
  button.addEventListener("click", async () => {
    if (!contactId) return;
    try {
      await api("POST", `/api/contacts/${encodeURIComponent(contactId)}/articles`, { article_id: articleId });
      button.textContent = "Linked";
      button.disabled = true;
      button.classList.add("done");
      announce(`Linked ${title} to the contact`);
    } catch (error) {
      reportError(error);
    }
  });
  return button;
}

function renderResults(results) {
  const list = document.getElementById("kb-results");
  fill(
    list,
    results.map((r) => {
      const item = el("li", { class: `result ${r.kind}` });
      item.append(el("p", { class: "result-kind", text: r.kind === "directory" ? "Directory" : "Article" }));
      item.append(el("h3", { class: "result-title", text: r.title }));
      if (r.snippet) item.append(el("p", { class: "snippet", text: r.snippet }));
      if (r.open_now !== undefined && r.open_now !== null) {
        item.append(el("p", { class: r.open_now ? "badge ok" : "badge", text: r.open_now ? "Open now" : "Closed now" }));
      }
      if (r.kind === "article") {
        item.append(
          el("div", { class: "actions" },
            el("button", { type: "button", text: "Open", "aria-label": `Open “${r.title}”`, onclick: () => openArticle(r.id) }),
            linkButton(r.id, r.title)),
        );
      } else {
        const phone = r.contact && r.contact.phone;
        if (phone) item.append(el("p", { class: "phone", text: `Phone: ${phone}` }));
        if (r.stale) item.append(el("p", { class: "badge warn", text: "Details not verified recently" }));
      }
      return item;
    }),
  );
}

async function openArticle(id) {
  const box = document.getElementById("kb-article");
  try {
    const article = await api("GET", `/api/kb/articles/${encodeURIComponent(id)}`);
    const reason = el("input", { id: "flag-reason", autocomplete: "off" });
    const flag = el("button", { type: "button", text: "Flag as wrong or out of date" });
    flag.addEventListener("click", async () => {
      const body = { reason: reason.value.trim() || "needs review" };
      if (contactId) body.contact_id = contactId;
      try {
        await api("POST", `/api/kb/articles/${encodeURIComponent(id)}/flag`, body);
        flag.textContent = "Flagged";
        flag.disabled = true;
        announce("Article flagged for review");
      } catch (error) {
        reportError(error);
      }
    });
    fill(box,
      el("h3", { id: "kb-article-title", text: article.title }),
      article.review_overdue ? el("p", { class: "badge warn", text: "Review overdue: check before relying on it" }) : null,
      article.clinical ? el("p", { class: "muted", text: "Clinical content (illustrative)" }) : null,
      el("div", { class: "article-body" }, markdown(article.markdown)),
      el("div", { class: "actions" }, linkButton(article.id || id, article.title),
        el("button", { type: "button", class: "quiet", text: "Close", onclick: () => { box.hidden = true; } })),
      el("details", {}, el("summary", { text: "Flag this article" }),
        el("label", { for: "flag-reason", text: "What is wrong?" }), reason, flag));
    box.hidden = false;
    box.focus();
  } catch (error) {
    reportError(error);
  }
}
