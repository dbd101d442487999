import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { CATALOGUES, DEFAULT_LANGUAGE, format, translate } from '../../web/app/i18n.js';

const APP_DIR = fileURLToPath(new URL('../../web/app/', import.meta.url));
const placeholders = (message) => [...message.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.js') ? [join(dir, entry.name)] : []);
}

test('zh-CN is the default language', () => {
  assert.equal(DEFAULT_LANGUAGE, 'zh-CN');
});

test('zh-CN and en have exactly the same keys', () => {
  const zh = Object.keys(CATALOGUES['zh-CN']).sort();
  const en = Object.keys(CATALOGUES.en).sort();
  assert.deepEqual(zh.filter((k) => !en.includes(k)), [], 'keys only in zh-CN');
  assert.deepEqual(en.filter((k) => !zh.includes(k)), [], 'keys only in en');
});

test('every catalogue uses only keys that en has, with the same placeholders', () => {
  for (const [language, catalogue] of Object.entries(CATALOGUES)) {
    for (const [key, message] of Object.entries(catalogue)) {
      assert.ok(key in CATALOGUES.en, `${language} has unknown key ${key}`);
      assert.deepEqual(placeholders(message), placeholders(CATALOGUES.en[key]), `${language} ${key}`);
      assert.ok(message.trim(), `${language} ${key} is empty`);
    }
  }
});

test('ja and ko cover the shell: status bar, sign-in and navigation', () => {
  const shell = Object.keys(CATALOGUES.en).filter((key) => /^(status|sync|app|nav|common|login\.(title|username|password|submit)|role)\./.test(key));
  for (const language of ['ja', 'ko']) {
    const missing = shell.filter((key) => !(key in CATALOGUES[language]) && !key.startsWith('sync.error'));
    assert.deepEqual(missing, [], `${language} is missing shell keys`);
  }
});

test('every literal key the app passes to t() exists in en', () => {
  const used = new Set();
  for (const file of sourceFiles(APP_DIR)) {
    for (const match of readFileSync(file, 'utf8').matchAll(/\bt\('([\w.]+)'/g)) used.add(match[1]);
    for (const match of readFileSync(file, 'utf8').matchAll(/RangeError\('([\w.]+)'/g)) used.add(match[1]);
  }
  assert.ok(used.size > 50, 'the scan found too few keys to be working');
  assert.deepEqual([...used].filter((key) => !(key in CATALOGUES.en)), []);
});

test('translate falls back to English, then to the key', () => {
  assert.equal(translate('ja', 'tasks.empty'), CATALOGUES.en['tasks.empty']);
  assert.equal(translate('zh-CN', 'no.such.key'), 'no.such.key');
  assert.equal(translate('zh-CN', 'status.pending', { count: 3 }), '3 条改动等待同步');
});

test('format leaves unknown placeholders visible', () => {
  assert.equal(format('{a} and {b}', { a: 1 }), '1 and {b}');
});
