// The detail pane: the open incoming case (with its acknowledge button and outcome form), the
// open sent alert, or a match the registry answered; and the registry search that finds such
// matches.

import { formatDateTime, getLang, label, t } from "./i18n.js";
import { lookUp, lookupQueries, renderMatchDetail, renderRegistry } from "./lookup.js";
import { agencyText, h, isolate } from "./dom.js";
import { renderIncomingDetail, renderSentDetail } from "./pane.js";

const $ = (id) => document.getElementById(id);

const REGISTRY_DELAY_MS = 300; // after the last keystroke: one lookup per search, not per key
// What a recipient may report came of an alert (the gateway's OutcomeIn kinds), in this order.
export const OUTCOME_KINDS = ["located", "detained", "not_found", "number_blocked", "false_match", "other"];

function outcomeStatus(text, state) {
  const el = $("outcome-status");
  el.textContent = text;
  if (state) el.dataset.state = state;
  else delete el.dataset.state;
}

export class Detail {
  /** `token()`: the partner key signed in, for reading the gateway (null: signed out). */
  constructor(store, lists, attention, token) {
    this.store = store;
    this.lists = lists;
    this.attention = attention;
    this.token = token;
    this.open = null; // {tab, key} or {tab: "registry", key, match}
    this.rendered = null; // {tab, key, version, lang} last rendered
    // The registry's answer to the current search: {key, result} (null: no lookup for it).
    this.registry = null;
    this.registryTimer = 0;
    this.reporting = null; // the alert id an outcome report is in flight for
  }

  /** The incoming row shown, or null. */
  incomingRow() {
    return this.open?.tab === "incoming" ? this.lists.row("incoming", this.open.key) : null;
  }

  /** A row of the lists was selected: it is seen, and shown if asked or if a detail is open. */
  selected(tab, row, { open }) {
    this.markSeen(row);
    if (open || this.open) this.show(tab, row);
  }

  /** The other tab is shown: a detail of this one closes. */
  tabShown(tab) {
    if (this.open && this.open.tab !== tab) this.close();
  }

  markSeen(row) {
    if (row.unseenUrgent && document.visibilityState === "visible") {
      row.unseenUrgent = false;
      this.attention.updateTitle();
    }
  }

  /** The page is visible again: the urgent alert in the open detail is seen now. */
  visible() {
    if (!this.open || this.open.tab === "registry") return;
    const row = this.lists.row(this.open.tab, this.open.key);
    if (row) this.markSeen(row);
  }

  show(tab, row) {
    this.open = { tab, key: row.key };
    $("detail").hidden = false;
    $("detail-placeholder").hidden = true;
    this.render();
  }

  close() {
    this.open = null;
    this.rendered = null;
    $("detail").hidden = true;
    $("detail-placeholder").hidden = false;
    $("detail-body").replaceChildren();
    this.showOutcomeForm(null);
  }

  /** After a redraw of the lists: the detail again only if its row changed. */
  renderIfChanged() {
    const d = this.open;
    if (!d || d.tab === "registry") return;
    const row = this.lists.row(d.tab, d.key);
    if (!row) return;
    const r = this.rendered;
    if (r && r.tab === d.tab && r.key === d.key && r.version === row.version && r.lang === getLang()) return;
    this.render();
  }

  /** After a change of language: everything shown again. */
  relabel() {
    this.rendered = null;
    this.labelOutcomeKinds();
    if (this.open?.tab === "registry") this.render();
    else this.renderIfChanged();
    this.showRegistry();
  }

  render() {
    const d = this.open;
    if (!d) return;
    if (d.tab === "registry") {
      this.renderMatch();
      return;
    }
    const row = this.lists.row(d.tab, d.key);
    if (!row) {
      this.close();
      return;
    }
    const body = $("detail-body");
    const ackButton = $("ack-button");
    const ackStatus = $("ack-status");
    if (d.tab === "incoming") {
      const store = this.store;
      renderIncomingDetail(store, row, body, { onOpenCase: (caseId) => this.openCase(caseId) });
      const id = row.alert.alert_id;
      const state = store.rowState(row);
      const pending = store.pendingAcks.has(id);
      const ack = store.acks.get(id);
      ackButton.hidden = false;
      ackButton.dataset.alertId = id;
      ackButton.disabled = state === "acknowledged" || pending;
      ackButton.setAttribute("aria-busy", pending ? "true" : "false");
      ackButton.textContent = pending
        ? t("ack.pending")
        : state === "acknowledged"
          ? `✓ ${t("ack.done")}`
          : t("ack.button");
      ackStatus.textContent = ack
        ? t("ack.doneBy", { agency: isolate(agencyText(store, ack.by)), time: formatDateTime(ack.at) })
        : "";
      this.showOutcomeForm(id);
      this.markSeen(row);
    } else {
      renderSentDetail(this.store, row, body, { onRefresh: () => this.refreshSent(row) });
      ackButton.hidden = true;
      ackStatus.textContent = "";
      this.showOutcomeForm(null);
    }
    this.rendered = { tab: d.tab, key: d.key, version: row.version, lang: getLang() };
  }

  openCase(caseId) {
    const row = this.store.cases.get(caseId);
    if (!row) return;
    this.lists.setTab("incoming");
    this.lists.select("incoming", row, { open: true });
  }

