// The duty officer's console: wires the socket, the store and the views together.

import {
  LANGUAGES,
  applyStatic,
  formatDateTime,
  getLang,
  loadCatalogs,
  setLang,
  t,
  zoneLabel,
} from "./i18n.js";
import {
  ListView,
  agencyText,
  fill,
  h,
  isExpired,
  isolate,
  pt,
  renderIncomingDetail,
  renderIncomingRow,
  renderSentDetail,
  renderSentRow,
} from "./render.js";
import { renderDigests } from "./digests.js";
import { lookUp, lookupQueries, renderMatchDetail, renderRegistry } from "./lookup.js";
import { HotlineSocket, consoleUrl } from "./socket.js";
import { beep, unlock as unlockAudio } from "./sound.js";
import { Store, digitsOf, normalizeText } from "./store.js";

const $ = (id) => document.getElementById(id);

const SESSION_KEY = "hotline.session"; // sessionStorage: {token, cursor}
const SNAPSHOT_KEY = "hotline.snapshot"; // sessionStorage: recent events, so a reload keeps the list
const MUTE_KEY = "hotline.muted"; // localStorage

const store = new Store();
let socket = null;
let token = null;
let replaying = false;
let activeTab = "incoming";
const selected = { incoming: null, sent: null }; // row keys
let detail = null; // {tab, key}
let detailRendered = null; // {tab, key, version} last rendered
let muted = readLocal(MUTE_KEY) === "1";
const filters = { kind: "", severity: "", state: "", q: "", qDigits: "" };
const elRow = new WeakMap(); // <li> -> row
// The registry's answer to the current search: {key, result} (null: no lookup for it).
let registry = null;
let registryTimer = 0;
const REGISTRY_DELAY_MS = 300; // after the last keystroke: one lookup per search, not per key

// --- storage ------------------------------------------------------------------------------------

function readLocal(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function readSession(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) || "null");
  } catch {
    return null;
  }
}

function writeSession(key, value) {
  try {
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}

let sessionTimer = 0;
let snapshotDirty = false;

function saveSessionSoon() {
  snapshotDirty = true;
  if (!sessionTimer) sessionTimer = setTimeout(saveSession, 300);
}

function saveSession() {
  clearTimeout(sessionTimer);
  sessionTimer = 0;
  if (token) writeSession(SESSION_KEY, { token, cursor: store.cursor });
}

function saveSnapshot() {
  if (!token || !snapshotDirty || !store.agency) return;
  const snap = store.snapshot();
  snap.agencyName = store.agencyName;
  snap.agencies = [...store.agencies].map(([id, name]) => ({ id, name }));
  // Shrink until it fits the storage quota.
  while (!writeSession(SNAPSHOT_KEY, snap)) {
    if (snap.events.length < 50) {
      writeSession(SNAPSHOT_KEY, null);
      break;
    }
    snap.events = snap.events.slice(Math.floor(snap.events.length / 2));
  }
  snapshotDirty = false;
}

setInterval(saveSnapshot, 5000);
window.addEventListener("pagehide", () => {
  saveSession();
  snapshotDirty = true;
  saveSnapshot();
});

// --- views --------------------------------------------------------------------------------------

function matchesCommon(row) {
  const b = row.alert.body || {};
  if (filters.kind && b.kind !== filters.kind) return false;
  if (filters.severity && b.severity !== filters.severity) return false;
  if (filters.q) {
    const textHit = row.hay.includes(filters.q);
    const digitHit = filters.qDigits.length >= 4 && row.digits.includes(filters.qDigits);
    if (!textHit && !digitHit) return false;
  }
  return true;
}

const incomingView = new ListView($("incoming"), {
  render: (row, li) => {
    elRow.set(li, row);
    renderIncomingRow(store, row, li);
  },
  matches: (row) => matchesCommon(row) && (!filters.state || store.rowState(row) === filters.state),
  compare: (a, b) => b.activity - a.activity,
  onFlushed: afterFlush,
});

const sentView = new ListView($("sent"), {
  render: (row, li) => {
    elRow.set(li, row);
    renderSentRow(store, row, li);
  },
  matches: matchesCommon,
  compare: (a, b) => b.sortKey - a.sortKey || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  onFlushed: afterFlush,
});

function viewOf(tab) {
  return tab === "incoming" ? incomingView : sentView;
}

function rowOf(tab, key) {
  if (key === null || key === undefined) return null;
  return tab === "incoming" ? store.cases.get(key) : store.sent.get(key);
}

function afterFlush(view) {
  const tab = view === incomingView ? "incoming" : "sent";
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
    const n = store.unackedCount();
    const count = $("count-incoming");
    count.textContent = n ? String(n) : "";
    count.title = n ? t("tabs.unacked", { n }) : "";
  } else {
    $("count-sent").textContent = all ? String(all) : "";
  }
  // Keep the list's active descendant pointing at a row that is still shown.
  const ul = view.ul;
  const sel = rowOf(tab, selected[tab]);
  if (sel?.el?.isConnected) ul.setAttribute("aria-activedescendant", sel.el.id);
  else ul.removeAttribute("aria-activedescendant");
  renderDetailIfChanged();
}

