// DOM building. Every piece of data goes through textContent / attributes, never innerHTML, and
// every piece of partner text through pt() (bidi-isolated, see below).

import {
  formatDate,
  formatDateTime,
  formatMoney,
  formatNumber,
  formatShort,
  label,
  t,
} from "./i18n.js";

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

// --- small pieces ---------------------------------------------------------------------------------

export function agencyText(store, id) {
  const name = store.agencies.get(id);
  return name && name !== id ? name : id || "";
}

/** "北京市公安局 · cn-beijing" */
function agencyFull(store, id) {
  const name = store.agencies.get(id);
  return h(
    "span",
    { class: "agency-name" },
    name && name !== id ? [pt("span", null, name), " ", h("span", { class: "agency-id" }, id)] : id,
  );
}

function timeEl(iso, short = true) {
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

function sevBadge(sev) {
  return h("span", { class: `sev sev-${sev}` }, label("severity", sev));
}

function urgBadge(urg) {
  return h("span", { class: `urg urg-${urg}` }, label("urgency", urg));
}

/** Expired at display time: the page re-checks as time passes (see app.js). */
export function isExpired(alert, now = Date.now()) {
  const exp = alert.body?.expires_at;
  return exp ? Date.parse(exp) <= now : false;
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

function receiptsList(store, row) {
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
  );
}

// --- detail pane ----------------------------------------------------------------------------------

function dl(pairs) {
  const items = pairs.filter(([, v]) => v !== null && v !== undefined && v !== "" && !(Array.isArray(v) && !v.length));
  if (!items.length) return null;
  return h(
    "dl",
    { class: "kv" },
    items.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]),
  );
}

function section(titleText, ...content) {
  const body = content.flat().filter(Boolean);
  if (!body.length) return null;
  return h("section", { class: "detail-section" }, h("h3", null, titleText), body);
}

function chips(values, attrs) {
  if (!values?.length) return null;
  return h("ul", { class: "chips" }, values.map((v) => pt("li", attrs, v)));
}

function subjectSection(alert) {
  const b = alert.body || {};
  const s = b.subject || {};
  const lang = b.language || null;
  const orig = (v) => pt("span", { lang }, v);
  if (b.kind === "wanted_person") {
    const seen = s.last_seen
      ? [orig(s.last_seen.place), s.last_seen.at ? [" · ", timeEl(s.last_seen.at, false)] : null]
      : null;
    return section(
      t("detail.subject"),
      dl([
        [t("field.full_name"), orig(s.full_name)],
        [t("field.aliases"), s.aliases?.length ? chips(s.aliases, { lang }) : null],
        [t("field.date_of_birth"), formatDate(s.date_of_birth)],
        [t("field.nationality"), s.nationality],
        [
          t("detail.documents"),
          s.documents?.length
            ? h(
                "ul",
                { class: "chips" },
                s.documents.map((d) =>
                  h("li", { class: "mono" }, pt("span", null, d.type), ` ${d.country} `, pt("span", null, d.number)),
                ),
              )
            : null,
        ],
        [t("field.offences"), s.offences?.length ? chips(s.offences.map((o) => o.replace(/_/g, " "))) : null],
        [t("field.warrant_ref"), orig(s.warrant_ref)],
        [t("field.interpol_notice"), orig(s.interpol_notice)],
        [t("field.last_seen"), seen ? h("span", null, seen) : null],
      ]),
    );
  }
  if (b.kind === "fraud_pattern") {
    const ind = s.indicators || {};
    return section(
      t("detail.subject"),
      dl([
        [t("field.scheme"), label("scheme", s.scheme)],
        [t("field.modus_operandi"), pt("p", { class: "prose", lang }, s.modus_operandi)],
        [t("field.losses"), s.losses ? formatMoney(s.losses.amount, s.losses.currency) : null],
        [t("field.victims"), s.victims !== undefined && s.victims !== null ? formatNumber(s.victims) : null],
        ...Object.entries(ind)
          .filter(([, v]) => v?.length)
          .map(([k, v]) => [label("ind", k), chips(v, { class: "mono" })]),
      ]),
    );
  }
  if (b.kind === "scam_number") {
    return section(
      t("detail.subject"),
      dl([
        [t("field.number"), pt("span", { class: "mono big" }, s.number)],
        [t("field.scam_type"), s.scam_type ? pt("span", null, s.scam_type.replace(/_/g, " ")) : null],
        [t("field.first_seen"), formatDate(s.first_seen)],
        [t("field.last_seen"), formatDate(s.last_seen)],
        [t("field.reports"), s.reports !== undefined && s.reports !== null ? formatNumber(s.reports) : null],
      ]),
    );
  }
  return null;
}

