// Shared lists (list imports) as digests: one line per list, its counts growing live, instead
// of one event per number. The numbers that touch this agency's work (hits) come as events
// of their own and sit in the list below like any alert.

import { formatShort, t } from "./i18n.js";
import { agencyText, fill, h, isolate, pt } from "./dom.js";

const SHOWN = 5; // lists shown; the rest are counted

/** The digests section above the lists: the latest shared lists, hidden when there are none. */
export function renderDigests(section, store) {
  const lists = store.digestList();
  if (!lists.length) {
    section.hidden = true;
    section.replaceChildren();
    return;
  }
  section.hidden = false;
  const more = lists.length - SHOWN;
  fill(
    section,
    h("h2", { class: "digests-heading" }, t("digest.heading")),
    h(
      "ul",
      { class: "digests-list" },
      lists.slice(0, SHOWN).map((d) => digestLine(store, d)),
    ),
    more > 0 ? h("p", { class: "muted small" }, t("digest.more", { n: more })) : null,
  );
}

function digestLine(store, d) {
  const n = store.digestTotals(d);
  return h(
    "li",
    { class: "digest", dataset: { importId: d.importId, sender: d.sender, done: String(n.done) } },
    h("span", { class: `digest-state ${n.done ? "done" : "running"}` }, t(n.done ? "digest.done" : "digest.running")),
    " ",
    pt("span", { class: "digest-name mono" }, d.importId),
    " ",
    h("span", { class: "muted" }, t("digest.from", { sender: isolate(agencyText(store, d.sender)) })),
    h(
      "span",
      { class: "digest-counts" },
      h("span", { class: "digest-numbers" }, t("digest.numbers", { n: n.numbers })),
      " · ",
      h("span", { class: "digest-new" }, t("digest.new", { n: n.new })),
      " · ",
      h("span", { class: "digest-known" }, t("digest.known", { n: n.known })),
      " · ",
      h(
        "strong",
        { class: `digest-hits${n.hits ? " has-hits" : ""}` },
        t("digest.hits", { n: n.hits }),
      ),
    ),
    n.lastAt ? h("span", { class: "muted small" }, ` ${formatShort(new Date(n.lastAt).toISOString())}`) : null,
  );
}
