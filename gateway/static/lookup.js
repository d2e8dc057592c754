// Search beyond the loaded events: the registry (GET /v1/lookup) answers for numbers,
// documents and persons the hotline knows and the officer may see, loaded here or not.

import { formatDateTime, t } from "./i18n.js";
import { agencyText, fill, h, isolate, pt, tlpBadge } from "./dom.js";

const NUMBERISH = /^[+\d\s().\-\u3000\uff10-\uff19\uff0b]+$/;
const DOCUMENTISH = /^[\p{L}\d\s./\\-]+$/u;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * What to ask the registry for the search text (and the date-of-birth field): a list of
 * query parameter sets, none when the text is not worth a lookup. Digits may be a phone
 * number or a document number, so both are asked; a name needs its date of birth.
 */
export function lookupQueries(text, dob) {
  const raw = (text || "").trim();
  if (!raw) return [];
  const digits = raw.replace(/\D/g, "");
  if (NUMBERISH.test(raw) && digits.length >= 6) {
    const out = [{ number: raw }];
    if (!raw.includes("+") && digits.length <= 20) out.push({ document: raw });
    return out;
  }
  const letters = (raw.match(/\p{L}/gu) || []).length;
  if (DOCUMENTISH.test(raw) && digits.length >= 4 && raw.length <= 24 && !/\s\S+\s/.test(raw)) {
    return [{ document: raw }];
  }
  if (letters >= 2 && dob && DATE.test(dob)) return [{ name: raw, date_of_birth: dob }];
  return [];
}

/**
 * Asks every query and merges the matches by case (a number and a document may both find
 * one). Resolves to {matches, failed}: failed is true when no query could be answered.
 */
export async function lookUp(token, queries, fetchImpl = fetch) {
  const byCase = new Map();
  let answered = 0;
  for (const q of queries) {
    let res;
    try {
      res = await fetchImpl(`/v1/lookup?${new URLSearchParams(q)}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
    } catch {
      continue;
    }
    if (res.status === 422) {
      answered += 1; // not that kind of key: nothing to find under it
      continue;
    }
    if (!res.ok) continue;
    answered += 1;
    const body = await res.json();
    for (const m of body.matches || [])
      if (!byCase.has(m.case_id)) byCase.set(m.case_id, { ...m, query: body.query });
  }
  return { matches: [...byCase.values()], failed: queries.length > 0 && answered === 0 };
}

/** The key a match was found under, as the registry normalized it. */
export function queryText(q) {
  if (!q) return "";
  if (q.kind === "number") return q.e164;
  if (q.kind === "document") return [q.number, q.country, q.type].filter(Boolean).join(" · ");
  return `${q.name} · ${q.date_of_birth}`;
}

function matchTitle(m) {
  return m.alerts[0]?.title || m.case_id;
}

/** The registry section above the lists: one button per case found. */
export function renderRegistry(section, result, { store, onOpen, pending }) {
  if (!result && !pending) {
    section.hidden = true;
    section.replaceChildren();
    return;
  }
  section.hidden = false;
  const heading = h("h2", { class: "registry-heading" }, t("registry.heading"));
  if (pending && !result) {
    fill(section, heading, h("p", { class: "muted" }, t("registry.searching")));
    return;
  }
  if (result.failed) {
    fill(section, heading, h("p", { class: "registry-error", role: "status" }, t("registry.error")));
    return;
  }
  if (!result.matches.length) {
    fill(section, heading, h("p", { class: "muted", role: "status" }, t("registry.none")));
    return;
  }
  fill(
    section,
    heading,
    h(
      "ul",
      { class: "registry-matches" },
      result.matches.map((m) =>
        h(
          "li",
          null,
          h(
            "button",
            {
              type: "button",
              class: "registry-match link",
              dataset: { caseId: m.case_id, kind: m.kind },
              onclick: () => onOpen(m),
            },
            h("span", { class: "kind" }, t(`kind.${m.kind}`)),
            " ",
            pt("span", { class: "registry-title" }, matchTitle(m)),
            " ",
            h(
              "span",
              { class: "muted small" },
              t("registry.summary", {
                n: m.reports,
                reporters: m.reporters.map((r) => isolate(agencyText(store, r))).join(", "),
              }),
            ),
          ),
        ),
      ),
    ),
  );
}

/** A registry match in the detail pane: the case as the officer may see it, and its alerts. */
export function renderMatchDetail(body, m, { store }) {
  const facts = [
    [t("registry.query"), pt("span", { class: "mono" }, queryText(m.query))],
    [t("registry.case"), h("span", { class: "mono" }, m.case_id)],
    [t("registry.state"), t(`registry.state.${m.state}`)],
    [t("registry.reporters"), m.reporters.map((r) => isolate(agencyText(store, r))).join(", ")],
    [t("registry.reports"), String(m.reports)],
    [t("registry.first"), formatDateTime(m.first_reported_at)],
    [t("registry.last"), formatDateTime(m.last_reported_at)],
  ];
  fill(
    body,
    h(
      "header",
      { class: "detail-header" },
      h("div", { class: "badges" }, h("span", { class: "kind" }, t(`kind.${m.kind}`))),
      pt("h2", { id: "detail-title" }, matchTitle(m)),
      h("p", { class: "muted small" }, t("registry.fromRegistry")),
    ),
    h(
      "section",
      { class: "detail-section" },
      h("h3", null, t("registry.caseHeading")),
      h("dl", { class: "kv" }, facts.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)])),
    ),
    h(
      "section",
      { class: "detail-section" },
      h("h3", null, t("registry.alerts")),
      m.alerts.length
        ? h(
            "ul",
            { class: "registry-alerts" },
            m.alerts.map((a) =>
              h(
                "li",
                { dataset: { alertId: a.alert_id } },
                a.tlp ? tlpBadge(a.tlp) : null,
                " ",
                pt("span", null, a.title),
                " ",
                h(
                  "span",
                  { class: "muted small" },
                  `${isolate(agencyText(store, a.sender))} · ${formatDateTime(a.received_at)}`,
                ),
                a.scam_type ? [" ", pt("span", { class: "chip small" }, a.scam_type)] : null,
              ),
            ),
          )
        : h("p", { class: "muted" }, t("registry.noAlerts")),
    ),
  );
}
