/**
 * The decision, readable at arm's length in sunlight and at night: the word
 * (allow / deny) huge, a colour and a shape that differ too (a circle with a
 * tick, a square with a cross), then the reason, the initials and the short
 * address the pass shows. Nothing else of the resident is on the pass.
 */
import { t } from '../i18n.js';
import { h } from '../ui/dom.js';

export function decisionPanel({ decision, reason, claims, fever }, onNext) {
  const allowed = decision === 'allow';
  return h('div', { class: `gate-decision is-${decision}`, 'aria-live': 'assertive', id: 'gate-decision' },
    h('div', { class: 'gate-shape', 'aria-hidden': 'true' }, allowed ? '✓' : '✕'),
    h('p', { class: 'gate-word' }, t(`gate.decision.${decision}`)),
    h('p', { class: 'gate-reason' }, t(`gate.reason.${reason}`)),
    claims?.ini || claims?.addr
      ? h('p', { class: 'gate-who' }, [claims.ini, claims.addr].filter(Boolean).join(' · '))
      : null,
    claims?.kind ? h('p', { class: 'gate-kind' }, t(`value.gate_pass.kind.${claims.kind}`)) : null,
    fever ? h('p', { class: 'gate-fever' }, t('gate.fever')) : null,
    h('button', { type: 'button', class: 'primary gate-next', onclick: onNext }, t('gate.next')));
}
