import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  DEFAULT_LANGUAGE, LANGUAGE_NAMES, format, language, loadCatalogue, pluralForm, setLanguage, t, translate,
} from '../../web/app/i18n.js';
import { DECLARATIONS } from './helpers.js';

const APP_DIR = fileURLToPath(new URL('../../web/app/', import.meta.url));
const LANGUAGES = Object.keys(LANGUAGE_NAMES);
const CATALOGUES = Object.fromEntries(await Promise.all(LANGUAGES.map(async (code) => [code, await loadCatalogue(code)])));
const forms = (message) => (typeof message === 'string' ? [message] : Object.values(message));
const placeholders = (message) => [...new Set(forms(message).flatMap((m) => [...m.matchAll(/\{(\w+)\}/g)].map((x) => x[1])))].sort();

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.js') ? [join(dir, entry.name)] : []);
}

test('zh-CN is the default language, and all four are offered', () => {
  assert.equal(DEFAULT_LANGUAGE, 'zh-CN');
  assert.deepEqual(LANGUAGES.sort(), ['en', 'ja', 'ko', 'zh-CN']);
});

test('every language has every key: none is missing in any language', () => {
  const all = new Set(LANGUAGES.flatMap((language) => Object.keys(CATALOGUES[language])));
  for (const language of LANGUAGES) {
    const missing = [...all].filter((key) => !(key in CATALOGUES[language]));
    assert.deepEqual(missing, [], `${language} is missing keys`);
  }
});

test('every message keeps the placeholders of the English one, and none is empty', () => {
  for (const [language, catalogue] of Object.entries(CATALOGUES)) {
    for (const [key, message] of Object.entries(catalogue)) {
      assert.deepEqual(placeholders(message), placeholders(CATALOGUES.en[key]), `${language} ${key}`);
      for (const form of forms(message)) assert.ok(form.trim(), `${language} ${key} is empty`);
    }
  }
});

test('plural messages have the forms their language needs (Intl.PluralRules)', () => {
  for (const [language, catalogue] of Object.entries(CATALOGUES)) {
    const needed = new Intl.PluralRules(language).resolvedOptions().pluralCategories;
    for (const [key, message] of Object.entries(catalogue)) {
      if (typeof message === 'string') continue;
      for (const category of needed) assert.ok(category in message || 'other' in message, `${language} ${key} ${category}`);
    }
  }
  assert.equal(translate('en', 'tasks.count', { count: 1 }), '1 task');
  assert.equal(translate('en', 'tasks.count', { count: 30 }), '30 tasks');
  assert.equal(translate('en', 'tasks.count', { count: 1200 }), '1,200 tasks');
  assert.equal(pluralForm('ja', 'x', 3), 'x');
});

test('counts read as Intl.NumberFormat writes them in every language offered', async () => {
  // translate() groups an integer's digits itself (a phone's first Intl.NumberFormat
  // costs 0.1–0.3 s mid-sync, issue 16): a language that groups otherwise fails here.
  for (const code of Object.keys(LANGUAGE_NAMES)) {
    await loadCatalogue(code);
    for (const count of [0, -0, 7, 999, 1000, -1234, 7192, 1234567, 2 ** 53 - 1, 1.5, -2500.25]) {
      const shown = translate(code, 'status.pending', { count });
      assert.ok(shown.includes(new Intl.NumberFormat(code).format(count)), `${code} ${count}: ${shown}`);
    }
  }
});

test('no English message spells a plural as "(s)"', () => {
  for (const [key, message] of Object.entries(CATALOGUES.en)) {
    for (const form of forms(message)) assert.doesNotMatch(form, /\w\(s\)/, key);
  }
});

test('ja and ko are translated, not English copies', () => {
  const sameEverywhere = new Set(['app.name']);
  for (const language of ['ja', 'ko', 'zh-CN']) {
    const copies = Object.keys(CATALOGUES.en).filter((key) =>
      !sameEverywhere.has(key) && JSON.stringify(CATALOGUES[language][key]) === JSON.stringify(CATALOGUES.en[key]));
    assert.deepEqual(copies, [], `${language} copies English`);
  }
});

test('every declared field, enum value and action has a label in all four languages', () => {
  for (const [type, declared] of Object.entries(DECLARATIONS.types)) {
    const keys = Object.keys(declared.fields).map((field) => `field.${type}.${field}`);
    for (const [field, schema] of Object.entries(declared.fields)) {
      for (const value of schema.enum ?? schema.items?.enum ?? []) keys.push(`value.${type}.${field}.${value}`);
    }
    for (const edge of declared.state_machine?.transitions ?? []) keys.push(`action.${type}.${edge.action}`);
    for (const language of LANGUAGES) {
      assert.deepEqual(keys.filter((key) => !(key in CATALOGUES[language])), [], `${language} ${type}`);
    }
  }
});

test('every literal key the app passes to t() exists', () => {
  const used = new Set();
  for (const file of sourceFiles(APP_DIR)) {
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/\bt\('([\w.]+)'/g)) used.add(match[1]);
    for (const match of source.matchAll(/'((?:common|task|tasks|attention|reject|status|settings)\.[\w.]+)'/g)) used.add(match[1]);
  }
  assert.ok(used.size > 80, 'the scan found too few keys to be working');
  assert.deepEqual([...used].filter((key) => !(key in CATALOGUES.en)), []);
});

test('every rejection code and validation problem the app can name has words', async () => {
  const codes = ['invalid', 'invalid_field', 'forbidden', 'not_found', 'deleted', 'immutable', 'already_claimed',
    'already_claimed_unknown', 'stale_transition', 'stale_transition_unknown', 'out_of_stock', 'round_closed', 'aborted', 'unknown'];
  const problems = ['required', 'too_long', 'too_short', 'range', 'choice'];
  for (const language of LANGUAGES) {
    for (const code of codes) assert.ok(`reject.${code}` in CATALOGUES[language], `${language} reject.${code}`);
    for (const problem of problems) assert.ok(`task.invalid.${problem}` in CATALOGUES[language], `${language} ${problem}`);
  }
});

test('translate falls back to English, then to the key', () => {
  assert.equal(translate('zh-CN', 'no.such.key'), 'no.such.key');
  assert.equal(translate('zh-CN', 'status.pending', { count: 3 }), '3 条改动等待同步');
});

test('format leaves unknown placeholders visible', () => {
  assert.equal(format('{a} and {b}', { a: 1 }), '1 and {b}');
});

test('choosing a language loads its catalogue first; an unknown one changes nothing', async () => {
  await assert.rejects(setLanguage('xx'), RangeError);
  assert.equal(language(), DEFAULT_LANGUAGE);
  for (const code of LANGUAGES) {
    await setLanguage(code);
    assert.equal(t('settings.language'), CATALOGUES[code]['settings.language'], code);
  }
  await setLanguage(DEFAULT_LANGUAGE);
});