// --- selection and detail -----------------------------------------------------------------------

function selectRow(tab, row, { open = false, scroll = true } = {}) {
  if (!row) return;
  const prev = rowOf(tab, selected[tab]);
  if (prev?.el) {
    prev.el.classList.remove("selected");
    prev.el.setAttribute("aria-selected", "false");
  }
  selected[tab] = row.key;
  if (row.el) {
    row.el.classList.add("selected");
    row.el.setAttribute("aria-selected", "true");
    if (row.el.isConnected) {
      viewOf(tab).ul.setAttribute("aria-activedescendant", row.el.id);
      if (scroll) row.el.scrollIntoView({ block: "nearest" });
    }
  }
  markSeen(row);
  if (open || detail) openDetail(tab, row);
}

function markSeen(row) {
  if (row.unseenUrgent && document.visibilityState === "visible") {
    row.unseenUrgent = false;
    updateTitle();
  }
}

function openDetail(tab, row) {
  detail = { tab, key: row.key };
  $("detail").hidden = false;
  $("detail-placeholder").hidden = true;
  renderDetail();
}

function closeDetail() {
  detail = null;
  detailRendered = null;
  $("detail").hidden = true;
  $("detail-placeholder").hidden = false;
  $("detail-body").replaceChildren();
}

function renderDetailIfChanged() {
  if (!detail || detail.tab === "registry") return;
  const row = rowOf(detail.tab, detail.key);
  if (!row) return;
  if (
    detailRendered &&
    detailRendered.tab === detail.tab &&
    detailRendered.key === detail.key &&
    detailRendered.version === row.version &&
    detailRendered.lang === getLang()
  )
    return;
  renderDetail();
}

function renderDetail() {
  if (!detail) return;
  if (detail.tab === "registry") {
    renderRegistryDetail();
    return;
  }
  const row = rowOf(detail.tab, detail.key);
  if (!row) {
    closeDetail();
    return;
  }
  const body = $("detail-body");
  const ackButton = $("ack-button");
  const ackStatus = $("ack-status");
  if (detail.tab === "incoming") {
    renderIncomingDetail(store, row, body, { onOpenCase: openCase });
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
    markSeen(row);
  } else {
    renderSentDetail(store, row, body, { onRefresh: () => refreshSent(row) });
    ackButton.hidden = true;
    ackStatus.textContent = "";
  }
  detailRendered = { tab: detail.tab, key: detail.key, version: row.version, lang: getLang() };
}

function openMatch(match) {
  detail = { tab: "registry", key: match.case_id, match };
  $("detail").hidden = false;
  $("detail-placeholder").hidden = true;
  renderRegistryDetail();
}

