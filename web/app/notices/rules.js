/**
 * Notices: which to show, in which language, and the changes a coordinator's
 * editor makes.
 *
 * Pure: no IO. A notice's `title` and `body` are maps keyed by language tag,
 * `zh-CN` required (contract, "Records"); a reader gets their language and,
 * where the notice has none, the Chinese text. Limits (required languages,
 * lengths) come from the published declaration of `notice`, never restated.
 */
import { fieldSchema, typeOf } from '../declarations.js';
import { newId } from '../ids.js';

export const TYPE = 'notice';
/** The language every notice has, shown when the reader's is missing. */
export const FALLBACK_LANGUAGE = 'zh-CN';
/** The languages a notice is written in, in the editor's and the printed card's order. */
export const NOTICE_LANGUAGES = Object.freeze(['zh-CN', 'en', 'ja', 'ko']);
/** The fields written per language. */
export const TEXT_FIELDS = Object.freeze(['title', 'body']);

/**
 * Return the text of a language map for `language`: `{text, language}`,
 * falling back to zh-CN (then any language the map has) when it lacks one.
 */
export function pickLanguage(map, language) {
  const texts = map ?? {};
  const chosen = [language, FALLBACK_LANGUAGE, ...Object.keys(texts)].find((tag) => texts[tag]);
  return chosen ? { text: texts[chosen], language: chosen } : { text: '', language: null };
}

/** Order notices for reading: pinned first, then the latest published (or written) first. */
export function noticeOrder(a, b) {
  const when = (notice) => String(notice.fields.published_at ?? '');
  return Number(Boolean(b.fields.pinned)) - Number(Boolean(a.fields.pinned))
    || when(b).localeCompare(when(a)) || (b.version ?? 0) - (a.version ?? 0) || a.id.localeCompare(b.id);
}

/** Return the notices a reader sees: published ones, in reading order (coordinators see drafts in the editor's list). */
export function publishedNotices(notices) {
  return notices.filter((notice) => !notice.deleted && notice.fields.published === true).sort(noticeOrder);
}

export class NoticeError extends RangeError {
  /** `field` (`title`, `body`, `compound_ids`), `language` (or null), `problem` {key, params}. */
  constructor(field, language, problem) {
    super(`${field}${language ? `.${language}` : ''}: ${problem.key}`);
    this.name = 'NoticeError';
    this.field = field;
    this.language = language;
    this.problem = problem;
  }
}

function checkTexts(declarations, field, texts) {
  const schema = fieldSchema(declarations, TYPE, field) ?? {};
  const each = schema.additionalProperties ?? {};
  for (const language of schema.required ?? []) {
    if (!texts[language]) throw new NoticeError(field, language, { key: 'invalid.required', params: {} });
  }
  for (const [language, text] of Object.entries(texts)) {
    const length = [...text].length;
    if (each.maxLength != null && length > each.maxLength) throw new NoticeError(field, language, { key: 'invalid.too_long', params: { max: each.maxLength } });
    if (each.minLength != null && length < each.minLength) throw new NoticeError(field, language, { key: 'invalid.too_short', params: { min: each.minLength } });
  }
}

/**
 * Read the editor's input into a notice's fields, checked against the declaration.
 *
 * `input`: {compound_ids: [ids], title: {lang: text}, body: {lang: text}, pinned, published}.
 * Empty texts are left out. Publishing stamps `published_at` (`now`, an ISO
 * string) unless the notice was already published; unpublishing clears it.
 *
 * @throws {NoticeError} naming the first field (and language) the declaration refuses.
 */
export function noticeFields(declarations, input, existing = null, now = new Date().toISOString()) {
  const fields = { ...(typeOf(declarations, TYPE)?.defaults ?? {}) };
  if (!input.compound_ids?.length) throw new NoticeError('compound_ids', null, { key: 'invalid.required', params: {} });
  fields.compound_ids = [...input.compound_ids];
  for (const field of TEXT_FIELDS) {
    const texts = Object.fromEntries(NOTICE_LANGUAGES
      .map((language) => [language, (input[field]?.[language] ?? '').trim()])
      .filter(([, text]) => text));
    checkTexts(declarations, field, texts);
    fields[field] = texts;
  }
  fields.pinned = Boolean(input.pinned);
  fields.published = Boolean(input.published);
  const wasPublished = existing?.fields?.published === true;
  fields.published_at = fields.published ? (wasPublished && existing.fields.published_at) || now : null;
  return fields;
}

/** Return the change that writes a notice: a create, or an update of what changed. */
export function noticeChange(fields, existing = null, id = newId()) {
  if (!existing) return { type: TYPE, id, op: 'create', base_version: 0, fields };
  const changed = Object.fromEntries(Object.entries(fields)
    .filter(([name, value]) => JSON.stringify(value) !== JSON.stringify(existing.fields[name] ?? null)));
  return { type: TYPE, id: existing.id, op: 'update', base_version: existing.version ?? 0, fields: changed };
}
