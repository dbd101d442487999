/**
 * Render the always-visible sync status bar.
 *
 * It answers, in words: am I connected, how many of my changes wait, when did
 * the last sync succeed, is there anything I must look at, and how far the
 * first sync has got. Nobody signed in: it says only that (and what waits),
 * never "all synced" or "not synced yet", which would be about no one.
 *
 * describeStatus() is pure. The bar is a polite live region: it is redrawn
 * only when what it says changes, so a screen reader hears a change once,
 * not every sync event. A round in progress is shown by a mark hidden from
 * screen readers, not by words: "syncing… online… syncing…" on every live
 * event would be read out each time.
 */
import { formatTime, t } from './i18n.js';
import { PHASE } from './sync.js';
import { h, mount } from './ui/dom.js';

const CONNECTION = Object.freeze({
  [PHASE.IDLE]: 'online',
  [PHASE.PUSHING]: 'syncing',
  [PHASE.PULLING]: 'syncing',
  [PHASE.WAITING]: 'waiting',
  [PHASE.OFFLINE]: 'offline',
  [PHASE.SIGNED_OUT]: 'signed_out',
  [PHASE.UPDATE_REQUIRED]: 'update_required',
});

/**
 * Turn engine state and counts into the bar's parts.
 *
 * Returns {connection, pending, attention, lastSyncAt, firstSync}; without a
 * signed-in user, `connection` is 'not_signed_in' and nothing else is claimed.
 */
export function describeStatus(state, { signedIn = true, pending = 0, attention = 0 } = {}) {
  if (!signedIn) {
    return { connection: 'not_signed_in', pending, attention: 0, lastSyncAt: null, firstSync: null };
  }
  return {
    connection: CONNECTION[state.phase] ?? 'offline',
    pending,
    attention,
    lastSyncAt: state.lastSyncAt ?? null,
    firstSync: state.firstSync ?? null,
  };
}

/** Return the words of the bar, in order, for `summary`. */
export function statusParts(summary) {
  const connection = summary.connection === 'syncing' ? 'online' : summary.connection;
  const parts = [{ kind: 'connection', text: t(`status.${connection}`) }];
  const signedOut = summary.connection === 'not_signed_in';
  if (summary.pending || !signedOut) {
    parts.push({ kind: 'pending', text: summary.pending ? t('status.pending', { count: summary.pending }) : t('status.nothing_pending') });
  }
  if (summary.firstSync) {
    parts.push({ kind: 'first', text: t('status.first_sync', { count: summary.firstSync.records }) });
  } else if (!signedOut) {
    parts.push({ kind: 'last', text: summary.lastSyncAt ? t('status.last_sync', { time: formatTime(summary.lastSyncAt) }) : t('status.never_synced') });
  }
  return parts;
}

export function createStatusBar(container, { onSignIn, onAttention }) {
  let shown = null;
  return {
    show(summary) {
      const parts = statusParts(summary);
      container.classList.toggle('is-syncing', summary.connection === 'syncing');
      const key = JSON.stringify([parts, summary.attention, summary.connection === 'signed_out']);
      if (key === shown) return;
      shown = key;
      const nodes = parts.map(({ kind, text }) =>
        h('span', { class: `status-${kind}${kind === 'connection' ? ` is-${summary.connection}` : ''}` }, text));
      if (summary.attention) {
        nodes.push(h('button', { type: 'button', class: 'status-attention', onclick: onAttention },
          t('status.attention', { count: summary.attention })));
      }
      if (summary.connection === 'signed_out') {
        nodes.push(h('button', { type: 'button', class: 'status-signin', onclick: onSignIn }, t('status.sign_in_again')));
      }
      mount(container, ...nodes);
    },
    /** Forget what is shown, so the next show() redraws (a language change). */
    reset() {
      shown = null;
    },
  };
}
