// The detail pane: an incoming case, or an alert we sent with its delivery per recipient.

import { formatDate, formatMoney, formatNumber, label, t } from "./i18n.js";
import {
  agencyFull,
  agencyText,
  fill,
  h,
  isExpired,
  pt,
  sevBadge,
  timeEl,
  tlpBadge,
  urgBadge,
} from "./dom.js";
import { receiptsList } from "./rows.js";
import { outcomeList } from "./store.js";


function dl(pairs) {
  const items = pairs.filter(([, v]) => v !== null && v !== undefined && v !== "" && !(Array.isArray(v) && !v.length));
  if (!items.length) return null;
  return h(
    "dl",
    { class: "kv" },
    items.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]),
  );
}

function section(titleText, ...content) {
  const body = content.flat().filter(Boolean);
  if (!body.length) return null;
  return h("section", { class: "detail-section" }, h("h3", null, titleText), body);
}

function chips(values, attrs) {
  if (!values?.length) return null;
  return h("ul", { class: "chips" }, values.map((v) => pt("li", attrs, v)));
}

function subjectSection(alert) {
  const b = alert.body || {};
  const s = b.subject || {};
  const lang = b.language || null;
  const orig = (v) => pt("span", { lang }, v);
  if (b.kind === "wanted_person") {
    const seen = s.last_seen
      ? [orig(s.last_seen.place), s.last_seen.at ? [" · ", timeEl(s.last_seen.at, false)] : null]
      : null;
    return section(
      t("detail.subject"),
      dl([
        [t("field.full_name"), orig(s.full_name)],
        [t("field.aliases"), s.aliases?.length ? chips(s.aliases, { lang }) : null],
        [t("field.date_of_birth"), formatDate(s.date_of_birth)],
        [t("field.nationality"), s.nationality],
        [
          t("detail.documents"),
          s.documents?.length
            ? h(
                "ul",
                { class: "chips" },
                s.documents.map((d) =>
                  h("li", { class: "mono" }, pt("span", null, d.type), ` ${d.country} `, pt("span", null, d.number)),
                ),
              )
            : null,
        ],
        [t("field.offences"), s.offences?.length ? chips(s.offences.map((o) => o.replace(/_/g, " "))) : null],
        [t("field.warrant_ref"), orig(s.warrant_ref)],
        [t("field.interpol_notice"), orig(s.interpol_notice)],
        [t("field.last_seen"), seen ? h("span", null, seen) : null],
      ]),
    );
  }
  if (b.kind === "fraud_pattern") {
    const ind = s.indicators || {};
    return section(
      t("detail.subject"),
      dl([
        [t("field.scheme"), label("scheme", s.scheme)],
        [t("field.modus_operandi"), pt("p", { class: "prose", lang }, s.modus_operandi)],
        [t("field.losses"), s.losses ? formatMoney(s.losses.amount, s.losses.currency) : null],
        [t("field.victims"), s.victims !== undefined && s.victims !== null ? formatNumber(s.victims) : null],
        ...Object.entries(ind)
          .filter(([, v]) => v?.length)
          .map(([k, v]) => [label("ind", k), chips(v, { class: "mono" })]),
      ]),
    );
  }
  if (b.kind === "scam_number") {
    return section(
      t("detail.subject"),
      dl([
        [t("field.number"), pt("span", { class: "mono big" }, s.number)],
        [t("field.scam_type"), s.scam_type ? pt("span", null, s.scam_type.replace(/_/g, " ")) : null],
        [t("field.first_seen"), formatDate(s.first_seen)],
        [t("field.last_seen"), formatDate(s.last_seen)],
        [t("field.reports"), s.reports !== undefined && s.reports !== null ? formatNumber(s.reports) : null],
      ]),
    );
  }
  return null;
}

