// The officer's session: the partner key signed in, the socket it opened, the connection pill,
// and what survives a reload (the key and cursor, a snapshot of recent events).

import { t } from "./i18n.js";
import { HotlineSocket, consoleUrl } from "./socket.js";
import { SESSION_KEY, SNAPSHOT_KEY, readSession, writeSession } from "./storage.js";

const $ = (id) => document.getElementById(id);

const SAVE_DELAY_MS = 300; // the cursor, after a burst of events
const SNAPSHOT_EVERY_MS = 5000;
const SNAPSHOT_MIN_EVENTS = 50; // below that, no snapshot rather than a useless one

export class Session {
  /**
   * @param {object} hooks
   *   onMessage(msg): a server message;
   *   reset(): everything shown is dropped (another key, or none);
   *   restored(events, digests): a reload's snapshot, to show again;
   *   signedIn(), signedOut(error): which view to show.
   */
  constructor(store, attention, hooks) {
    this.store = store;
    this.attention = attention;
    this.hooks = hooks;
    this.token = null;
    this.socket = null;
    this.saveTimer = 0;
    this.snapshotDirty = false;
    this.countdownTimer = 0;
    this.lastAnnouncedState = null;
  }

  start() {
    setInterval(() => this.saveSnapshot(), SNAPSHOT_EVERY_MS);
    window.addEventListener("pagehide", () => {
      this.save();
      this.snapshotDirty = true;
      this.saveSnapshot();
    });
    if (!this.restore()) {
      this.onState("signed-out", null);
      this.hooks.signedOut(null);
    }
  }

  get state() {
    return this.socket ? this.socket.state : "signed-out";
  }

  send(msg) {
    return this.socket?.send(msg) ?? false;
  }

  saveSoon() {
    this.snapshotDirty = true;
    if (!this.saveTimer) this.saveTimer = setTimeout(() => this.save(), SAVE_DELAY_MS);
  }

  save() {
    clearTimeout(this.saveTimer);
    this.saveTimer = 0;
    if (this.token) writeSession(SESSION_KEY, { token: this.token, cursor: this.store.cursor });
  }

  saveSnapshot() {
    const store = this.store;
    if (!this.token || !this.snapshotDirty || !store.agency) return;
    const snap = store.snapshot();
    snap.agencyName = store.agencyName;
    snap.agencies = [...store.agencies].map(([id, name]) => ({ id, name }));
    // Shrink until it fits the storage quota.
    while (!writeSession(SNAPSHOT_KEY, snap)) {
      if (snap.events.length < SNAPSHOT_MIN_EVENTS) {
        writeSession(SNAPSHOT_KEY, null);
        break;
      }
      snap.events = snap.events.slice(Math.floor(snap.events.length / 2));
    }
    this.snapshotDirty = false;
  }

  /** The welcome named another agency than the restored list's: start over without it. */
  otherAgency() {
    this.hooks.reset();
    writeSession(SNAPSHOT_KEY, null);
    this.socket?.stop();
    this.openSocket();
  }

  signIn(token) {
    this.socket?.stop();
    this.hooks.reset();
    writeSession(SNAPSHOT_KEY, null);
    this.token = token;
    this.save();
    this.hooks.signedIn();
    this.openSocket();
  }

  signOut(error = null) {
    this.socket?.stop();
    this.socket = null;
    this.token = null;
    writeSession(SESSION_KEY, null);
    writeSession(SNAPSHOT_KEY, null);
    this.hooks.reset();
    this.onState("signed-out", null);
    this.hooks.signedOut(error);
  }

  /** After a reload: the list from the snapshot, then resume from its cursor. */
  restore() {
    const session = readSession(SESSION_KEY);
    if (!session?.token) return false;
    this.token = session.token;
    const store = this.store;
    const snap = readSession(SNAPSHOT_KEY);
    if (snap?.agency && Array.isArray(snap.events)) {
      store.agency = snap.agency;
      store.agencyName = snap.agencyName || null;
      store.agencies = new Map((snap.agencies || []).map((a) => [a.id, a.name]));
      this.hooks.restored(snap.events, Array.isArray(snap.digests) ? snap.digests : []);
      store.cursor = typeof snap.cursor === "number" ? snap.cursor : store.cursor;
    } else {
      store.cursor = typeof session.cursor === "number" ? session.cursor : null;
    }
    this.hooks.signedIn();
    this.openSocket();
    return true;
  }

  openSocket() {
    this.socket = new HotlineSocket({
      url: consoleUrl(),
      token: this.token,
      getCursor: () => this.store.cursor,
      onMessage: (msg) => this.hooks.onMessage(msg),
      onState: (state, sock) => this.onState(state, sock),
      onAuthFailed: () => this.signOut(t("signin.failed")),
    });
    this.socket.start();
  }

  /** The connection pill, and what a lost connection cancels (acknowledgements in flight). */
  onState(state, sock = this.socket) {
    const pill = $("conn");
    pill.dataset.state = state;
    clearInterval(this.countdownTimer);
    this.countdownTimer = 0;
    const paint = () => {
      let text = t(`conn.${state}`);
      if (state === "reconnecting") {
        const s = sock?.retryAt ? Math.max(0, Math.ceil((sock.retryAt - Date.now()) / 1000)) : 0;
        text = s > 0 ? t("conn.reconnecting", { s }) : t("conn.reconnectingNow");
      }
      $("conn-text").textContent = text;
    };
    paint();
    if (state === "reconnecting") this.countdownTimer = setInterval(paint, 500);
    if (state !== "connected" && this.store.pendingAcks.size) this.hooks.acksLost();
    if (state !== this.lastAnnouncedState && state !== "connecting") {
      this.lastAnnouncedState = state;
      if (state === "connected" || state === "offline") this.attention.announce(t(`conn.${state}`), false);
    }
  }
}
