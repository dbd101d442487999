/**
 * Show short messages, one at a time, in their own strip of the page.
 *
 * The strip sits in the page's flow under the status bar, so a message
 * never covers what is under it (a form being filled in). Routine messages
 * are announced politely; `urgent` ones (a sync that stopped) as an alert.
 * A toast with an action stays until tapped or dismissed; if the action has
 * a `while` condition (an undo possible only while a change is queued), the
 * toast drops the action once recheck() finds the condition false.
 */
import { t } from '../i18n.js';
import { h, mount } from './dom.js';

export const TOAST_MS = 6000;

export function createToaster(region) {
  let timer = null;
  let condition = null;

  function clear() {
    clearTimeout(timer);
    condition = null;
    mount(region);
  }

  function show(message, { action = null, onAction = null, urgent = false, while: holds = null } = {}) {
    clearTimeout(timer);
    condition = action ? holds : null;
    const parts = [h('span', {}, message)];
    if (action) {
      parts.push(h('button', { type: 'button', onclick: async () => { clear(); await onAction(); } }, action));
      parts.push(h('button', { type: 'button', class: 'secondary', onclick: clear }, t('common.dismiss')));
    } else {
      timer = setTimeout(clear, TOAST_MS);
    }
    mount(region, h('div', { class: urgent ? 'toast is-urgent' : 'toast', role: urgent ? 'alert' : null }, ...parts));
  }

  return {
    show,
    clear,
    /** Drop the shown action if its `while` condition no longer holds. */
    async recheck() {
      const holds = condition;
      if (holds && !(await holds()) && condition === holds) {
        const message = region.querySelector('.toast > span')?.textContent ?? '';
        show(message);
      }
    },
  };
}
