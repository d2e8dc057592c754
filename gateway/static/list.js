// The two lists (incoming cases, sent alerts): their views, the filters, the tabs and the
// selection. What a selection opens is the caller's (`onSelect`), as is what follows a redraw.

import { t } from "./i18n.js";
import { isExpired } from "./dom.js";
import { ListView, renderIncomingRow, renderSentRow } from "./rows.js";
import { digitsOf, normalizeText } from "./store.js";

const $ = (id) => document.getElementById(id);

// An alert expires while it is on screen: the rows whose expired state no longer matches what
// they show are redrawn. Checked every few seconds, not per row timer, so thousands of rows
// cost one pass.
const EXPIRY_CHECK_MS = 5000;

export const TABS = ["incoming", "sent"];

export class Lists {
  /**
   * @param {object} hooks
   *   onSelect(tab, row, {open}): a row was selected;
   *   onTab(tab): the other tab is shown;
   *   onFlushed(): a list was redrawn.
   */
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    this.activeTab = "incoming";
    this.selected = { incoming: null, sent: null }; // row keys
    this.filters = { kind: "", severity: "", state: "", q: "", qDigits: "" };
    this.elRow = new WeakMap(); // <li> -> row
    const matches = (row) => this.matchesCommon(row);
    this.incoming = new ListView($("incoming"), {
      render: (row, li) => {
        this.elRow.set(li, row);
        renderIncomingRow(store, row, li);
      },
      matches: (row) => matches(row) && (!this.filters.state || store.rowState(row) === this.filters.state),
      compare: (a, b) => b.activity - a.activity,
      onFlushed: (view) => this.afterFlush(view),
    });
    this.sent = new ListView($("sent"), {
      render: (row, li) => {
        this.elRow.set(li, row);
        renderSentRow(store, row, li);
      },
      matches,
      compare: (a, b) => b.sortKey - a.sortKey || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
      onFlushed: (view) => this.afterFlush(view),
    });
  }

  start() {
    setInterval(() => this.refreshExpired(), EXPIRY_CHECK_MS);
  }

  view(tab) {
    return tab === "incoming" ? this.incoming : this.sent;
  }

  row(tab, key) {
    if (key === null || key === undefined) return null;
    return tab === "incoming" ? this.store.cases.get(key) : this.store.sent.get(key);
  }

  /** The selected row of `tab` (the active one by default), or null. */
  selectedRow(tab = this.activeTab) {
    return this.row(tab, this.selected[tab]);
  }

  activeList() {
    return $(this.activeTab);
  }

  /** What the store's `apply` changed, into its list. */
  show(res) {
    const view = this.view(res.tab);
    if (res.row.version === 1) view.add(res.row);
    else view.changed(true);
    if (res.caseRow) this.incoming.changed();
  }

  /** A row's look changed (its version is bumped): redraw it. */
  touch(tab, row) {
    if (!row) return;
    row.version++;
    this.view(tab).changed();
  }

  invalidate() {
    this.incoming.invalidate();
    this.sent.invalidate();
  }

  clear() {
    this.incoming.clear();
    this.sent.clear();
    this.selected.incoming = this.selected.sent = null;
  }

  matchesCommon(row) {
    const f = this.filters;
    const b = row.alert.body || {};
    if (f.kind && b.kind !== f.kind) return false;
    if (f.severity && b.severity !== f.severity) return false;
    if (f.q) {
      const textHit = row.hay.includes(f.q);
      const digitHit = f.qDigits.length >= 4 && row.digits.includes(f.qDigits);
      if (!textHit && !digitHit) return false;
    }
    return true;
  }

  /** The filters as the controls now read. */
  applyFilters() {
    const f = this.filters;
    f.kind = $("filter-kind").value;
    f.severity = $("filter-severity").value;
    f.state = $("filter-state").value;
    const raw = $("search").value.trim();
    f.q = normalizeText(raw);
    // Numbers: digits only, without a national trunk "0" (so 0912… finds +84912…).
    f.qDigits = /^[\d\s+().-]+$/.test(raw) ? digitsOf(raw).replace(/^0+/, "") : "";
    this.invalidate();
  }

  afterFlush(view) {
    const tab = view === this.incoming ? "incoming" : "sent";
    const all = view.rows.length;
    const empty = $(`${tab}-empty`);
    empty.hidden = view.shown > 0;
    empty.textContent = all ? t("list.emptyFiltered") : t(tab === "incoming" ? "list.empty" : "sent.empty");
    const footer = $(`${tab}-footer`);
    footer.textContent =
      view.total > view.shown
        ? t("list.more", { shown: view.shown, total: view.total })
        : all
          ? t("list.count", { shown: view.total, total: all })
          : "";
    if (tab === "incoming") {
      const n = this.store.unackedCount();
      const count = $("count-incoming");
      count.textContent = n ? String(n) : "";
      count.title = n ? t("tabs.unacked", { n }) : "";
    } else {
      $("count-sent").textContent = all ? String(all) : "";
    }
    // Keep the list's active descendant pointing at a row that is still shown.
    const sel = this.selectedRow(tab);
    if (sel?.el?.isConnected) view.ul.setAttribute("aria-activedescendant", sel.el.id);
    else view.ul.removeAttribute("aria-activedescendant");
    this.hooks.onFlushed();
  }

  select(tab, row, { open = false, scroll = true } = {}) {
    if (!row) return;
    const prev = this.selectedRow(tab);
    if (prev?.el) {
      prev.el.classList.remove("selected");
      prev.el.setAttribute("aria-selected", "false");
    }
    this.selected[tab] = row.key;
    if (row.el) {
      row.el.classList.add("selected");
      row.el.setAttribute("aria-selected", "true");
      if (row.el.isConnected) {
        this.view(tab).ul.setAttribute("aria-activedescendant", row.el.id);
        if (scroll) row.el.scrollIntoView({ block: "nearest" });
      }
    }
    this.hooks.onSelect(tab, row, { open });
  }

  /** The next (1) or previous (-1) shown row of the active list. */
  move(delta) {
    const tab = this.activeTab;
    const ul = this.activeList();
    const cur = this.selectedRow(tab);
    let next;
    if (!cur?.el?.isConnected) next = ul.firstElementChild;
    else next = delta > 0 ? cur.el.nextElementSibling : cur.el.previousElementSibling;
    if (!next) return;
    this.select(tab, this.elRow.get(next));
    if (document.activeElement !== ul) ul.focus({ preventScroll: true });
  }

  /** A click on a row (not on a button or link in it) selects and opens it. */
  click(tab, e) {
    const li = e.target.closest("li.alert-row, li.sent-row");
    if (!li || e.target.closest("button, a")) return;
    const row = this.elRow.get(li);
    if (!row) return;
    this.select(tab, row, { open: true, scroll: false });
    $(tab).focus({ preventScroll: true });
  }

  setTab(tab) {
    if (tab === this.activeTab) return;
    this.activeTab = tab;
    for (const name of TABS) {
      const on = name === tab;
      $(`tab-${name}`).setAttribute("aria-selected", on ? "true" : "false");
      $(`tab-${name}`).classList.toggle("active", on);
      $(`panel-${name}`).hidden = !on;
    }
    $("filter-state").disabled = tab !== "incoming";
    this.hooks.onTab(tab);
    const row = this.selectedRow(tab);
    if (row?.el?.isConnected) row.el.scrollIntoView({ block: "nearest" });
  }

  refreshExpired() {
    const now = Date.now();
    for (const [view, rows] of [
      [this.incoming, this.store.cases.values()],
      [this.sent, this.store.sent.values()],
    ]) {
      let changed = false;
      for (const row of rows) {
        const expired = isExpired(row.alert, now);
        if (row.el && (row.el.dataset.expired === "true") !== expired) {
          row.version++;
          changed = true;
        }
      }
      if (changed) view.changed();
    }
  }
}