function enrichmentSections(alert) {
  const e = alert.enrichment || {};
  const lang = alert.body?.language || null;
  const names = e.names?.length
    ? section(
        t("detail.names"),
        h(
          "ul",
          { class: "names" },
          e.names.map((n) =>
            h(
              "li",
              null,
              pt("span", { class: "name-orig", lang }, n.original),
              n.folded && n.folded !== n.original
                ? [h("span", { class: "arrow", "aria-hidden": "true" }, " → "), pt("span", { class: "name-folded", lang: "und-Latn" }, n.folded)]
                : null,
            ),
          ),
        ),
      )
    : null;
  const phones = e.phones?.length
    ? section(
        t("detail.phones"),
        h(
          "table",
          { class: "phones" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              h("th", { scope: "col" }, t("field.number")),
              h("th", { scope: "col" }, t("phone.e164")),
              h("th", { scope: "col" }, t("phone.country")),
              h("th", { scope: "col" }, t("phone.line_type")),
              h("th", { scope: "col" }, t("phone.carrier")),
            ),
          ),
          h(
            "tbody",
            null,
            e.phones.map((p) =>
              h(
                "tr",
                null,
                pt("td", { class: "mono" }, p.raw),
                pt("td", { class: "mono strong" }, p.e164),
                h("td", null, p.country || "—"),
                h("td", null, label("line", p.line_type || "unknown")),
                pt("td", null, p.carrier || "—"),
              ),
            ),
          ),
        ),
      )
    : null;
  const docs = e.documents?.length ? section(t("detail.documents"), chips(e.documents, { class: "mono" })) : null;
  const indEntries = Object.entries(e.indicators || {}).filter(([, v]) => v?.length);
  const indicators = indEntries.length
    ? section(
        t("detail.indicators"),
        dl(indEntries.map(([k, v]) => [label("ind", k), chips(v, { class: "mono" })])),
      )
    : null;
  return [names, phones, docs, indicators];
}

function alertHeader(store, alert, extra) {
  const b = alert.body || {};
  return h(
    "header",
    { class: "detail-header" },
    h(
      "div",
      { class: "badges" },
      sevBadge(b.severity),
      urgBadge(b.urgency),
      tlpBadge(b.tlp),
      h("span", { class: "kind" }, label("kind", b.kind)),
      b.msg_type && b.msg_type !== "alert" ? h("span", { class: "msgtype" }, label("msg_type", b.msg_type)) : null,
      alert.lane === "bulk" ? h("span", { class: "lane" }, t("lane.bulk")) : null,
      isExpired(alert) ? h("span", { class: "flag flag-expired" }, t("detail.expired")) : null,
      extra,
    ),
    pt("h2", { id: "detail-title", lang: b.language || null }, b.title || alert.alert_id),
    pt("p", { class: "description prose", lang: b.language || null }, b.description),
    dl([
      [t("detail.from"), agencyFull(store, alert.sender)],
      [t("detail.received"), timeEl(alert.received_at, false)],
      [t("detail.sourceRef"), pt("span", { class: "mono" }, b.source_ref)],
      [t("detail.references"), pt("span", { class: "mono" }, b.references)],
      [t("detail.expires"), b.expires_at ? timeEl(b.expires_at, false) : null],
      [
        t("detail.recipients"),
        b.recipients?.length
          ? h("span", null, b.recipients.map((id, i) => [i ? ", " : "", pt("span", null, agencyText(store, id))]))
          : t("detail.allPartners"),
      ],
      [t("detail.alertId"), h("span", { class: "mono small" }, alert.alert_id)],
    ]),
  );
}