function renderRegistryDetail() {
  renderMatchDetail($("detail-body"), detail.match, { store });
  $("ack-button").hidden = true;
  $("ack-status").textContent = "";
  detailRendered = null;
}

// The search also asks the registry when it reads as a number, a document, or a name with
// a date of birth: it knows what was shared with this agency beyond the loaded events.
function searchRegistry() {
  clearTimeout(registryTimer);
  const queries = token ? lookupQueries($("search").value, $("search-dob").value) : [];
  const key = JSON.stringify(queries);
  if (!queries.length) {
    registry = null;
    showRegistry();
    return;
  }
  if (registry?.key === key) return;
  registry = { key, result: null };
  showRegistry();
  registryTimer = setTimeout(async () => {
    const result = await lookUp(token, queries);
    if (registry?.key !== key) return; // the search changed meanwhile
    registry = { key, result };
    showRegistry();
  }, REGISTRY_DELAY_MS);
}

function showRegistry() {
  renderRegistry($("registry"), registry?.result ?? null, {
    store,
    onOpen: openMatch,
    pending: Boolean(registry),
  });
}

function openCase(caseId) {
  const row = store.cases.get(caseId);
  if (!row) return;
  setTab("incoming");
  selectRow("incoming", row, { open: true });
}

async function refreshSent(row) {
  try {
    const res = await fetch(`/v1/alerts/${encodeURIComponent(row.key)}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (!res.ok) {
      notice(t("detail.refreshFailed", { status: res.status }), "warn");
      return;
    }
    const state = await res.json();
    if (state.alert) row.alert = state.alert;
    for (const r of state.receipts || []) store.mergeReceipt(row, r);
    if (state.status === "rejected") {
      row.rejected = true;
      row.reason = state.reason ?? row.reason;
    }
    if (state.case) row.case = state.case;
    row.version++;
    sentView.changed();
  } catch {
    notice(t("detail.refreshFailed", { status: "—" }), "warn");
  }
}

// --- acknowledgements ---------------------------------------------------------------------------

function acknowledge(row) {
  if (!row) return;
  const id = row.alert.alert_id;
  if (store.rowState(row) === "acknowledged" || store.pendingAcks.has(id)) return;
  const sent = socket?.send({ type: "ack", alert_id: id, case_id: row.caseId ?? row.alert.case_id ?? null });
  if (!sent) {
    notice(t("ack.notConnected"), "warn");
    return;
  }
  store.pendingAcks.set(id, Date.now());
  row.unseenUrgent = false;
  touchIncoming(row);
  updateTitle();
}

function touchIncoming(row) {
  if (!row) return;
  row.version++;
  incomingView.changed();
}

function clearPendingAcks(alertId) {
  const ids = alertId ? [alertId] : [...store.pendingAcks.keys()];
  for (const id of ids) {
    if (!store.pendingAcks.delete(id)) continue;
    touchIncoming(store.rowOfAlert(id));
  }
}

// --- server messages ----------------------------------------------------------------------------

function onMessage(msg) {
  switch (msg.type) {
    case "welcome":
      return onWelcome(msg);
    case "alert":
      return onEvent(msg);
    case "digest":
      return onDigest(msg);
    case "replay_done":
      return onReplayDone(msg);
    case "ack_accepted": {
      const row = store.ackAccepted(msg.alert_id);
      if (row) row.unseenUrgent = false;
      touchIncoming(row);
      updateTitle();
      return;
    }
    case "error": {
      const said = msg.detail ? isolate(msg.detail) : "";
      const detailText = [said, msg.code ? `(${msg.code})` : ""].filter(Boolean).join(" ");
      if (store.pendingAcks.size) {
        clearPendingAcks(store.pendingAcks.has(msg.alert_id) ? msg.alert_id : null);
        notice(t("ack.failed", { detail: detailText }), "error");
      } else {
        notice(t("notice.error", { detail: detailText }), "error");
      }
      return;
    }
    default:
      return; // unknown messages are ignored
  }
}

function onWelcome(msg) {
  if (store.agency && msg.agency && store.agency !== msg.agency) {
    // The restored list belonged to another agency: start over without it.
    resetData();
    writeSession(SNAPSHOT_KEY, null);
    restartSocket();
    return;
  }
  store.agency = msg.agency || store.agency;
  store.agencyName = msg.agency_name || store.agencyName;
  store.agencies = new Map((msg.agencies || []).map((a) => [a.id, a.name]));
  if (store.agency && !store.agencies.has(store.agency) && store.agencyName)
    store.agencies.set(store.agency, store.agencyName);
  replaying = true;
  showAgency();
  incomingView.invalidate();
  sentView.invalidate();
  updateTitle();
}

function onReplayDone(msg) {
  replaying = false;
  store.noteCursor(msg.cursor);
  saveSession();
  const n = store.unackedCount();
  announce(t("announce.caughtUp", { n }), false);
  if (store.unseenUrgentCount()) alarm("urgent");
  updateTitle();
}

// A shared list's counts: at most a few a second however large the list, redrawn in place.
function onDigest(msg) {
  if (!store.applyDigest(msg)) return;
  saveSessionSoon();
  showDigests();
}

function showDigests() {
  renderDigests($("digests"), store);
}

function onEvent(ev) {
  const res = store.apply(ev);
  saveSessionSoon();
  if (!res) return;
  addOrTouch(res);
  if (replaying) return;
  const { row } = res;
  if (res.tab === "incoming" && ev.event !== "acknowledged") {
    // Flash the row, except for quiet bulk imports (thousands of scam numbers).
    if (res.urgent || ev.alert.lane !== "bulk")
      row.flash = { at: Date.now(), cls: row.flash?.cls === "flash-a" ? "flash-b" : "flash-a" };
    // Isolated inside the sentence, so a right-to-left title cannot reorder its words.
    const agency = isolate(agencyText(store, ev.alert.sender));
    const title = isolate(ev.alert.body?.title || ev.alert_id);
    if (res.urgent) {
      alarm(res.escalated ? "escalated" : "urgent");
      announce(
        res.escalated ? t("announce.escalated", { title }) : t("announce.urgent", { agency, title }),
        true,
      );
    } else {
      announceNew(agency, title);
    }
    if (detail?.tab === "incoming" && detail.key === row.key) markSeen(row);
  }
  if (res.urgent) updateTitle();
}

// An alert expires while it is on screen: re-render the rows (and the open detail) whose
// expired state no longer matches what they show. Checked every few seconds, not per row timer,
// so thousands of rows cost one pass.
const EXPIRY_CHECK_MS = 5000;

function refreshExpired() {
  const now = Date.now();
  for (const [view, rows] of [
    [incomingView, store.cases.values()],
    [sentView, store.sent.values()],
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

setInterval(refreshExpired, EXPIRY_CHECK_MS);

function addOrTouch(res) {
  const view = viewOf(res.tab);
  if (res.row.version === 1) view.add(res.row);
  else view.changed(true);
  if (res.caseRow) incomingView.changed();
}

// --- attention: sound, title, announcements -----------------------------------------------------

let lastBeep = 0;

function alarm(kind) {
  updateTitle();
  if (muted) return;
  const now = Date.now();
  if (now - lastBeep < 1500) return;
  lastBeep = now;
  beep(kind);
}

function updateTitle() {
  const n = store.unseenUrgentCount();
  const base = store.agency ? `${t("app.name")} — ${store.agency}` : t("app.name");
  document.title = n ? `(${n}) ${base}` : base;
  document.body.classList.toggle("has-urgent", n > 0);
}

let pendingNew = { n: 0, text: "" };
let announceTimer = 0;

function announceNew(agency, title) {
  pendingNew.n++;
  pendingNew.text = t("announce.new", { agency, title });
  if (!announceTimer)
    announceTimer = setTimeout(() => {
      announceTimer = 0;
      announce(pendingNew.n === 1 ? pendingNew.text : t("announce.many", { n: pendingNew.n }), false);
      pendingNew = { n: 0, text: "" };
    }, 1500);
}

let lastAssertive = 0;

function announce(text, urgent) {
  if (urgent && Date.now() - lastAssertive < 2000) urgent = false;
  if (urgent) lastAssertive = Date.now();
  const region = $(urgent ? "live-assertive" : "live-polite");
  region.textContent = "";
  // A new text node each time so screen readers announce repeats.
  requestAnimationFrame(() => {
    region.textContent = text;
  });
}

function notice(text, level = "error") {
  const box = $("notices");
  const item = h(
    "div",
    { class: `notice notice-${level}`, role: level === "error" ? "alert" : "status" },
    h("span", { class: "notice-text" }, text),
    h(
      "button",
      { type: "button", class: "notice-close", "aria-label": t("notice.dismiss"), onclick: () => item.remove() },
      "×",
    ),
  );
  box.append(item);
  while (box.children.length > 4) box.firstElementChild.remove();
  setTimeout(() => item.remove(), 10_000);
}

// --- connection ---------------------------------------------------------------------------------

let countdownTimer = 0;
let lastAnnouncedState = null;

function onState(state, sock) {
  const pill = $("conn");
  pill.dataset.state = state;
  clearInterval(countdownTimer);
  countdownTimer = 0;
  const paint = () => {
    let text = t(`conn.${state}`);
    if (state === "reconnecting") {
      const s = sock?.retryAt ? Math.max(0, Math.ceil((sock.retryAt - Date.now()) / 1000)) : 0;
      text = s > 0 ? t("conn.reconnecting", { s }) : t("conn.reconnectingNow");
    }
    $("conn-text").textContent = text;
  };
  paint();
  if (state === "reconnecting") countdownTimer = setInterval(paint, 500);
  if (state !== "connected" && store.pendingAcks.size) clearPendingAcks(null);
  if (state !== lastAnnouncedState && state !== "connecting") {
    lastAnnouncedState = state;
    if (state === "connected" || state === "offline") announce(t(`conn.${state}`), false);
  }
}

function startSocket() {
  socket = new HotlineSocket({
    url: consoleUrl(),
    token,
    getCursor: () => store.cursor,
    onMessage,
    onState,
    onAuthFailed,
  });
  socket.start();
}

function restartSocket() {
  socket?.stop();
  startSocket();
}

function onAuthFailed() {
  token = null;
  socket = null;
  writeSession(SESSION_KEY, null);
  writeSession(SNAPSHOT_KEY, null);
  resetData();
  showSignin(t("signin.failed"));
  onState("signed-out", null);
}

// --- sign-in / sign-out -------------------------------------------------------------------------

function resetData() {
  store.reset();
  incomingView.clear();
  sentView.clear();
  selected.incoming = selected.sent = null;
  replaying = false;
  registry = null;
  showRegistry();
  showDigests();
  closeDetail();
  showAgency();
  updateTitle();
}

function showAgency() {
  const el = $("agency");
  if (!store.agency) {
    el.replaceChildren();
    return;
  }
  const name = store.agencyName || store.agencies.get(store.agency);
  fill(
    el,
    name && name !== store.agency ? pt("span", { class: "agency-name" }, name) : null,
    h("span", { class: "agency-id" }, store.agency),
  );
}

function showSignin(error) {
  $("console-view").hidden = true;
  $("signin-view").hidden = false;
  $("signout").hidden = true;
  const err = $("signin-error");
  err.hidden = !error;
  err.textContent = error || "";
  $("token").focus();
}

function showConsole() {
  $("signin-view").hidden = true;
  $("console-view").hidden = false;
  $("signout").hidden = false;
  $("signin-error").hidden = true;
}

function signIn(newToken) {
  socket?.stop();
  resetData();
  writeSession(SNAPSHOT_KEY, null);
  token = newToken;
  saveSession();
  showConsole();
  startSocket();
  $("incoming").focus({ preventScroll: true });
}

function signOut() {
  socket?.stop();
  socket = null;
  token = null;
  writeSession(SESSION_KEY, null);
  writeSession(SNAPSHOT_KEY, null);
  resetData();
  onState("signed-out", null);
  $("token").value = "";
  showSignin(null);
}

/** After a reload: the list from the snapshot, then resume from its cursor. */
function restore() {
  const session = readSession(SESSION_KEY);
  if (!session?.token) return false;
  token = session.token;
  const snap = readSession(SNAPSHOT_KEY);
  if (snap?.agency && Array.isArray(snap.events)) {
    store.agency = snap.agency;
    store.agencyName = snap.agencyName || null;
    store.agencies = new Map((snap.agencies || []).map((a) => [a.id, a.name]));
    for (const ev of snap.events) {
      const res = store.apply(ev);
      if (res) addOrTouch(res);
    }
    for (const d of Array.isArray(snap.digests) ? snap.digests : []) store.applyDigest(d);
    showDigests();
    store.cursor = typeof snap.cursor === "number" ? snap.cursor : store.cursor;
  } else {
    store.cursor = typeof session.cursor === "number" ? session.cursor : null;
  }
  showAgency();
  showConsole();
  updateTitle();
  startSocket();
  return true;
}

// --- controls -----------------------------------------------------------------------------------

function setTab(tab) {
  if (tab === activeTab) return;
  activeTab = tab;
  for (const name of ["incoming", "sent"]) {
    const on = name === tab;
    $(`tab-${name}`).setAttribute("aria-selected", on ? "true" : "false");
    $(`tab-${name}`).classList.toggle("active", on);
    $(`panel-${name}`).hidden = !on;
  }
  $("filter-state").disabled = tab !== "incoming";
  if (detail && detail.tab !== tab) closeDetail();
  const row = rowOf(tab, selected[tab]);
  if (row?.el?.isConnected) row.el.scrollIntoView({ block: "nearest" });
}

function setMuted(value) {
  muted = value;
  try {
    localStorage.setItem(MUTE_KEY, muted ? "1" : "0");
  } catch {
    /* storage unavailable */
  }
  const btn = $("mute");
  btn.setAttribute("aria-pressed", muted ? "true" : "false");
  btn.title = t(muted ? "mute.on" : "mute.off");
  $("mute-icon").textContent = "♪";
}

function applyFilters() {
  filters.kind = $("filter-kind").value;
  filters.severity = $("filter-severity").value;
  filters.state = $("filter-state").value;
  const raw = $("search").value.trim();
  filters.q = normalizeText(raw);
  // Numbers: digits only, without a national trunk "0" (so 0912… finds +84912…).
  filters.qDigits = /^[\d\s+().-]+$/.test(raw) ? digitsOf(raw).replace(/^0+/, "") : "";
  incomingView.invalidate();
  sentView.invalidate();
  searchRegistry();
}

function applyLanguage(lang) {
  setLang(lang);
  applyStatic(document);
  $("lang").value = getLang();
  $("tz").textContent = t("tz", { zone: zoneLabel() });
  setMuted(muted);
  onState(socket ? socket.state : "signed-out", socket);
  incomingView.invalidate();
  sentView.invalidate();
  detailRendered = null;
  if (detail?.tab === "registry") renderDetail();
  else renderDetailIfChanged();
  showRegistry();
  updateTitle();
}

function activeList() {
  return $(activeTab);
}

function moveSelection(delta) {
  const ul = activeList();
  const cur = rowOf(activeTab, selected[activeTab]);
  let next;
  if (!cur?.el?.isConnected) next = ul.firstElementChild;
  else next = delta > 0 ? cur.el.nextElementSibling : cur.el.previousElementSibling;
  if (!next) return;
  selectRow(activeTab, elRow.get(next));
  if (document.activeElement !== ul) ul.focus({ preventScroll: true });
}

function onKey(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  const target = e.target;
  const typing =
    target instanceof HTMLInputElement ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement ||
    target?.isContentEditable;
  if (e.key === "Escape") {
    if (target === $("search")) {
      $("search").blur();
      activeList().focus({ preventScroll: true });
    } else if (detail) {
      closeDetail();
      activeList().focus({ preventScroll: true });
    }
    return;
  }
  if (typing || !token || $("console-view").hidden) return;
  const onButton = target instanceof HTMLButtonElement || target instanceof HTMLAnchorElement;
  switch (e.key) {
    case "ArrowDown":
    case "j":
      e.preventDefault();
      moveSelection(1);
      break;
    case "ArrowUp":
    case "k":
      e.preventDefault();
      moveSelection(-1);
      break;
    case "Enter": {
      if (onButton) return; // let buttons do their own thing
      const row = rowOf(activeTab, selected[activeTab]);
      if (row) {
        e.preventDefault();
        selectRow(activeTab, row, { open: true });
      }
      break;
    }
    case "a":
      if (activeTab === "incoming") {
        e.preventDefault();
        acknowledge(rowOf("incoming", selected.incoming));
      }
      break;
    case "/":
      e.preventDefault();
      $("search").focus();
      $("search").select();
      break;
    case "m":
      e.preventDefault();
      setMuted(!muted);
      break;
    default:
  }
}

function onListClick(tab, e) {
  const li = e.target.closest("li.alert-row, li.sent-row");
  if (!li || e.target.closest("button, a")) return;
  const row = elRow.get(li);
  if (!row) return;
  selectRow(tab, row, { open: true, scroll: false });
  $(tab).focus({ preventScroll: true });
}

function init() {
  const langSelect = $("lang");
  for (const [code, name] of LANGUAGES)
    langSelect.append(h("option", { value: code, lang: code }, name));
  applyLanguage(getLang());

  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    unlockAudio();
    const value = $("token").value.trim();
    if (!value) {
      showSignin(t("signin.required"));
      return;
    }
    signIn(value);
  });
  $("signout").addEventListener("click", signOut);
  $("mute").addEventListener("click", () => setMuted(!muted));
  langSelect.addEventListener("change", () => applyLanguage(langSelect.value));
  $("tab-incoming").addEventListener("click", () => setTab("incoming"));
  $("tab-sent").addEventListener("click", () => setTab("sent"));
  let searchTimer = 0;
  $("search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(applyFilters, 120);
  });
  $("search").addEventListener("search", applyFilters);
  $("search-dob").addEventListener("change", applyFilters);
  for (const id of ["filter-kind", "filter-severity", "filter-state"])
    $(id).addEventListener("change", applyFilters);
  $("incoming").addEventListener("click", (e) => onListClick("incoming", e));
  $("sent").addEventListener("click", (e) => onListClick("sent", e));
  $("ack-button").addEventListener("click", () => {
    if (detail?.tab !== "incoming") return;
    acknowledge(rowOf("incoming", detail.key));
    $("incoming").focus({ preventScroll: true });
  });
  $("detail-close").addEventListener("click", () => {
    closeDetail();
    activeList().focus({ preventScroll: true });
  });
  document.addEventListener("keydown", onKey);
  // Audio may only start after a user gesture.
  document.addEventListener("pointerdown", unlockAudio, { capture: true });
  document.addEventListener("keydown", unlockAudio, { capture: true });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible" || !detail) return;
    const row = rowOf(detail.tab, detail.key);
    if (row) markSeen(row);
  });

  if (!restore()) {
    onState("signed-out", null);
    showSignin(null);
  }
}

// Read-only handles for tests and debugging.
window.hotline = Object.freeze({
  get cursor() {
    return store.cursor;
  },
  get seenEventIds() {
    return store.seen;
  },
  get socket() {
    return socket?.ws ?? null;
  },
  get client() {
    return socket;
  },
  get store() {
    return store;
  },
});

// The strings come first: nothing is shown before the officer's language can be.
await loadCatalogs();
init();
