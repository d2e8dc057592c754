// The console's state: what the server told us, folded into incoming case rows and sent rows.
// No DOM here. `apply(event)` returns what changed so the caller can render just that.

const LOG_MAX = 1500; // most recent events kept for the reload snapshot
const DIGESTS_MAX = 50; // shared lists kept (the most recent first)

export function caseKeyOf(ev) {
  const id = ev.case_id ?? ev.case?.case_id ?? ev.alert?.case_id;
  return id ? String(id) : `alert:${ev.alert_id ?? ev.alert?.alert_id}`;
}

/** Lower-case, accents stripped (đ → d): "Lê Minh Tuấn" matches "le minh tuan". */
export function normalizeText(s) {
  return String(s)
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/đ/gi, "d")
    .toLowerCase();
}

export function digitsOf(s) {
  return String(s).replace(/\D+/g, "");
}

function lastAt(digest) {
  let at = 0;
  for (const p of digest.parts.values()) at = Math.max(at, Date.parse(p.last_at) || 0);
  return at;
}

/** Outcome reports folded into `map` (outcome id -> report); returns whether any was new. */
function mergeOutcomes(map, ...lists) {
  let added = false;
  for (const o of lists.flat()) {
    if (!o || !o.outcome_id || map.has(o.outcome_id)) continue;
    map.set(o.outcome_id, o);
    added = true;
  }
  return added;
}

/** A map's reports, the earliest first. */
export function outcomeList(map) {
  return [...(map?.values() ?? [])].sort((a, b) => (Date.parse(a.at) || 0) - (Date.parse(b.at) || 0));
}

function newer(current, next) {
  if (!next) return current;
  if (!current) return next;
  return Date.parse(next.updated_at) >= Date.parse(current.updated_at) ? next : current;
}

/** Search text of one alert: title, description, names (original + folded), numbers, source_ref. */
function searchParts(alert) {
  const b = alert.body || {};
  const s = b.subject || {};
  const e = alert.enrichment || {};
  const text = [b.title, b.description, b.source_ref, alert.alert_id, s.full_name, ...(s.aliases || [])];
  const numbers = [s.number];
  for (const n of e.names || []) text.push(n.original, n.folded);
  for (const p of e.phones || []) numbers.push(p.raw, p.e164);
  for (const d of e.documents || []) text.push(d);
  for (const d of s.documents || []) numbers.push(d.number);
  const ind = s.indicators || {};
  for (const list of Object.values(ind)) for (const v of list || []) text.push(v);
  for (const list of Object.values(e.indicators || {})) for (const v of list || []) text.push(v);
  for (const n of ind.phone_numbers || []) numbers.push(n);
  const all = [...text, ...numbers].filter(Boolean);
  return {
    text: normalizeText(all.join("\n")),
    digits: numbers.filter(Boolean).map(digitsOf).join("\n"),
  };
}

export class Store {
  constructor() {
    this.reset();
  }

  reset() {
    this.agency = null;
    this.agencyName = null;
    this.agencies = new Map(); // id -> name
    this.cursor = null;
    this.seen = new Set(); // event ids
    this.cases = new Map(); // case key -> incoming row
    this.sent = new Map(); // alert id -> sent row
    this.alertCase = new Map(); // alert id -> case key (incoming)
    this.acks = new Map(); // alert id -> {at, by}   our own acknowledgements
    this.pendingAcks = new Map(); // alert id -> time the ack was sent
    this.outcomes = new Map(); // alert id -> Map(outcome id -> report)   our own, on incoming alerts
    this.log = []; // recent events, for the reload snapshot
    this.digests = new Map(); // "sender|import_id" -> {key, importId, sender, parts: partition -> digest}
    this.seq = 0;
  }

  agencyLabel(id) {
    return this.agencies.get(id) || id || "";
  }

  noteCursor(c) {
    if (typeof c === "number" && Number.isFinite(c) && (this.cursor === null || c > this.cursor))
      this.cursor = c;
  }

  /** Fold one server event in. Returns null for repeats, else {tab, row, urgent, escalated}. */
  apply(ev) {
    if (!ev || typeof ev !== "object" || !ev.event_id || !ev.alert || !ev.event) return null;
    this.noteCursor(ev.cursor);
    if (this.seen.has(ev.event_id)) return null;
    this.seen.add(ev.event_id);
    this.log.push(ev);
    if (this.log.length > LOG_MAX * 1.2) this.log.splice(0, this.log.length - LOG_MAX);
    if (this.agency && ev.alert.sender === this.agency) return this.applySent(ev);
    return this.applyIncoming(ev);
  }

