// The duty officer's console: wires the socket, the store and the views together. The store
// (store.js) alone folds what the server says into rows; the modules here show them:
// session.js (the key, the socket, reloads), list.js (the lists, filters, tabs, selection),
// detail.js (the open row, the registry search), attention.js (sound, title, announcements),
// keys.js (the keyboard).

import { LANGUAGES, applyStatic, getLang, label, loadCatalogs, setLang, t, zoneLabel } from "./i18n.js";
import { agencyText, fill, h, isolate, pt } from "./dom.js";
import { Attention } from "./attention.js";
import { Detail } from "./detail.js";
import { renderDigests } from "./digests.js";
import { keyHandler } from "./keys.js";
import { Lists } from "./list.js";
import { Session } from "./session.js";
import { unlock as unlockAudio } from "./sound.js";
import { Store } from "./store.js";

const $ = (id) => document.getElementById(id);

const SEARCH_DELAY_MS = 120; // the lists filter after typing pauses, not per key
const FLASH_CLASSES = ["flash-a", "flash-b"]; // alternate, so a second flash restarts

const store = new Store();
const attention = new Attention(store);
let replaying = false; // the catch-up after (re)connecting: no sound or flash per event

const lists = new Lists(store, {
  onSelect: (tab, row, how) => detail.selected(tab, row, how),
  onTab: (tab) => detail.tabShown(tab),
  onFlushed: () => detail.renderIfChanged(),
});
const detail = new Detail(store, lists, attention, () => session.token);
const session = new Session(store, attention, {
  onMessage,
  reset: resetData,
  restored(events, digests) {
    for (const ev of events) {
      const res = store.apply(ev);
      if (res) lists.show(res);
    }
    for (const d of digests) store.applyDigest(d);
    showDigests();
  },
  signedIn() {
    showAgency();
    showConsole();
    attention.updateTitle();
  },
  signedOut(error) {
    if (!error) $("token").value = "";
    showSignin(error);
  },
  acksLost: () => clearPendingAcks(null),
});

// --- acknowledgements ---------------------------------------------------------------------------

function acknowledge(row) {
  if (!row) return;
  const id = row.alert.alert_id;
  if (store.rowState(row) === "acknowledged" || store.pendingAcks.has(id)) return;
  const sent = session.send({ type: "ack", alert_id: id, case_id: row.caseId ?? row.alert.case_id ?? null });
  if (!sent) {
    attention.notice(t("ack.notConnected"), "warn");
    return;
  }
  store.pendingAcks.set(id, Date.now());
  row.unseenUrgent = false;
  lists.touch("incoming", row);
  attention.updateTitle();
}

function clearPendingAcks(alertId) {
  const ids = alertId ? [alertId] : [...store.pendingAcks.keys()];
  for (const id of ids) {
    if (!store.pendingAcks.delete(id)) continue;
    lists.touch("incoming", store.rowOfAlert(id));
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
      lists.touch("incoming", row);
      attention.updateTitle();
      return;
    }
    case "error": {
      const said = msg.detail ? isolate(msg.detail) : "";
      const detailText = [said, msg.code ? `(${msg.code})` : ""].filter(Boolean).join(" ");
      if (store.pendingAcks.size) {
        clearPendingAcks(store.pendingAcks.has(msg.alert_id) ? msg.alert_id : null);
        attention.notice(t("ack.failed", { detail: detailText }), "error");
      } else {
        attention.notice(t("notice.error", { detail: detailText }), "error");
      }
      return;
    }
    default:
      return; // unknown messages are ignored
  }
}

function onWelcome(msg) {
  if (store.agency && msg.agency && store.agency !== msg.agency) {
    session.otherAgency(); // the restored list belonged to another agency
    return;
  }
  store.agency = msg.agency || store.agency;
  store.agencyName = msg.agency_name || store.agencyName;
  store.agencies = new Map((msg.agencies || []).map((a) => [a.id, a.name]));
  if (store.agency && !store.agencies.has(store.agency) && store.agencyName)
    store.agencies.set(store.agency, store.agencyName);
  replaying = true;
  showAgency();
  lists.invalidate();
  attention.updateTitle();
}

function onReplayDone(msg) {
  replaying = false;
  store.noteCursor(msg.cursor);
  session.save();
  attention.announce(t("announce.caughtUp", { n: store.unackedCount() }), false);
  if (store.unseenUrgentCount()) attention.alarm("urgent");
  attention.updateTitle();
}

// A shared list's counts: at most a few a second however large the list, redrawn in place.
function onDigest(msg) {
  if (!store.applyDigest(msg)) return;
  session.saveSoon();
  showDigests();
}

function showDigests() {
  renderDigests($("digests"), store);
}