function timelineSection(store, entries) {
  if (!entries.length) return null;
  return section(
    t("detail.timeline"),
    h(
      "ol",
      { class: "timeline" },
      entries.map((e) =>
        h(
          "li",
          { class: `tl tl-${e.event}`, dataset: { event: e.event, agency: e.agency || "" } },
          timeEl(e.at, false),
          h("span", { class: `event event-${e.event}` }, label("event", e.event)),
          pt("span", { class: "tl-agency" }, agencyText(store, e.agency)),
          pt("span", { class: "tl-title", lang: e.language || null }, e.title),
          pt("span", { class: "tl-reason" }, e.reason),
        ),
      ),
    ),
  );
}

function caseSection(store, row, onOpenCase) {
  const c = row.case;
  if (!c && !row.caseId) return null;
  const related = c?.related || [];
  return section(
    t("detail.case"),
    dl([
      [t("detail.case"), h("span", { class: "mono small" }, c?.case_id || row.caseId)],
      [t("detail.caseState"), c ? label("caseState", c.state) : null],
      [t("detail.opened"), c?.opened_at ? timeEl(c.opened_at, false) : null],
      [
        t("detail.reporters"),
        c?.reporters?.length
          ? h("ul", { class: "chips" }, c.reporters.map((id) => pt("li", null, agencyText(store, id))))
          : null,
      ],
      [
        t("detail.related"),
        related.length
          ? h(
              "ul",
              { class: "related" },
              related.map((id) =>
                h(
                  "li",
                  null,
                  store.cases.has(id)
                    ? h(
                        "button",
                        { type: "button", class: "link", dataset: { caseId: id }, onclick: () => onOpenCase(id) },
                        pt("span", null, store.cases.get(id).alert.body?.title || id),
                      )
                    : h("span", { class: "mono small muted" }, `${id} (${t("detail.relatedMissing")})`),
                ),
              ),
            )
          : null,
      ],
    ]),
  );
}

/** Detail of an incoming case row. */
export function renderIncomingDetail(store, row, body, { onOpenCase }) {
  const a = row.alert;
  const escalated = row.escalated.has(a.alert_id) && store.rowState(row) === "new";
  fill(
    body,
    ...[
      alertHeader(
        store,
        a,
        escalated ? h("span", { class: "flag flag-escalated" }, `⚠ ${t("badge.escalated")}`) : null,
      ),
      subjectSection(a),
      ...enrichmentSections(a),
      caseSection(store, row, onOpenCase),
      timelineSection(store, row.timeline),
    ].filter(Boolean),
  );
}

/** Detail of an alert we sent: its delivery per recipient and any rejection. */
export function renderSentDetail(store, row, body, { onRefresh }) {
  const a = row.alert;
  const status = store.sentStatus(row);
  fill(
    body,
    ...[
      alertHeader(store, a, h("span", { class: `status status-${status}` }, t(`sent.status.${status}`))),
      row.rejected
        ? section(t("detail.rejected"), pt("p", { class: "reject-reason" }, row.reason || "—"))
        : null,
      section(
        t("detail.receipts"),
        receiptsList(store, row),
        h("button", { type: "button", class: "secondary", id: "refresh-status", onclick: onRefresh }, t("detail.refresh")),
      ),
      subjectSection(a),
      ...enrichmentSections(a),
      row.case ? caseSection(store, { case: row.case, caseId: row.case.case_id }, () => {}) : null,
      timelineSection(store, row.timeline),
    ].filter(Boolean),
  );
}
