// A small Markdown subset (headings, paragraphs, lists, quotes, **bold**, *italic*, `code`) rendered as DOM
// nodes with text content only: article text can never become markup or script.
import { el } from "./common.js";

function inline(text) {
  const out = [];
  const pattern = /(\*\*[^*]+\*\*|\*[^*\s][^*]*\*|`[^`]+`)/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) out.push(text.slice(last, match.index));
    const token = match[0];
    if (token.startsWith("**")) out.push(el("strong", { text: token.slice(2, -2) }));
    else if (token.startsWith("`")) out.push(el("code", { text: token.slice(1, -1) }));
    else out.push(el("em", { text: token.slice(1, -1) }));
    last = match.index + token.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** Markdown text -> a list of block elements. */
export function markdown(source) {
  const blocks = [];
  let paragraph = [];
  let list = null;
  const flush = () => {
    if (paragraph.length) blocks.push(el("p", {}, inline(paragraph.join(" "))));
    paragraph = [];
    list = null;
  };
  for (const raw of String(source || "").split("\n")) {
    const line = raw.trimEnd();
    let m;
    if (!line.trim()) {
      flush();
    } else if ((m = /^(#{1,4})\s+(.*)$/.exec(line))) {
      flush();
      blocks.push(el(`h${Math.min(6, m[1].length + 3)}`, {}, inline(m[2])));
    } else if ((m = /^\s*[-*]\s+(.*)$/.exec(line)) || (m = /^\s*\d+[.)]\s+(.*)$/.exec(line))) {
      const ordered = /^\s*\d/.test(line);
      if (paragraph.length) flush();
      if (!list || list.tagName !== (ordered ? "OL" : "UL")) {
        list = el(ordered ? "ol" : "ul");
        blocks.push(list);
      }
      list.append(el("li", {}, inline(m[1])));
    } else if ((m = /^>\s?(.*)$/.exec(line))) {
      flush();
      blocks.push(el("blockquote", {}, inline(m[1])));
    } else if (list && /^\s{2,}\S/.test(raw)) {
      list.lastElementChild.append(" ", ...inline(line.trim()));
    } else {
      list = null;
      paragraph.push(line.trim());
    }
  }
  flush();
  return blocks;
}