function onEvent(ev) {
  const res = store.apply(ev);
  session.saveSoon();
  if (!res) return;
  lists.show(res);
  if (replaying) return;
  const { row } = res;
  if (res.tab === "sent" && ev.event === "outcome" && ev.outcome) {
    // What came of one of our alerts: told, not alarmed (nothing is waiting on the officer).
    const agency = isolate(agencyText(store, ev.outcome.agency));
    const title = isolate(ev.alert.body?.title || ev.alert_id);
    const text = t("announce.outcome", { agency, title, kind: label("outcomeKind", ev.outcome.kind) });
    attention.notice(text, "info"); // a status notice: screen readers say it once
  }
  if (res.tab === "incoming" && ev.event !== "acknowledged" && ev.event !== "outcome") {
    // Flash the row, except for quiet bulk imports (thousands of scam numbers).
    if (res.urgent || ev.alert.lane !== "bulk") {
      const cls = FLASH_CLASSES[row.flash?.cls === FLASH_CLASSES[0] ? 1 : 0];
      row.flash = { at: Date.now(), cls };
    }
    // Isolated inside the sentence, so a right-to-left title cannot reorder its words.
    const agency = isolate(agencyText(store, ev.alert.sender));
    const title = isolate(ev.alert.body?.title || ev.alert_id);
    if (res.urgent) {
      attention.alarm(res.escalated ? "escalated" : "urgent");
      attention.announce(
        res.escalated ? t("announce.escalated", { title }) : t("announce.urgent", { agency, title }),
        true,
      );
    } else {
      attention.announceNew(agency, title);
    }
    if (detail.incomingRow() === row) detail.markSeen(row);
  }
  if (res.urgent) attention.updateTitle();
}

// --- views beside the lists ---------------------------------------------------------------------

function resetData() {
  store.reset();
  lists.clear();
  replaying = false;
  detail.clearRegistry();
  showDigests();
  detail.close();
  showAgency();
  attention.updateTitle();
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

function applyLanguage(lang) {
  setLang(lang);
  applyStatic(document);
  $("lang").value = getLang();
  $("tz").textContent = t("tz", { zone: zoneLabel() });
  attention.setMuted(attention.muted);
  session.onState(session.state);
  lists.invalidate();
  detail.relabel();
  attention.updateTitle();
}

function applyFilters() {
  lists.applyFilters();
  detail.search();
}

// --- controls -----------------------------------------------------------------------------------

function init() {
  const langSelect = $("lang");
  for (const [code, name] of LANGUAGES) langSelect.append(h("option", { value: code, lang: code }, name));
  applyLanguage(getLang());

  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    unlockAudio();
    const value = $("token").value.trim();
    if (!value) {
      showSignin(t("signin.required"));
      return;
    }
    session.signIn(value);
    $("incoming").focus({ preventScroll: true });
  });
  $("signout").addEventListener("click", () => session.signOut());
  $("mute").addEventListener("click", () => attention.setMuted(!attention.muted));
  langSelect.addEventListener("change", () => applyLanguage(langSelect.value));
  $("tab-incoming").addEventListener("click", () => lists.setTab("incoming"));
  $("tab-sent").addEventListener("click", () => lists.setTab("sent"));
  let searchTimer = 0;
  $("search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(applyFilters, SEARCH_DELAY_MS);
  });
  $("search").addEventListener("search", applyFilters);
  $("search-dob").addEventListener("change", applyFilters);
  for (const id of ["filter-kind", "filter-severity", "filter-state"]) $(id).addEventListener("change", applyFilters);
  $("incoming").addEventListener("click", (e) => lists.click("incoming", e));
  $("sent").addEventListener("click", (e) => lists.click("sent", e));
  $("ack-button").addEventListener("click", () => {
    const row = detail.incomingRow();
    if (!row) return;
    acknowledge(row);
    $("incoming").focus({ preventScroll: true });
  });
  $("outcome-form").addEventListener("submit", (e) => {
    e.preventDefault();
    detail.reportOutcome();
  });
  $("detail-close").addEventListener("click", () => {
    detail.close();
    lists.activeList().focus({ preventScroll: true });
  });
  document.addEventListener(
    "keydown",
    keyHandler({ lists, detail, attention, acknowledge, signedIn: () => Boolean(session.token) }),
  );
  // Audio may only start after a user gesture.
  document.addEventListener("pointerdown", unlockAudio, { capture: true });
  document.addEventListener("keydown", unlockAudio, { capture: true });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") detail.visible();
  });
  lists.start();
  session.start();
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
    return session.socket?.ws ?? null;
  },
  get client() {
    return session.socket;
  },
  get store() {
    return store;
  },
});

// The strings come first: nothing is shown before the officer's language can be.
await loadCatalogs();
init();
