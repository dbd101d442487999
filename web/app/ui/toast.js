/**
 * Show short messages at the bottom of the screen, one at a time.
 *
 * The region is aria-live so screen readers hear them; a toast with an
 * action stays until tapped or dismissed.
 */
import { t } from '../i18n.js';
import { h, mount } from './dom.js';

export const TOAST_MS = 6000;

export function createToaster(region) {
  let timer = null;
  function clear() {
    clearTimeout(timer);
    mount(region);
  }
  return {
    show(message, { action = null, onAction = null } = {}) {
      clearTimeout(timer);
      const parts = [h('span', {}, message)];
      if (action) {
        parts.push(h('button', { type: 'button', onclick: async () => { clear(); await onAction(); } }, action));
        parts.push(h('button', { type: 'button', class: 'secondary', onclick: clear }, t('common.dismiss')));
      } else {
        timer = setTimeout(clear, TOAST_MS);
      }
      mount(region, h('div', { class: 'toast' }, ...parts));
    },
    clear,
  };
}
