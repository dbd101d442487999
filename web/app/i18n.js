/**
 * Translate user-visible strings through one message catalogue.
 *
 * Simplified Chinese is the default; English is complete; Japanese and
 * Korean cover the shell and fall back to English, then to the key. The
 * chosen language is kept in localStorage (read synchronously at start, so
 * the first paint is already in the right language).
 *
 * Messages use `{name}` placeholders: t('status.pending', {count: 3}).
 */
import en from './i18n/en.js';
import ja from './i18n/ja.js';
import ko from './i18n/ko.js';
import zhCN from './i18n/zh-CN.js';

export const CATALOGUES = Object.freeze({ 'zh-CN': zhCN, en, ja, ko });
export const DEFAULT_LANGUAGE = 'zh-CN';
export const LANGUAGE_NAMES = Object.freeze({ 'zh-CN': '简体中文', en: 'English', ja: '日本語', ko: '한국어' });
const STORAGE_KEY = 'weiguang.language';

let current = DEFAULT_LANGUAGE;
const listeners = new Set();

/** Fill `{name}` placeholders; unknown ones stay visible, to be noticed. */
export function format(message, params = {}) {
  return message.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Return the message for `key` in `language` (falling back to English). */
export function translate(language, key, params) {
  const message = CATALOGUES[language]?.[key] ?? en[key] ?? key;
  return format(message, params);
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

/** Switch language, remember it and tell listeners. */
export function setLanguage(code) {
  if (!(code in CATALOGUES)) throw new RangeError(`unsupported language ${code}`);
  current = code;
  storage()?.setItem(STORAGE_KEY, code);
  if (globalThis.document) document.documentElement.lang = code;
  for (const listener of listeners) listener(code);
}

/** Restore the remembered language (or the default). */
export function initLanguage() {
  const saved = storage()?.getItem(STORAGE_KEY);
  current = saved && saved in CATALOGUES ? saved : DEFAULT_LANGUAGE;
  if (globalThis.document) document.documentElement.lang = current;
  return current;
}

export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Format an ISO time for people, in the current language. */
export function formatTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(current, { dateStyle: 'short', timeStyle: 'short' }).format(date);
}