function enrichmentSections(alert) {
  const e = alert.enrichment || {};
  const lang = alert.body?.language || null;
  const names = e.names?.length
    ? section(
        t("detail.names"),
        h(
          "ul",
          { class: "names" },
          e.names.map((n) =>
            h(
              "li",
              null,
              pt("span", { class: "name-orig", lang }, n.original),
              n.folded && n.folded !== n.original
                ? [h("span", { class: "arrow", "aria-hidden": "true" }, " → "), pt("span", { class: "name-folded", lang: "und-Latn" }, n.folded)]
                : null,
            ),
          ),
        ),
      )
    : null;
  const phones = e.phones?.length
    ? section(
        t("detail.phones"),
        h(
          "table",
          { class: "phones" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              h("th", { scope: "col" }, t("field.number")),
              h("th", { scope: "col" }, t("phone.e164")),
              h("th", { scope: "col" }, t("phone.country")),
              h("th", { scope: "col" }, t("phone.line_type")),
              h("th", { scope: "col" }, t("phone.carrier")),
            ),
          ),
          h(
            "tbody",
            null,
            e.phones.map((p) =>
              h(
                "tr",
                null,
                pt("td", { class: "mono" }, p.raw),
                pt("td", { class: "mono strong" }, p.e164),
                h("td", null, p.country || "—"),
                h("td", null, label("line", p.line_type || "unknown")),
                pt("td", null, p.carrier || "—"),
              ),
            ),
          ),
        ),
      )
    : null;
  const docs = e.documents?.length ? section(t("detail.documents"), chips(e.documents, { class: "mono" })) : null;
  const indEntries = Object.entries(e.indicators || {}).filter(([, v]) => v?.length);
  const indicators = indEntries.length
    ? section(
        t("detail.indicators"),
        dl(indEntries.map(([k, v]) => [label("ind", k), chips(v, { class: "mono" })])),
      )
    : null;
  return [names, phones, docs, indicators];
}

function alertHeader(store, alert, extra) {
  const b = alert.body || {};
  return h(
    "header",
    { class: "detail-header" },
    h(
      "div",
      { class: "badges" },
      sevBadge(b.severity),
      urgBadge(b.urgency),
      tlpBadge(b.tlp),
      h("span", { class: "kind" }, label("kind", b.kind)),
      b.msg_type && b.msg_type !== "alert" ? h("span", { class: "msgtype" }, label("msg_type", b.msg_type)) : null,
      alert.lane === "bulk" ? h("span", { class: "lane" }, t("lane.bulk")) : null,
      isExpired(alert) ? h("span", { class: "flag flag-expired" }, t("detail.expired")) : null,
      extra,
    ),
    pt("h2", { id: "detail-title", lang: b.language || null }, b.title || alert.alert_id),
    pt("p", { class: "description prose", lang: b.language || null }, b.description),
    dl([
      [t("detail.from"), agencyFull(store, alert.sender)],
      [t("detail.received"), timeEl(alert.received_at, false)],
      [t("detail.sourceRef"), pt("span", { class: "mono" }, b.source_ref)],
      [t("detail.references"), pt("span", { class: "mono" }, b.references)],
      [t("detail.expires"), b.expires_at ? timeEl(b.expires_at, false) : null],
      [
        t("detail.recipients"),
        b.recipients?.length
          ? h("span", null, b.recipients.map((id, i) => [i ? ", " : "", pt("span", null, agencyText(store, id))]))
          : t("detail.allPartners"),
      ],
      [t("detail.alertId"), h("span", { class: "mono small" }, alert.alert_id)],
    ]),
  );
}

function timelineSection(store, entries) {
  if (!entries.length) return null;
  return section(
    t("detail.timeline"),
    h(
      "ol",
      { class: "timeline" },
      entries.map((e) =>
        h(
          "li",
          { class: `tl tl-${e.event}`, dataset: { event: e.event, agency: e.agency || "" } },
          timeEl(e.at, false),
          h("span", { class: `event event-${e.event}` }, label("event", e.event)),
          pt("span", { class: "tl-agency" }, agencyText(store, e.agency)),
          pt("span", { class: "tl-title", lang: e.language || null }, e.title),
          pt("span", { class: "tl-reason" }, e.reason),
          e.outcome ? h("span", { class: "tl-outcome" }, label("outcomeKind", e.outcome)) : null,
        ),
      ),
    ),
  );
}

