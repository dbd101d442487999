/**
 * Render the always-visible sync status bar.
 *
 * It answers, in words: am I connected, how many of my changes wait, when did
 * the last sync succeed, is there anything I must look at, and how far the
 * first sync has got. describeStatus() is pure; renderStatus() draws it.
 */
import { formatTime, t } from './i18n.js';
import { PHASE } from './sync.js';
import { h, mount } from './ui/dom.js';

/** Turn engine state and counts into the bar's parts (message keys). */
export function describeStatus(state, { pending = 0, attention = 0 } = {}) {
  const connection = {
    [PHASE.IDLE]: 'online',
    [PHASE.PUSHING]: 'syncing',
    [PHASE.PULLING]: 'syncing',
    [PHASE.WAITING]: 'waiting',
    [PHASE.OFFLINE]: 'offline',
    [PHASE.SIGNED_OUT]: 'signed_out',
    [PHASE.UPDATE_REQUIRED]: 'update_required',
  }[state.phase] ?? 'offline';
  return {
    connection,
    pending,
    attention,
    lastSyncAt: state.lastSyncAt,
    firstSync: state.firstSync,
  };
}

export function renderStatus(container, summary, { onSignIn, onAttention }) {
  const parts = [
    h('span', { class: `status-connection is-${summary.connection}` }, t(`status.${summary.connection}`)),
    h('span', { class: 'status-pending' },
      summary.pending ? t('status.pending', { count: summary.pending }) : t('status.nothing_pending')),
  ];
  if (summary.firstSync) {
    parts.push(h('span', { class: 'status-first' }, t('status.first_sync', { count: summary.firstSync.records })));
  } else {
    parts.push(h('span', { class: 'status-last' },
      summary.lastSyncAt ? t('status.last_sync', { time: formatTime(summary.lastSyncAt) }) : t('status.never_synced')));
  }
  if (summary.attention) {
    parts.push(h('button', { type: 'button', class: 'status-attention', onclick: onAttention },
      t('status.attention', { count: summary.attention })));
  }
  if (summary.connection === 'signed_out') {
    parts.push(h('button', { type: 'button', class: 'status-signin', onclick: onSignIn }, t('status.sign_in_again')));
  }
  mount(container, ...parts);
}
