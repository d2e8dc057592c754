// What draws the officer's attention: the sound, the page title, the screen reader's
// announcements and the notices. It reads the store; it changes nothing in it.

import { t } from "./i18n.js";
import { h } from "./dom.js";
import { beep } from "./sound.js";
import { MUTE_KEY, readLocal, writeLocal } from "./storage.js";

const $ = (id) => document.getElementById(id);

const BEEP_GAP_MS = 1500; // one sound for a burst of urgent alerts
const ASSERTIVE_GAP_MS = 2000; // an assertive announcement does not cut the previous one short
const NEW_BATCH_MS = 1500; // new (not urgent) alerts are announced together
const NOTICE_MS = 10_000;
const NOTICES_MAX = 4;

export class Attention {
  constructor(store) {
    this.store = store;
    this.muted = readLocal(MUTE_KEY) === "1";
    this.lastBeep = 0;
    this.lastAssertive = 0;
    this.pendingNew = { n: 0, text: "" };
    this.announceTimer = 0;
  }

  alarm(kind) {
    this.updateTitle();
    if (this.muted) return;
    const now = Date.now();
    if (now - this.lastBeep < BEEP_GAP_MS) return;
    this.lastBeep = now;
    beep(kind);
  }

  setMuted(value) {
    this.muted = value;
    writeLocal(MUTE_KEY, value ? "1" : "0");
    const btn = $("mute");
    btn.setAttribute("aria-pressed", value ? "true" : "false");
    btn.title = t(value ? "mute.on" : "mute.off");
    $("mute-icon").textContent = "♪";
  }

  updateTitle() {
    const n = this.store.unseenUrgentCount();
    const base = this.store.agency ? `${t("app.name")} — ${this.store.agency}` : t("app.name");
    document.title = n ? `(${n}) ${base}` : base;
    document.body.classList.toggle("has-urgent", n > 0);
  }

  announceNew(agency, title) {
    this.pendingNew.n++;
    this.pendingNew.text = t("announce.new", { agency, title });
    if (this.announceTimer) return;
    this.announceTimer = setTimeout(() => {
      this.announceTimer = 0;
      const { n, text } = this.pendingNew;
      this.announce(n === 1 ? text : t("announce.many", { n }), false);
      this.pendingNew = { n: 0, text: "" };
    }, NEW_BATCH_MS);
  }

  announce(text, urgent) {
    if (urgent && Date.now() - this.lastAssertive < ASSERTIVE_GAP_MS) urgent = false;
    if (urgent) this.lastAssertive = Date.now();
    const region = $(urgent ? "live-assertive" : "live-polite");
    region.textContent = "";
    // A new text node each time so screen readers announce repeats.
    requestAnimationFrame(() => {
      region.textContent = text;
    });
  }

  notice(text, level = "error") {
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
    while (box.children.length > NOTICES_MAX) box.firstElementChild.remove();
    setTimeout(() => item.remove(), NOTICE_MS);
  }
}
