// The rows of the incoming and sent lists, and the keyed list view that holds them.

import { formatDateTime, formatShort, label, t } from "./i18n.js";
import {
  agencyText,
  fill,
  h,
  isExpired,
  isolate,
  pt,
  sevBadge,
  timeEl,
  tlpBadge,
  urgBadge,
} from "./dom.js";

let rowIds = 0;

// --- the list ------------------------------------------------------------------------------------

/**
 * A keyed list kept in a <ul>: rows are plain objects (with `version` bumped on change); the view
 * sorts, filters and caps them, and on the next animation frame renders only the rows that changed
 * and moves only the elements that are out of place.
 */
export class ListView {
  constructor(ul, { render, matches, compare, limit = 2000, onFlushed }) {
    this.ul = ul;
    this.render = render;
    this.matches = matches;
    this.compare = compare;
    this.limit = limit;
    this.onFlushed = onFlushed;
    this.rows = [];
    this.sortDirty = false;
    this.gen = 0;
    this.raf = 0;
    this.shown = 0;
    this.total = 0;
    this.byEl = new WeakMap(); // <li> -> row
    // A flash plays once: drop its class when it ends or is cancelled (a hidden tab cancels it,
    // and showing the tab again would otherwise replay it).
    const unflash = (e) => {
      if (!e.animationName.startsWith("flash")) return;
      const li = e.target.closest("li");
      li?.classList.remove("flash-a", "flash-b");
      const row = li && this.byEl.get(li);
      if (row) row.flash = null;
    };
    ul.addEventListener("animationend", unflash);
    ul.addEventListener("animationcancel", unflash);
  }

  add(row) {
    this.rows.push(row);
    this.sortDirty = true;
    this.schedule();
  }

  changed(moved = false) {
    if (moved) this.sortDirty = true;
    this.schedule();
  }

  /** Filters or language changed: everything visible is re-checked and re-rendered. */
  invalidate() {
    this.gen++;
    this.schedule();
  }

  clear() {
    this.rows = [];
    this.ul.replaceChildren();
    this.schedule();
  }

  schedule() {
    if (!this.raf) this.raf = requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.raf = 0;
    if (this.sortDirty) {
      this.rows.sort(this.compare);
      this.sortDirty = false;
    }
    const visible = [];
    let total = 0;
    for (const row of this.rows) {
      if (!this.matches(row)) continue;
      total++;
      if (visible.length < this.limit) visible.push(row);
    }
    for (const row of visible) {
      if (!row.el || row.renderedVersion !== row.version || row.renderedGen !== this.gen) {
        if (!row.el) {
          row.el = document.createElement("li");
          row.el.id = `row-${++rowIds}`;
          this.byEl.set(row.el, row);
        }
        this.render(row, row.el);
        row.renderedVersion = row.version;
        row.renderedGen = this.gen;
      }
    }
    // Reconcile: remove what is no longer shown, move what is out of place, insert new rows.
    const want = new Set(visible.map((r) => r.el));
    let node = this.ul.firstElementChild;
    for (const row of visible) {
      while (node && !want.has(node)) {
        const next = node.nextElementSibling;
        node.remove();
        node = next;
      }
      if (node === row.el) node = node.nextElementSibling;
      else this.ul.insertBefore(row.el, node);
    }
    while (node) {
      const next = node.nextElementSibling;
      node.remove();
      node = next;
    }
    this.shown = visible.length;
    this.total = total;
    this.onFlushed?.(this);
  }
}


function markExpired(li, alert) {
  if (isExpired(alert)) li.dataset.expired = "true";
  else delete li.dataset.expired;
}

/** Base classes, keeping the selection; a fresh `row.flash` (set by the app) restarts the flash
 *  animation by alternating between two class names. */
function resetRowClass(li, base, row) {
  const selected = li.classList.contains("selected");
  li.className = base;
  li.classList.toggle("selected", selected);
  li.setAttribute("role", "option");
  li.setAttribute("aria-selected", selected ? "true" : "false");
  if (row.flash && Date.now() - row.flash.at < 2500) li.classList.add(row.flash.cls);
}

// --- incoming rows --------------------------------------------------------------------------------

export function renderIncomingRow(store, row, li) {
  const a = row.alert;
  const b = a.body || {};
  const state = store.rowState(row);
  const escalated = row.escalated.has(a.alert_id) && state === "new";
  const urgent = store.isUrgent(row);
  const reporters = row.case?.reporters?.length || 1;
  const pending = store.pendingAcks.has(a.alert_id);

  resetRowClass(li, "alert-row", row);
  li.classList.toggle("urgent", urgent);
  li.dataset.alertId = a.alert_id;
  li.dataset.caseId = row.caseId ?? "";
  li.dataset.event = row.event;
  li.dataset.urgency = b.urgency || "";
  li.dataset.severity = b.severity || "";
  li.dataset.state = state;
  li.dataset.reporters = String(reporters);
  li.dataset.kind = b.kind || "";
  if (escalated) li.dataset.escalated = "true";
  else delete li.dataset.escalated;
  markExpired(li, a);

  const ack = store.acks.get(a.alert_id);
  // The event name, unless a flag below already says the same thing.
  const showEvent = !(
    (row.event === "acknowledged" && state === "acknowledged") ||
    (row.event === "cancelled" && state === "cancelled") ||
    (row.event === "escalated" && escalated)
  );
  fill(li, 
    h(
      "div",
      { class: "row-line" },
      urgent ? h("span", { class: "urg urg-immediate" }, label("urgency", "immediate")) : null,
      escalated ? h("span", { class: "flag flag-escalated" }, `⚠ ${t("badge.escalated")}`) : null,
      pt("span", { class: "row-title", lang: b.language || null }, b.title || a.alert_id),
      timeEl(row.at || a.received_at),
    ),
    h(
      "div",
      { class: "row-meta" },
      sevBadge(b.severity),
      h("span", { class: "kind" }, label("kind", b.kind)),
      pt("span", { class: "from" }, agencyText(store, a.sender)),
      showEvent ? h("span", { class: `event event-${row.event}` }, label("event", row.event)) : null,
      reporters > 1
        ? h(
            "span",
            { class: "corro", title: t("badge.reportersTitle", { n: reporters }) },
            t("badge.reporters", { n: reporters }),
          )
        : null,
      pending ? h("span", { class: "flag flag-pending" }, t("badge.pending")) : null,
      state === "acknowledged"
        ? h("span", { class: "flag flag-ack", title: formatDateTime(ack?.at) }, `✓ ${t("state.acknowledged")}`)
        : null,
      state === "cancelled" ? h("span", { class: "flag flag-cancelled" }, t("state.cancelled")) : null,
      isExpired(a) ? h("span", { class: "flag flag-expired" }, t("badge.expired")) : null,
      b.tlp === "red" ? tlpBadge("red") : null,
    ),
  );
}

