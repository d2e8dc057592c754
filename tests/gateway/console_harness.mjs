// Renders console rows and details with gateway/static/rows.js and pane.js under Node, on a
// minimal DOM (just what they touch), and prints the element trees as JSON for the Python tests.
//   node console_harness.mjs '<{"agency", "agencies", "events", "lang", "counts"}>'

import { readFileSync } from "node:fs";

class FakeNode {}

class FakeText extends FakeNode {
  constructor(text) {
    super();
    this.data = String(text);
  }
}

class FakeElement extends FakeNode {
  constructor(tag) {
    super();
    this.tag = tag.toLowerCase();
    this.attrs = {};
    this.dataset = {};
    this.className = "";
    this.id = "";
    this.childNodes = [];
    const el = this;
    this.classList = {
      _list: () => el.className.split(/\s+/).filter(Boolean),
      add: (...cs) => (el.className = [...new Set([...el.classList._list(), ...cs])].join(" ")),
      remove: (...cs) => (el.className = el.classList._list().filter((c) => !cs.includes(c)).join(" ")),
      contains: (c) => el.classList._list().includes(c),
      toggle: (c, on) => ((on ?? !el.classList.contains(c)) ? el.classList.add(c) : el.classList.remove(c)),
    };
  }
  setAttribute(k, v) {
    this.attrs[k] = String(v);
  }
  getAttribute(k) {
    return this.attrs[k] ?? null;
  }
  removeAttribute(k) {
    delete this.attrs[k];
  }
  addEventListener() {}
  append(...children) {
    for (const c of children) this.childNodes.push(c instanceof FakeNode ? c : new FakeText(c));
  }
  replaceChildren(...children) {
    this.childNodes = [];
    this.append(...children);
  }
}

globalThis.Node = FakeNode;
globalThis.document = {
  createElement: (tag) => new FakeElement(tag),
  createTextNode: (text) => new FakeText(text),
  documentElement: {},
};
if (!globalThis.navigator) globalThis.navigator = { languages: ["en"] };

function dump(node) {
  if (node instanceof FakeText) return { text: node.data };
  return {
    tag: node.tag,
    attrs: { ...node.attrs, ...(node.className ? { class: node.className } : {}) },
    data: { ...node.dataset },
    children: node.childNodes.map(dump),
  };
}

const input = JSON.parse(process.argv[2]);
const here = new URL("../../gateway/static/", import.meta.url);
const { Store } = await import(new URL("store.js", here));
const render = {
  ...(await import(new URL("rows.js", here))),
  ...(await import(new URL("pane.js", here))),
};
const i18n = await import(new URL("i18n.js", here));
// The page fetches gateway/static/i18n/<lang>.json at start-up; here they are read from disk.
i18n.setCatalogs(
  Object.fromEntries(
    i18n.LANGUAGES.map(([code]) => [
      code,
      JSON.parse(readFileSync(new URL(`i18n/${code}.json`, here), "utf8")),
    ]),
  ),
);
if (input.lang) i18n.setLang(input.lang);

const store = new Store();
store.agency = input.agency;
store.agencies = new Map((input.agencies || []).map((a) => [a.id, a.name]));
for (const ev of input.events) store.apply(ev);

const out = { incoming: [], sent: [] };
for (const row of store.cases.values()) {
  const li = document.createElement("li");
  render.renderIncomingRow(store, row, li);
  const detail = document.createElement("div");
  render.renderIncomingDetail(store, row, detail, { onOpenCase: () => {} });
  out.incoming.push({ row: dump(li), detail: dump(detail) });
}
for (const row of store.sent.values()) {
  const li = document.createElement("li");
  render.renderSentRow(store, row, li);
  const detail = document.createElement("div");
  render.renderSentDetail(store, row, detail, { onRefresh: () => {} });
  out.sent.push({ row: dump(li), detail: dump(detail) });
}
out.expired = Object.fromEntries(
  i18n.LANGUAGES.map(([code]) => {
    i18n.setLang(code);
    return [code, [i18n.t("badge.expired"), i18n.t("detail.expired")]];
  }),
);
// Count-dependent strings as each language words them: { lang: { key: { n: text } } }.
out.counts = Object.fromEntries(
  i18n.LANGUAGES.map(([code]) => {
    i18n.setLang(code);
    const byKey = {};
    for (const [key, ns] of Object.entries(input.counts || {}))
      byKey[key] = Object.fromEntries(ns.map((n) => [n, i18n.t(key, { n })]));
    return [code, byKey];
  }),
);
process.stdout.write(JSON.stringify(out));