  applyIncoming(ev) {
    const key = caseKeyOf(ev);
    const alert = ev.alert;
    let row = this.cases.get(key);
    if (!row) {
      row = {
        key,
        caseId: ev.case_id ?? ev.case?.case_id ?? alert.case_id ?? null,
        alert,
        event: ev.event,
        at: ev.at,
        activity: 0,
        case: null,
        timeline: [],
        alertIds: new Set(),
        cancelled: false,
        escalated: new Set(), // alert ids escalated to us
        unseenUrgent: false,
        hay: "",
        digits: "",
        version: 0,
      };
      this.cases.set(key, row);
    }
    if (!row.alertIds.has(alert.alert_id)) {
      row.alertIds.add(alert.alert_id);
      const parts = searchParts(alert);
      row.hay += `\n${parts.text}`;
      row.digits += `\n${parts.digits}`;
    }
    this.alertCase.set(alert.alert_id, key);
    this.noteOutcomes(alert.alert_id, ev.outcomes, ev.outcome);
    row.case = newer(row.case, ev.case);
    row.timeline.push(this.timelineEntry(ev));
    row.event = ev.event;
    let urgent = false;
    if (ev.event === "acknowledged") {
      if (!ev.by || ev.by === this.agency) {
        this.acks.set(alert.alert_id, { at: ev.at, by: ev.by || this.agency });
        this.pendingAcks.delete(alert.alert_id);
      }
    } else if (ev.event === "outcome") {
      // Our own report, back from the stream: the alert itself has not changed.
    } else {
      row.alert = alert;
      row.at = ev.at;
      row.activity = ++this.seq;
      row.cancelled = ev.event === "cancelled" || alert.body?.msg_type === "cancel";
      if (ev.event === "escalated") row.escalated.add(alert.alert_id);
      // An event about the urgency itself: not a corroboration of an escalated alert.
      urgent = ev.event === "escalated" || alert.body?.urgency === "immediate";
    }
    if (row.case?.state === "cancelled") row.cancelled = true;
    urgent = urgent && this.isUrgent(row);
    if (urgent) row.unseenUrgent = true;
    if (this.rowState(row) !== "new") row.unseenUrgent = false;
    row.version++;
    return { tab: "incoming", row, urgent, escalated: ev.event === "escalated" };
  }

  /**
   * Whether an incoming row is urgent: an immediate alert or one escalated to us, not yet
   * acknowledged or cancelled. The one place that decides it (the row's look, the alarm).
   */
  isUrgent(row) {
    if (this.rowState(row) !== "new") return false;
    return row.alert.body?.urgency === "immediate" || row.escalated.has(row.alert.alert_id);
  }

  /** A corroboration of our own report updates the case of a matching incoming row too. */
  touchCaseFromSent(ev) {
    if (!ev.case) return null;
    const row = this.cases.get(caseKeyOf(ev));
    if (!row) return null;
    row.case = newer(row.case, ev.case);
    row.timeline.push(this.timelineEntry(ev));
    row.version++;
    return row;
  }

  applySent(ev) {
    const alert = ev.alert;
    let row = this.sent.get(alert.alert_id);
    if (!row) {
      row = {
        key: alert.alert_id,
        alert,
        receipts: new Map(),
        outcomes: new Map(), // outcome id -> report, every recipient's
        rejected: false,
        reason: null,
        timeline: [],
        case: null,
        sortKey: Date.parse(alert.received_at) || 0,
        hay: "",
        digits: "",
        version: 0,
      };
      const parts = searchParts(alert);
      row.hay = parts.text;
      row.digits = parts.digits;
      this.sent.set(alert.alert_id, row);
    }
    row.alert = alert;
    row.case = newer(row.case, ev.case);
    row.timeline.push(this.timelineEntry(ev));
    for (const r of ev.receipts || []) this.mergeReceipt(row, r);
    mergeOutcomes(row.outcomes, ev.outcomes || [], ev.outcome || []);
    if (ev.event === "rejected") {
      row.rejected = true;
      row.reason = ev.reason ?? row.reason;
    } else if (ev.event === "acknowledged" && ev.by) {
      const r = this.mergeReceipt(row, { agency: ev.by, delivered_at: ev.at });
      r.acknowledged_at = r.acknowledged_at || ev.at;
    } else if (ev.event === "escalated" && ev.by) {
      const r = this.mergeReceipt(row, { agency: ev.by, delivered_at: ev.at });
      r.escalated_at = r.escalated_at || ev.at;
    }
    row.version++;
    const caseRow = ev.event === "corroborated" ? this.touchCaseFromSent(ev) : null;
    return { tab: "sent", row, urgent: false, escalated: false, caseRow };
  }

  /** A sent alert's state as the gateway answers `GET /v1/alerts/{id}`, folded into its row. */
  applySentState(row, state) {
    if (state.alert) row.alert = state.alert;
    for (const r of state.receipts || []) this.mergeReceipt(row, r);
    mergeOutcomes(row.outcomes, state.outcomes || []);
    if (state.status === "rejected") {
      row.rejected = true;
      row.reason = state.reason ?? row.reason;
    }
    row.case = newer(row.case, state.case);
    row.version++;
    return row;
  }