// --- sent rows ------------------------------------------------------------------------------------

export function receiptState(r) {
  if (r.acknowledged_at) return "acknowledged";
  if (r.escalated_at) return "escalated";
  return "delivered";
}

function receiptEl(store, r) {
  const state = receiptState(r);
  const text =
    state === "acknowledged"
      ? `✓ ${t("receipt.acknowledged", { time: formatShort(r.acknowledged_at) })}`
      : state === "escalated"
        ? `⚠ ${t("receipt.escalated")}`
        : `✓ ${t("receipt.delivered", { time: formatShort(r.delivered_at) })}`;
  const title = [
    `${t("event.delivered")}: ${formatDateTime(r.delivered_at)}`,
    r.acknowledged_at ? `${t("event.acknowledged")}: ${formatDateTime(r.acknowledged_at)}` : "",
    r.escalated_at ? `${t("event.escalated")}: ${formatDateTime(r.escalated_at)}` : "",
  ]
    .filter(Boolean)
    .join("\n");
  return h(
    "li",
    { class: `receipt receipt-${state}`, title, dataset: { agency: r.agency, state } },
    pt("span", { class: "receipt-agency" }, agencyText(store, r.agency)),
    h("span", { class: "receipt-state" }, text),
  );
}

export function receiptsList(store, row) {
  const receipts = [...row.receipts.values()];
  const awaiting = (row.alert.body?.recipients || []).filter((id) => !row.receipts.has(id));
  if (!receipts.length && !awaiting.length) return null;
  return h(
    "ul",
    { class: "receipts" },
    receipts.map((r) => receiptEl(store, r)),
    row.rejected
      ? null
      : awaiting.map((id) =>
          h(
            "li",
            { class: "receipt-awaiting", dataset: { agency: id } },
            pt("span", { class: "receipt-agency" }, agencyText(store, id)),
            h("span", { class: "receipt-state" }, `… ${t("receipt.awaiting")}`),
          ),
        ),
  );
}

export function renderSentRow(store, row, li) {
  const a = row.alert;
  const b = a.body || {};
  const status = store.sentStatus(row);
  resetRowClass(li, `sent-row sent-${status}`, row);
  li.dataset.alertId = a.alert_id;
  li.dataset.caseId = a.case_id ?? row.case?.case_id ?? "";
  li.dataset.status = status;
  li.dataset.urgency = b.urgency || "";
  li.dataset.severity = b.severity || "";
  li.dataset.kind = b.kind || "";
  markExpired(li, a);
  fill(li, 
    h(
      "div",
      { class: "row-line" },
      h("span", { class: `status status-${status}` }, t(`sent.status.${status}`)),
      pt("span", { class: "row-title", lang: b.language || null }, b.title || a.alert_id),
      timeEl(a.received_at),
    ),
    h(
      "div",
      { class: "row-meta" },
      sevBadge(b.severity),
      urgBadge(b.urgency),
      h("span", { class: "kind" }, label("kind", b.kind)),
      pt("span", { class: "ref" }, b.source_ref),
      isExpired(a) ? h("span", { class: "flag flag-expired" }, t("badge.expired")) : null,
      b.tlp === "red" ? tlpBadge("red") : null,
    ),
    row.rejected
      ? h("div", { class: "reject-reason" }, t("sent.reason", { reason: isolate(row.reason || "—") }))
      : null,
    receiptsList(store, row),
    latestOutcomes(store, row),
  );
}

/** Each recipient's latest outcome report, as one chip ("北京市公安局: Located"). */
function latestOutcomes(store, row) {
  const latest = new Map();
  for (const o of row.outcomes?.values() ?? []) {
    const cur = latest.get(o.agency);
    if (!cur || (Date.parse(o.at) || 0) >= (Date.parse(cur.at) || 0)) latest.set(o.agency, o);
  }
  if (!latest.size) return null;
  return h(
    "ul",
    { class: "outcome-chips" },
    [...latest.values()].map((o) =>
      h(
        "li",
        { class: `outcome-chip outcome-${o.kind}`, dataset: { agency: o.agency, kind: o.kind } },
        pt("span", { class: "receipt-agency" }, agencyText(store, o.agency)),
        h("span", { class: "outcome-kind" }, label("outcomeKind", o.kind)),
      ),
    ),
  );
}
