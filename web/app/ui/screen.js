/** Lay out one screen: a heading that takes focus, a way back, the body. */
import { t } from '../i18n.js';
import { h } from './dom.js';

export function screen(title, { back = null } = {}, ...children) {
  return h('section', { class: 'screen' },
    back ? h('a', { class: 'back', href: `#${back}` }, h('span', { 'aria-hidden': 'true' }, '‹ '), t('common.back')) : null,
    h('h1', { tabindex: '-1' }, title),
    ...children);
}

/** A labelled form field: the label is always visible, never a placeholder. */
export function field(id, label, control, hint = null) {
  if (hint) control.setAttribute('aria-describedby', `${id}-hint`);
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    control,
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null);
}