  mergeReceipt(row, r) {
    if (!r || !r.agency) return null;
    const cur = row.receipts.get(r.agency);
    if (!cur) {
      const copy = { ...r };
      row.receipts.set(r.agency, copy);
      return copy;
    }
    for (const f of ["delivered_at", "acknowledged_at", "escalated_at"]) if (r[f]) cur[f] = r[f];
    return cur;
  }

  timelineEntry(ev) {
    const agency =
      ev.event === "acknowledged" || ev.event === "escalated" || ev.event === "delivered" || ev.event === "outcome"
        ? ev.by || (ev.event === "acknowledged" ? this.agency : ev.alert.sender)
        : ev.alert.sender;
    return {
      eventId: ev.event_id,
      event: ev.event,
      at: ev.at,
      agency,
      alertId: ev.alert.alert_id,
      title: ev.alert.body?.title,
      language: ev.alert.body?.language,
      reason: ev.reason,
      outcome: ev.event === "outcome" ? ev.outcome?.kind ?? null : null,
    };
  }

  /** Reports of ours on an incoming alert (from events, or our own 202 before its event). */
  noteOutcomes(alertId, ...lists) {
    const flat = lists.flat().filter(Boolean);
    if (!flat.length) return false;
    let map = this.outcomes.get(alertId);
    if (!map) {
      map = new Map();
      this.outcomes.set(alertId, map);
    }
    return mergeOutcomes(map, flat);
  }

  /** Our reports on the alerts of an incoming row, the earliest first. */
  rowOutcomes(row) {
    return [...row.alertIds].flatMap((id) => outcomeList(this.outcomes.get(id)));
  }

  rowState(row) {
    if (row.cancelled) return "cancelled";
    if (this.acks.has(row.alert.alert_id)) return "acknowledged";
    return "new";
  }

  sentStatus(row) {
    if (row.rejected) return "rejected";
    const rs = [...row.receipts.values()];
    if (!rs.length) return "accepted";
    if (rs.every((r) => r.acknowledged_at)) return "acknowledged";
    if (rs.some((r) => r.escalated_at && !r.acknowledged_at)) return "escalated";
    return "delivered";
  }

  /** Mark our acknowledgement as stored by the server (before the `acknowledged` event arrives). */
  ackAccepted(alertId) {
    this.pendingAcks.delete(alertId);
    if (!this.acks.has(alertId)) this.acks.set(alertId, { at: new Date().toISOString(), by: this.agency });
    return this.rowOfAlert(alertId);
  }

  rowOfAlert(alertId) {
    const key = this.alertCase.get(alertId);
    return key ? this.cases.get(key) : null;
  }

  unseenUrgentCount() {
    let n = 0;
    for (const row of this.cases.values()) if (row.unseenUrgent) n++;
    return n;
  }

  unackedCount() {
    let n = 0;
    for (const row of this.cases.values()) if (this.rowState(row) === "new") n++;
    return n;
  }

  /**
   * One partition's count of a shared list (a `digest` message). Counts only grow while a
   * list comes in, so an older or repeated message (a replay) changes nothing. Returns the
   * list's digest, or null for a malformed message.
   */
  applyDigest(msg) {
    if (!msg || typeof msg !== "object" || !msg.import_id || !msg.sender) return null;
    if (!Number.isInteger(msg.partition) || !Number.isInteger(msg.numbers)) return null;
    this.noteCursor(msg.cursor);
    const key = `${msg.sender}|${msg.import_id}`;
    let d = this.digests.get(key);
    if (!d) {
      d = { key, importId: msg.import_id, sender: msg.sender, parts: new Map() };
      this.digests.set(key, d);
      if (this.digests.size > DIGESTS_MAX) {
        const oldest = [...this.digests.values()].sort((a, b) => lastAt(a) - lastAt(b))[0];
        this.digests.delete(oldest.key);
      }
    }
    const prev = d.parts.get(msg.partition);
    const stale = prev && (prev.numbers > msg.numbers || (prev.numbers === msg.numbers && (prev.done || !msg.done)));
    if (!stale) d.parts.set(msg.partition, msg);
    return d;
  }

  /** A shared list's totals over its partitions. */
  digestTotals(d) {
    const total = { numbers: 0, new: 0, known: 0, hits: 0, done: true, lastAt: lastAt(d) };
    for (const p of d.parts.values()) {
      for (const k of ["numbers", "new", "known", "hits"]) total[k] += p[k] || 0;
      total.done = total.done && Boolean(p.done);
    }
    return total;
  }

  /** The shared lists, the latest first. */
  digestList() {
    return [...this.digests.values()].sort((a, b) => lastAt(b) - lastAt(a));
  }

  snapshot() {
    const digests = [...this.digests.values()].flatMap((d) => [...d.parts.values()]);
    return { agency: this.agency, cursor: this.cursor, events: this.log.slice(-LOG_MAX), digests };
  }
}