/** Outcome reports: what came of the alert, as each recipient told its sender. */
function outcomesSection(store, reports, titleText) {
  if (!reports.length) return null;
  return section(
    titleText,
    h(
      "ul",
      { class: "outcomes" },
      reports.map((o) =>
        h(
          "li",
          { class: `outcome outcome-${o.kind}`, dataset: { kind: o.kind, agency: o.agency, outcomeId: o.outcome_id } },
          timeEl(o.at, false),
          h("span", { class: "outcome-kind" }, label("outcomeKind", o.kind)),
          pt("span", { class: "outcome-agency" }, agencyText(store, o.agency)),
          pt("p", { class: "outcome-note prose" }, o.note),
        ),
      ),
    ),
  );
}

function caseSection(store, row, onOpenCase) {
  const c = row.case;
  if (!c && !row.caseId) return null;
  const related = c?.related || [];
  return section(
    t("detail.case"),
    dl([
      [t("detail.case"), h("span", { class: "mono small" }, c?.case_id || row.caseId)],
      [t("detail.caseState"), c ? label("caseState", c.state) : null],
      [t("detail.opened"), c?.opened_at ? timeEl(c.opened_at, false) : null],
      [
        t("detail.reporters"),
        c?.reporters?.length
          ? h("ul", { class: "chips" }, c.reporters.map((id) => pt("li", null, agencyText(store, id))))
          : null,
      ],
      [
        t("detail.related"),
        related.length
          ? h(
              "ul",
              { class: "related" },
              related.map((id) =>
                h(
                  "li",
                  null,
                  store.cases.has(id)
                    ? h(
                        "button",
                        { type: "button", class: "link", dataset: { caseId: id }, onclick: () => onOpenCase(id) },
                        pt("span", null, store.cases.get(id).alert.body?.title || id),
                      )
                    : h("span", { class: "mono small muted" }, `${id} (${t("detail.relatedMissing")})`),
                ),
              ),
            )
          : null,
      ],
    ]),
  );
}

/** Detail of an incoming case row. */
export function renderIncomingDetail(store, row, body, { onOpenCase }) {
  const a = row.alert;
  const escalated = row.escalated.has(a.alert_id) && store.rowState(row) === "new";
  fill(
    body,
    ...[
      alertHeader(
        store,
        a,
        escalated ? h("span", { class: "flag flag-escalated" }, `⚠ ${t("badge.escalated")}`) : null,
      ),
      subjectSection(a),
      ...enrichmentSections(a),
      outcomesSection(store, store.rowOutcomes(row), t("detail.ourOutcomes")),
      caseSection(store, row, onOpenCase),
      timelineSection(store, row.timeline),
    ].filter(Boolean),
  );
}

/** Detail of an alert we sent: its delivery per recipient and any rejection. */
export function renderSentDetail(store, row, body, { onRefresh }) {
  const a = row.alert;
  const status = store.sentStatus(row);
  fill(
    body,
    ...[
      alertHeader(store, a, h("span", { class: `status status-${status}` }, t(`sent.status.${status}`))),
      row.rejected
        ? section(t("detail.rejected"), pt("p", { class: "reject-reason" }, row.reason || "—"))
        : null,
      section(
        t("detail.receipts"),
        receiptsList(store, row),
        h("button", { type: "button", class: "secondary", id: "refresh-status", onclick: onRefresh }, t("detail.refresh")),
      ),
      outcomesSection(store, outcomeList(row.outcomes), t("detail.outcomes")),
      subjectSection(a),
      ...enrichmentSections(a),
      row.case ? caseSection(store, { case: row.case, caseId: row.case.case_id }, () => {}) : null,
      timelineSection(store, row.timeline),
    ].filter(Boolean),
  );
}
