// All user-visible strings of the console, and locale-aware formatting of dates and numbers.
// The strings are one JSON catalog per language (i18n/<lang>.json), fetched at start-up
// (`loadCatalogs`) so translators edit data, not code. Enum labels (kinds, severities, events,
// …) are keys like "kind.wanted_person". A count-dependent string is an object of plural forms
// keyed by the Intl.PluralRules categories of its language ("one", "few", "many", "other") and
// is given its count as `n`.

export const LANGUAGES = [
  ["en", "English"],
  ["vi", "Tiếng Việt"],
  ["ru", "Русский"],
  ["zh", "中文"],
];

// Locale used for dates, numbers and plural rules: en-GB for a 24-hour clock.
const LOCALES = { en: "en-GB", vi: "vi-VN", ru: "ru-RU", zh: "zh-CN" };
const LANG_KEY = "hotline.lang";

// Filled by loadCatalogs (or setCatalogs); English is the fallback for a missing key.
let STRINGS = {};
const empty = {};
let plurals = {}; // Intl.PluralRules by language
let lang = "en";
let formatters = {};

/** Use these catalogs ({ en: {...}, vi: {...}, … }): for tests, and by loadCatalogs. */
export function setCatalogs(catalogs) {
  STRINGS = { ...catalogs };
  // Only now is it known which languages exist: the saved or the browser's choice, else English.
  lang = initialLanguage();
}

/** Fetch every language's catalog (same origin, so `connect-src 'self'` allows it) before the
 * page renders: switching language later needs no network. A catalog that fails to load is
 * left out, and its language falls back to English. */
export async function loadCatalogs(base = new URL("./i18n/", import.meta.url)) {
  const loaded = await Promise.all(
    LANGUAGES.map(async ([code]) => {
      try {
        const res = await fetch(new URL(`${code}.json`, base));
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return [code, await res.json()];
      } catch (err) {
        console.error(`console strings for ${code} did not load:`, err);
        return null;
      }
    }),
  );
  setCatalogs(Object.fromEntries(loaded.filter(Boolean)));
}

function initialLanguage() {
  let saved = null;
  try {
    saved = localStorage.getItem(LANG_KEY);
  } catch {
    /* storage unavailable */
  }
  if (saved && STRINGS[saved]) return saved;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (STRINGS[base]) return base;
  }
  return "en";
}

export function getLang() {
  return lang;
}

export function setLang(next) {
  if (!STRINGS[next]) return;
  lang = next;
  formatters = {};
  try {
    localStorage.setItem(LANG_KEY, next);
  } catch {
    /* storage unavailable */
  }
  document.documentElement.lang = next;
}

function pluralForm(forms, count) {
  if (!plurals[lang]) plurals[lang] = new Intl.PluralRules(LOCALES[lang]);
  return forms[plurals[lang].select(Number(count))] ?? forms.other;
}

function entry(key) {
  return (STRINGS[lang] ?? empty)[key] ?? (STRINGS.en ?? empty)[key];
}

/** Translate `key`, filling `{name}` placeholders from `vars` (a number `n`
 * formatted for the language); a plural entry picks its form by
 * `vars.n` under the language's plural rules. Unknown keys fall back to English, then the key. */
export function t(key, vars) {
  let s = entry(key) ?? key;
  if (typeof s === "object") s = pluralForm(s, vars?.n ?? 0) ?? key;
  // A count reads in the viewer's digits and grouping: "1,000,000" in English, "1.000.000" in Vietnamese.
  const text = (name) => (name === "n" && typeof vars.n === "number" ? formatNumber(vars.n) : String(vars[name]));
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? text(name) : m));
  return s;
}

/** Label of an enum value (`group.value`), or the raw value if there is no translation. */
export function label(group, value) {
  if (value === null || value === undefined || value === "") return "";
  const key = `${group}.${value}`;
  const s = entry(key);
  return typeof s === "string" ? s : String(value).replace(/_/g, " ");
}

/** Fill the static strings of the page: data-i18n (text), data-i18n-placeholder / -title / -aria-label. */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]"))
    el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-aria-label]"))
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
}

// --- formatting ---------------------------------------------------------------------------------

function fmt(name, options) {
  if (!formatters[name]) formatters[name] = new Intl.DateTimeFormat(LOCALES[lang], options);
  return formatters[name];
}

export function timeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** "Asia/Ho_Chi_Minh (GMT+7)" */
export function zoneLabel() {
  const parts = fmt("zone", { timeZoneName: "short" }).formatToParts(new Date());
  const short = parts.find((p) => p.type === "timeZoneName")?.value;
  const zone = timeZone();
  return short && short !== zone ? `${zone} (${short})` : zone;
}

function toDate(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Full timestamp with the officer's zone: for the detail pane and tooltips. */
export function formatDateTime(iso) {
  const d = toDate(iso);
  if (!d) return iso ? String(iso) : "";
  return fmt("full", {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    timeZoneName: "short",
  }).format(d);
}

/** Compact time for list rows: "14:02" today, "21 Nov 14:02" otherwise. */
export function formatShort(iso) {
  const d = toDate(iso);
  if (!d) return "";
  const dayKey = fmt("day", { year: "numeric", month: "2-digit", day: "2-digit" });
  if (dayKey.format(d) === dayKey.format(new Date()))
    return fmt("time", { hour: "2-digit", minute: "2-digit" }).format(d);
  return fmt("dayTime", { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }).format(d);
}

/** A calendar date ("1988-03-14") without shifting it through a time zone. */
export function formatDate(value) {
  if (!value) return "";
  const d = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return String(value);
  return fmt("date", { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" }).format(d);
}

export function formatNumber(n) {
  return new Intl.NumberFormat(LOCALES[lang]).format(n);
}

export function formatMoney(amount, currency) {
  try {
    return new Intl.NumberFormat(LOCALES[lang], { style: "currency", currency }).format(amount);
  } catch {
    return `${formatNumber(amount)} ${currency}`;
  }
}
