/**
 * Translate user-visible strings through one message catalogue.
 *
 * Simplified Chinese is the default and the fallback, and its catalogue is
 * the only one imported with this module; another language's catalogue is
 * loaded (dynamic `import()`) when it is chosen, so a device fetches and
 * parses only the one it shows (the service worker precaches all four, so
 * switching works offline). Every language has every key (a test fails on
 * any key missing in any language). The chosen language is kept in
 * localStorage and its catalogue loaded before the first paint.
 *
 * Messages use `{name}` placeholders: t('status.pending', {count: 3}). A
 * message that depends on a count is an object keyed by the language's
 * plural categories (`Intl.PluralRules`: `one`, `other`, ...), picked by
 * `params.count`. Record fields, enum values and actions are named by keys
 * built from the published declarations: `field.<type>.<field>`,
 * `value.<type>.<field>.<value>`, `action.<type>.<action>`.
 */
import zhCN from './i18n/zh-CN.js';

export const DEFAULT_LANGUAGE = 'zh-CN';
export const LANGUAGE_NAMES = Object.freeze({ 'zh-CN': '简体中文', en: 'English', ja: '日本語', ko: '한국어' });
const STORAGE_KEY = 'weiguang.language';

/** The catalogues loaded so far, by language code. */
const catalogues = new Map([[DEFAULT_LANGUAGE, zhCN]]);

/**
 * Load the catalogue of `code` (`web/app/i18n/<code>.js`) once; resolve to it.
 *
 * @throws {RangeError} for a language the app does not offer.
 * Rejects if the file cannot be fetched (offline before the shell was cached).
 */
export async function loadCatalogue(code) {
  if (!Object.hasOwn(LANGUAGE_NAMES, code)) throw new RangeError(`unsupported language ${code}`);
  if (!catalogues.has(code)) catalogues.set(code, (await import(`./i18n/${code}.js`)).default);
  return catalogues.get(code);
}

let current = DEFAULT_LANGUAGE;
const listeners = new Set();

/** Fill `{name}` placeholders; unknown ones stay visible, to be noticed. */
export function format(message, params = {}) {
  return message.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** `Intl` objects made so far, by kind and language. */
const intlObjects = new Map();

/**
 * Return the `Intl` object of `kind` for `language`, made by `make` the first time:
 * making one costs more than using it, and the status bar formats on every redraw.
 */
function intl(kind, language, make) {
  const key = `${kind}\u0000${language}`;
  if (!intlObjects.has(key)) intlObjects.set(key, make());
  return intlObjects.get(key);
}

/** Pick the plural form of `message` for `count` in `language`. */
export function pluralForm(language, message, count) {
  if (typeof message === 'string') return message;
  const category = intl('plural', language, () => new Intl.PluralRules(language)).select(Number(count ?? 0));
  return message[category] ?? message.other;
}

/**
 * Return the message for `key` in `language` (falling back to zh-CN, then the
 * key); a language whose catalogue is not loaded yet reads as zh-CN.
 */
export function translate(language, key, params = {}) {
  const message = catalogues.get(language)?.[key] ?? zhCN[key] ?? key;
  const count = typeof params.count === 'number' ? formatNumberIn(language, params.count) : params.count;
  return format(pluralForm(language, message, params.count), { ...params, ...(count === undefined ? {} : { count }) });
}

/**
 * Format `number` for `language`. An integer (a count) is grouped by thousands with
 * commas, as `Intl.NumberFormat` does in every language offered (a test holds them
 * equal): a throttled phone spends 0.1–0.3 s making the first one, in the middle of
 * a first sync (issue 16). Other numbers go through `Intl.NumberFormat`.
 */
function formatNumberIn(language, number) {
  if (Number.isSafeInteger(number) && !Object.is(number, -0)) return String(number).replace(/\B(?=(\d{3})+$)/g, ',');
  return intl('number', language, () => new Intl.NumberFormat(language)).format(number);
}

export function t(key, params) {
  return translate(current, key, params);
}

export function language() {
  return current;
}

function storage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // storage blocked (private mode): keep the language for this page only
  }
}

/**
 * Load the catalogue of `code`, then switch to it, remember it and tell listeners.
 *
 * Rejects as `loadCatalogue` does; the language is then unchanged.
 */
export async function setLanguage(code) {
  await loadCatalogue(code);
  current = code;
  storage()?.setItem(STORAGE_KEY, code);
  if (globalThis.document) document.documentElement.lang = code;
  for (const listener of listeners) listener(code);
}

/**
 * Restore the remembered language, loading its catalogue; resolve to its code.
 *
 * The default stands in when none is remembered, or when the remembered
 * one's catalogue cannot be loaded.
 */
export async function initLanguage() {
  const saved = storage()?.getItem(STORAGE_KEY);
  current = saved && (await loadCatalogue(saved).then(() => true, () => false)) ? saved : DEFAULT_LANGUAGE;
  if (globalThis.document) document.documentElement.lang = current;
  return current;
}

export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Tell whether the current language (or zh-CN) has a message for `key`. */
export function hasMessage(key) {
  return key in (catalogues.get(current) ?? {}) || key in zhCN;
}

/** Name a field of a record type (`field.<type>.<field>`). */
export function fieldLabel(type, field) {
  return t(`field.${type}.${field}`);
}

/** Name an enum value of a field (`value.<type>.<field>.<value>`). */
export function valueLabel(type, field, value) {
  return t(`value.${type}.${field}.${value}`);
}

/** Name a kind of record (`type.<type>`), or plainly "a record" for a kind the catalogue lacks. */
export function typeLabel(type) {
  return hasMessage(`type.${type}`) ? t(`type.${type}`) : t('common.a_record');
}

/** Name an action on a record type (`action.<type>.<action>`). */
export function actionLabel(type, action) {
  return t(`action.${type}.${action}`);
}

/** Join items as a list in the current language ("a, b and c"). */
export function formatList(items) {
  return intl('list', current, () => new Intl.ListFormat(current, { type: 'conjunction' })).format(items.map(String));
}

/** Compare names the way people sort them: "2号楼" before "10号楼". */
export function naturalCompare(a, b) {
  const collator = intl('collator', current, () => new Intl.Collator(current, { numeric: true, sensitivity: 'base' }));
  return collator.compare(String(a), String(b));
}

/** Format an ISO time for people, in the current language. */
export function formatTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return intl('time', current, () => new Intl.DateTimeFormat(current, { dateStyle: 'short', timeStyle: 'short' })).format(date);
}
