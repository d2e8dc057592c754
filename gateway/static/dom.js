// DOM building. Every piece of data goes through textContent / attributes, never innerHTML, and
// every piece of partner text through pt() (bidi-isolated, see below); and the small pieces
// (agency names, times, badges) every view of the console shares.

import { formatDateTime, formatShort, label, t } from "./i18n.js";

/** h("span", {class: "x", lang: "vi"}, "text", childNode, null) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

/** Replace the children of `el`, skipping null/false (replaceChildren would print "null"). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false || c === "") continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// --- partner text ---------------------------------------------------------------------------------

// Explicit bidi embeddings, overrides and isolates reorder what the officer reads ("exe.fdp" shown
// as "pdf.exe"). Intake refuses them, but alerts stored before it did may still carry them.
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g;

export function cleanText(value) {
  return String(value).replace(BIDI_CONTROLS, "");
}

/**
 * Text a partner wrote (titles, names, refs, indicators, agency names …) in an element of its own:
 * dir="auto" takes its direction from its first strong character, and `.pt` (unicode-bidi:
 * isolate) keeps a right-to-left name from reordering the badges, times and labels around it.
 * Only that text goes in the element. Empty values give null, which h() and fill() skip.
 */
export function pt(tag, attrs, value) {
  if (value === null || value === undefined || value === "") return null;
  const cls = attrs?.class ? `pt ${attrs.class}` : "pt";
  return h(tag, { ...attrs, class: cls, dir: "auto" }, cleanText(value));
}

/** Partner text inside a sentence (announcements, notices): first-strong isolate marks. */
export function isolate(value) {
  return `\u2068${cleanText(value ?? "")}\u2069`;
}

// --- small pieces ---------------------------------------------------------------------------------

export function agencyText(store, id) {
  const name = store.agencies.get(id);
  return name && name !== id ? name : id || "";
}

/** "北京市公安局 · cn-beijing" */
export function agencyFull(store, id) {
  const name = store.agencies.get(id);
  return h(
    "span",
    { class: "agency-name" },
    name && name !== id ? [pt("span", null, name), " ", h("span", { class: "agency-id" }, id)] : id,
  );
}

export function timeEl(iso, short = true) {
  return h(
    "time",
    { datetime: iso, title: formatDateTime(iso) },
    short ? formatShort(iso) : formatDateTime(iso),
  );
}

export function tlpBadge(tlp) {
  const v = tlp || "amber";
  return h("span", { class: `tlp tlp-${v}`, title: t(`tlp.${v}`) }, `TLP:${v.toUpperCase()}`);
}

export function sevBadge(sev) {
  return h("span", { class: `sev sev-${sev}` }, label("severity", sev));
}

export function urgBadge(urg) {
  return h("span", { class: `urg urg-${urg}` }, label("urgency", urg));
}

/** Expired at display time: the page re-checks as time passes (see app.js). */
export function isExpired(alert, now = Date.now()) {
  const exp = alert.body?.expires_at;
  return exp ? Date.parse(exp) <= now : false;
}
