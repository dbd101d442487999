import assert from 'node:assert/strict';
import { test } from 'node:test';

import { NOTICE_LANGUAGES, NoticeError, noticeChange, noticeFields, noticeOrder, pickLanguage, publishedNotices } from '../../web/app/notices/rules.js';
import { DECLARATIONS } from './helpers.js';

const FULL = { 'zh-CN': '通知', en: 'Notice', ja: 'お知らせ', ko: '공지' };
const NOW = '2022-04-02T08:00:00.000Z';

function aNotice(overrides = {}) {
  const { fields, ...rest } = overrides;
  return {
    type: 'notice', id: 'n1', version: 3, deleted: false,
    fields: { compound_ids: ['A'], title: { 'zh-CN': '标题' }, body: { 'zh-CN': '正文' }, pinned: false, published: true, published_at: NOW, ...fields },
    ...rest,
  };
}

const input = (overrides = {}) => ({ compound_ids: ['A'], title: { 'zh-CN': '停水通知' }, body: { 'zh-CN': '明天停水。' }, pinned: false, published: false, ...overrides });

test('a reader gets their language, else the Chinese text, for every language and every subset of translations', () => {
  const subsets = Array.from({ length: 8 }, (_, mask) => ['en', 'ja', 'ko'].filter((_, i) => mask & (1 << i)));
  for (const others of subsets) {
    const map = Object.fromEntries([['zh-CN', FULL['zh-CN']], ...others.map((tag) => [tag, FULL[tag]])]);
    for (const reader of NOTICE_LANGUAGES) {
      const expected = map[reader] ? reader : 'zh-CN';
      assert.deepEqual(pickLanguage(map, reader), { text: FULL[expected], language: expected }, `${reader} of ${others}`);
    }
  }
  assert.deepEqual(pickLanguage({ en: 'Only English' }, 'ja'), { text: 'Only English', language: 'en' });
  assert.deepEqual(pickLanguage(undefined, 'en'), { text: '', language: null });
});

test('readers see published notices only, pinned first, then the newest', () => {
  const draft = aNotice({ id: 'draft', fields: { published: false, published_at: null } });
  const old = aNotice({ id: 'old', fields: { published_at: '2022-04-01T08:00:00.000Z' } });
  const fresh = aNotice({ id: 'fresh' });
  const pinned = aNotice({ id: 'pinned', fields: { pinned: true, published_at: '2022-03-01T08:00:00.000Z' } });
  const gone = aNotice({ id: 'gone', deleted: true });
  assert.deepEqual(publishedNotices([old, draft, fresh, gone, pinned]).map((n) => n.id), ['pinned', 'fresh', 'old']);
  assert.deepEqual([draft, pinned].sort(noticeOrder).map((n) => n.id), ['pinned', 'draft']);
});

test('the editor keeps the languages written, trimmed, and needs Chinese in title and text', () => {
  const fields = noticeFields(DECLARATIONS, input({ title: { 'zh-CN': ' 停水 ', en: '  ', ja: '断水' } }), null, NOW);
  assert.deepEqual(fields.title, { 'zh-CN': '停水', ja: '断水' });
  for (const field of ['title', 'body']) {
    const missing = input({ [field]: { en: 'English only' } });
    assert.throws(() => noticeFields(DECLARATIONS, missing, null, NOW),
      (error) => error instanceof NoticeError && error.field === field && error.language === 'zh-CN' && error.problem.key === 'invalid.required');
  }
  assert.throws(() => noticeFields(DECLARATIONS, input({ compound_ids: [] }), null, NOW), (error) => error.field === 'compound_ids');
});

test('texts are held to the declared lengths, in every language', () => {
  for (const field of ['title', 'body']) {
    const max = DECLARATIONS.types.notice.fields[field].additionalProperties.maxLength;
    for (const language of NOTICE_LANGUAGES) {
      const texts = { 'zh-CN': '中', [language]: '字'.repeat(max) };
      assert.doesNotThrow(() => noticeFields(DECLARATIONS, input({ [field]: texts }), null, NOW));
      texts[language] = '字'.repeat(max + 1);
      assert.throws(() => noticeFields(DECLARATIONS, input({ [field]: texts }), null, NOW),
        (error) => error.field === field && error.language === language && error.problem.params.max === max);
    }
  }
});

test('publishing stamps the time once; unpublishing clears it', () => {
  const published = noticeFields(DECLARATIONS, input({ published: true }), null, NOW);
  assert.equal(published.published_at, NOW);
  const existing = aNotice({ fields: { published: true, published_at: '2022-04-01T00:00:00.000Z' } });
  assert.equal(noticeFields(DECLARATIONS, input({ published: true }), existing, NOW).published_at, '2022-04-01T00:00:00.000Z');
  assert.equal(noticeFields(DECLARATIONS, input({ published: false }), existing, NOW).published_at, null);
  assert.equal(noticeFields(DECLARATIONS, input({ published: false }), null, NOW).published_at, null);
});

test('a new notice is a create; an edit updates only what changed, on the version seen', () => {
  const fields = noticeFields(DECLARATIONS, input(), null, NOW);
  assert.deepEqual(noticeChange(fields, null, 'n9'), { type: 'notice', id: 'n9', op: 'create', base_version: 0, fields });
  const existing = aNotice({ fields });
  const pinned = noticeFields(DECLARATIONS, input({ pinned: true }), existing, NOW);
  assert.deepEqual(noticeChange(pinned, existing), { type: 'notice', id: 'n1', op: 'update', base_version: 3, fields: { pinned: true } });
  assert.deepEqual(noticeChange(fields, existing).fields, {});
});