  /** A sent alert's state read again from the gateway (its receipts, its case). */
  async refreshSent(row) {
    try {
      const res = await fetch(`/v1/alerts/${encodeURIComponent(row.key)}`, {
        headers: { Authorization: `Bearer ${this.token()}` },
      });
      if (!res.ok) {
        this.attention.notice(t("detail.refreshFailed", { status: res.status }), "warn");
        return;
      }
      this.store.applySentState(row, await res.json());
      this.lists.sent.changed();
    } catch {
      this.attention.notice(t("detail.refreshFailed", { status: "—" }), "warn");
    }
  }

  // --- outcome reports -----------------------------------------------------------------------

  /** The kinds in the officer's language; the one chosen stays chosen. */
  labelOutcomeKinds() {
    const select = $("outcome-kind");
    const chosen = select.value;
    select.replaceChildren(
      h("option", { value: "" }, t("outcome.choose")),
      ...OUTCOME_KINDS.map((k) => h("option", { value: k }, label("outcomeKind", k))),
    );
    select.value = chosen;
  }

  /** The form under the incoming alert `alertId` (null: hidden). Emptied for another alert,
   * and left alone for the same one, so a note being typed survives a redraw. */
  showOutcomeForm(alertId) {
    const form = $("outcome-form");
    if (!alertId) {
      form.hidden = true;
      return;
    }
    if (form.dataset.alertId !== alertId) {
      form.dataset.alertId = alertId;
      form.reset();
      outcomeStatus("", null);
      this.busy(this.reporting === alertId);
    }
    form.hidden = false;
  }

  busy(on) {
    const button = $("outcome-submit");
    button.disabled = on;
    button.setAttribute("aria-busy", on ? "true" : "false");
  }

  /** POST the form's report; the sender is told by the stream, and our own copy comes back as
   * an `outcome` event (kept from the 202 on, so the pane shows it at once). */
  async reportOutcome() {
    const form = $("outcome-form");
    const alertId = form.dataset.alertId;
    if (!alertId || this.reporting) return;
    const kind = $("outcome-kind").value;
    const note = $("outcome-note").value.trim();
    if (!kind) {
      outcomeStatus(t("outcome.required"), "error");
      $("outcome-kind").focus();
      return;
    }
    this.reporting = alertId;
    this.busy(true);
    outcomeStatus(t("outcome.pending"), null);
    const still = () => form.dataset.alertId === alertId;
    try {
      const res = await fetch(`/v1/alerts/${encodeURIComponent(alertId)}/outcomes`, {
        method: "POST",
        headers: { Authorization: `Bearer ${this.token()}`, "Content-Type": "application/json" },
        body: JSON.stringify(note ? { kind, note } : { kind }),
      });
      const answer = await res.json().catch(() => ({}));
      if (res.status !== 202) {
        const detail = isolate(answer.detail || `HTTP ${res.status}`);
        if (still()) outcomeStatus(t("outcome.failed", { detail }), "error");
        else this.attention.notice(t("outcome.failed", { detail }), "error");
        return;
      }
      const report = { outcome_id: answer.outcome_id, agency: this.store.agency, kind, note: note || null };
      this.store.noteOutcomes(alertId, [{ ...report, at: new Date().toISOString() }]);
      const row = this.store.rowOfAlert(alertId);
      if (row) {
        row.version++;
        this.lists.touch("incoming", row);
      }
      const sender = isolate(agencyText(this.store, row?.alert.sender));
      if (still()) {
        $("outcome-note").value = "";
        $("outcome-kind").value = "";
        outcomeStatus(t("outcome.done", { agency: sender }), "ok");
      }
      this.renderIfChanged();
    } catch {
      const detail = t("outcome.offline");
      if (still()) outcomeStatus(t("outcome.failed", { detail }), "error");
    } finally {
      this.reporting = null;
      if (still()) this.busy(false);
    }
  }

  // --- the registry --------------------------------------------------------------------------

  openMatch(match) {
    this.open = { tab: "registry", key: match.case_id, match };
    $("detail").hidden = false;
    $("detail-placeholder").hidden = true;
    this.renderMatch();
  }

  renderMatch() {
    renderMatchDetail($("detail-body"), this.open.match, { store: this.store });
    $("ack-button").hidden = true;
    $("ack-status").textContent = "";
    this.showOutcomeForm(null);
    this.rendered = null;
  }

  // The search also asks the registry when it reads as a number, a document, or a name with
  // a date of birth: it knows what was shared with this agency beyond the loaded events.
  search() {
    clearTimeout(this.registryTimer);
    const token = this.token();
    const queries = token ? lookupQueries($("search").value, $("search-dob").value) : [];
    const key = JSON.stringify(queries);
    if (!queries.length) {
      this.registry = null;
      this.showRegistry();
      return;
    }
    if (this.registry?.key === key) return;
    this.registry = { key, result: null };
    this.showRegistry();
    this.registryTimer = setTimeout(async () => {
      const result = await lookUp(token, queries);
      if (this.registry?.key !== key) return; // the search changed meanwhile
      this.registry = { key, result };
      this.showRegistry();
    }, REGISTRY_DELAY_MS);
  }

  clearRegistry() {
    clearTimeout(this.registryTimer);
    this.registry = null;
    this.showRegistry();
  }

  showRegistry() {
    renderRegistry($("registry"), this.registry?.result ?? null, {
      store: this.store,
      onOpen: (match) => this.openMatch(match),
      pending: Boolean(this.registry),
    });
  }
}
