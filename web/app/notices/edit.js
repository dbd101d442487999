/**
 * Write or edit a notice (coordinators): a title and text per language
 * (Chinese required), the compounds it is for, pinned, published. Saving
 * queues the change, so it works offline; the server keeps every version.
 */
import { mayCreate, mayUpdateField } from '../declarations.js';
import { fieldLabel, LANGUAGE_NAMES, t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { sortedChoices } from '../tasks/format.js';
import { NOTICE_LANGUAGES, NoticeError, noticeChange, noticeFields, TEXT_FIELDS, TYPE } from './rules.js';

const inputId = (name, language) => `notice-${name}-${language}`;

function languageFields(notice, language) {
  const title = h('input', { id: inputId('title', language), lang: language, autocomplete: 'off', value: notice?.fields.title?.[language] ?? '' });
  const body = h('textarea', { id: inputId('body', language), lang: language, rows: 5 });
  body.value = notice?.fields.body?.[language] ?? '';
  const required = language === 'zh-CN';
  const label = (name) => {
    const text = t('notices.in_language', { field: fieldLabel(TYPE, name), language: LANGUAGE_NAMES[language] });
    return required ? text : t('common.optional', { label: text });
  };
  return h('fieldset', { class: 'notice-language' },
    h('legend', {}, LANGUAGE_NAMES[language]),
    field(title.id, label('title'), title),
    field(body.id, label('body'), body));
}

function readForm(form) {
  const texts = (name) => Object.fromEntries(NOTICE_LANGUAGES.map((language) => [language, form.querySelector(`#${inputId(name, language)}`).value]));
  return {
    compound_ids: [...form.querySelectorAll('input[name="compound_ids"]:checked')].map((box) => box.value),
    ...Object.fromEntries(TEXT_FIELDS.map((name) => [name, texts(name)])),
    pinned: form.querySelector('#notice-pinned').checked,
    published: form.querySelector('#notice-published').checked,
  };
}

function describe(error) {
  const name = fieldLabel(TYPE, error.field);
  const label = error.language ? t('notices.in_language', { field: name, language: LANGUAGE_NAMES[error.language] }) : name;
  return t(`task.${error.problem.key}`, { ...error.problem.params, field: label });
}

async function render(deps, { id = null } = {}) {
  const { declarations, names, records, user } = deps;
  const notice = id ? await records.view(TYPE, id) : null;
  const allowed = notice ? mayUpdateField(declarations, TYPE, user.role, 'title') : mayCreate(declarations, TYPE, user.role);
  const heading = t(notice ? 'notices.edit' : 'notices.new');
  if (!allowed) return screen(heading, { back: '/notices' }, h('p', {}, t('notices.not_allowed')));
  if (id && (!notice || notice.deleted)) return screen(heading, { back: '/notices' }, h('p', {}, t('notices.missing')));
  const compounds = sortedChoices(await names.compounds());
  const chosen = new Set(notice?.fields.compound_ids ?? (compounds.length === 1 ? [compounds[0][0]] : []));
  const error = h('p', { class: 'error', role: 'alert', id: 'notice-error' });

  async function onSubmit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    let change;
    try {
      change = noticeChange(noticeFields(declarations, readForm(form), notice), notice);
    } catch (problem) {
      if (!(problem instanceof NoticeError)) throw problem;
      error.textContent = describe(problem);
      const target = problem.language ? `#${inputId(problem.field, problem.language)}` : 'input[name="compound_ids"]';
      form.querySelector(target)?.focus();
      return;
    }
    if (change.op === 'create' || Object.keys(change.fields).length) await deps.queue([change], t('notices.saved'));
    deps.navigate('/notices');
  }

  const checkbox = (boxId, name, checked, label) => h('div', { class: 'check' },
    h('input', { type: 'checkbox', id: boxId, name, value: boxId, checked }), h('label', { for: boxId }, label));
  return screen(heading, { back: '/notices' },
    notice ? h('p', { class: 'hint' }, t('notices.version', { version: notice.version ?? 0 })) : null,
    h('form', { onsubmit: onSubmit, novalidate: true },
      h('fieldset', {}, h('legend', {}, fieldLabel(TYPE, 'compound_ids')),
        ...compounds.map(([compoundId, name]) => h('div', { class: 'check' },
          h('input', { type: 'checkbox', id: `notice-compound-${compoundId}`, name: 'compound_ids', value: compoundId, checked: chosen.has(compoundId) }),
          h('label', { for: `notice-compound-${compoundId}` }, name)))),
      ...NOTICE_LANGUAGES.map((language) => languageFields(notice, language)),
      checkbox('notice-pinned', 'pinned', Boolean(notice?.fields.pinned), fieldLabel(TYPE, 'pinned')),
      checkbox('notice-published', 'published', Boolean(notice?.fields.published), t('notices.publish')),
      error,
      h('button', { type: 'submit', class: 'primary' }, t('notices.save'))));
}

export default { render, uses: ['user', 'declarations', 'records', 'names', 'queue', 'navigate'], follows: ['declarations'] };
