/** The coverage bar of the testing screens: the share dealt with, and the counts in words. */
import { t } from '../i18n.js';
import { h } from '../ui/dom.js';

export function coverageBar(counts, label) {
  return h('div', { class: 'field-bar' },
    h('progress', { max: Math.max(counts.residents, 1), value: counts.tested + counts.exempt, 'aria-label': label }),
    h('span', { class: 'field-bar-words' }, t('testing.coverage', counts)));
}
