/**
 * A notice as an A4 card for a stairwell door: every language it is written
 * in, one after another, large. The print stylesheet (styles.css, @media
 * print) leaves only the card on the page.
 */
import { LANGUAGE_NAMES, t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';
import { NOTICE_LANGUAGES, TYPE } from './rules.js';

async function render({ records }, { id }) {
  const notice = await records.view(TYPE, id);
  if (!notice || notice.deleted) return screen(t('notices.print'), { back: '/notices' }, h('p', {}, t('notices.missing')));
  const { title, body } = notice.fields;
  const languages = NOTICE_LANGUAGES.filter((language) => title?.[language] || body?.[language]);
  return screen(t('notices.print'), { back: '/notices' },
    h('p', { class: 'no-print' }, h('button', { type: 'button', class: 'primary', onclick: () => globalThis.print() }, t('notices.print_now'))),
    h('article', { class: 'print-card' },
      ...languages.map((language) => h('section', { class: 'print-language', lang: language, 'aria-label': LANGUAGE_NAMES[language] },
        title?.[language] ? h('h2', {}, title[language]) : null,
        body?.[language] ? h('p', { class: 'prewrap' }, body[language]) : null))));
}

export default { render, uses: ['records'], follows: ['record:notice'] };
