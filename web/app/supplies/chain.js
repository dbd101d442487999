/**
 * Import a WeChat 接龙 (chain list): paste it, let the server read every
 * line (server/chain_list.py), review each line it could not match or found
 * twice — pick the household, or skip it, or fix the text and read again —
 * then confirm: the ready lines become orders in one queued changeset,
 * judged by the server like any order (stock, cut-off). Nothing is dropped
 * silently: confirming waits until every line is either taken or skipped.
 */
import { t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { byId, linesText, roundName } from './format.js';
import { firstDecisions, ORDER, orderChange, orderIdOf, review } from './rules.js';

// Kept while the app is open, per round, for one user (`forget`, see router.js):
// the pasted text and what was read.
const drafts = new Map();

function forget() {
  drafts.clear();
}

function draftOf(roundId) {
  if (!drafts.has(roundId)) drafts.set(roundId, { text: '', read: null, decisions: new Map() });
  return drafts.get(roundId);
}

function entryCard(entry, decision, labels, redraw) {
  const problems = entry.problems.map((p) => t(`chain.problem.${p.code}`, { text: p.text }));
  const id = `entry-${entry.line}`;
  const choose = entry.candidates.length
    ? field(`${id}-home`, t('chain.pick_household'), h('select', { id: `${id}-home`, onchange: (event) => {
      Object.assign(decision, { household: event.target.value || null, take: event.target.value ? true : null });
      redraw();
    } }, h('option', { value: '' }, t('orders.choose_room')),
    ...entry.candidates.map((c) => h('option', { value: c, selected: decision.household === c }, labels[c] ?? c))))
    : null;
  const state = decision.take === null ? 'waiting' : decision.take ? 'taken' : 'skipped';
  return h('li', { class: `card chain-entry is-${state}`, 'data-line': entry.line },
    h('p', {}, h('code', {}, entry.text)),
    decision.household ? h('p', {}, h('strong', {}, labels[decision.household] ?? ''), entry.lines.length ? ` · ${linesText(entry.lines, labels.packages)}` : '') : null,
    problems.length ? h('ul', { class: 'problems' }, ...problems.map((p) => h('li', { class: 'error' }, p))) : null,
    choose,
    h('p', { class: 'task-meta' }, t(`chain.state.${state}`)),
    h('div', { class: 'row' },
      decision.take !== false ? h('button', { type: 'button', class: 'chain-skip', onclick: () => { decision.take = false; redraw(); } }, t('chain.skip')) : null,
      decision.take === false && (entry.household_id || decision.household) && entry.lines.length
        ? h('button', { type: 'button', class: 'chain-take', onclick: () => { Object.assign(decision, { take: true, household: decision.household ?? entry.household_id }); redraw(); } }, t('chain.take'))
        : null));
}

async function render(deps, { id }) {
  const { records } = deps;
  const round = await records.view('supply_round', id);
  const back = `/supplies/${encodeURIComponent(id)}`;
  if (!round || round.deleted) return screen(t('supplies.missing'), { back: '/supplies' });
  const packages = byId(await records.views('package', { supply_round_id: id }));
  const draft = draftOf(id);
  const text = h('textarea', { id: 'chain-text', rows: 8, value: draft.text });
  const status = h('p', { 'aria-live': 'polite', id: 'chain-status' });

  async function read(event) {
    event.preventDefault();
    draft.text = text.value;
    try {
      draft.read = await deps.supplies.readChainList(id, text.value);
      draft.decisions = firstDecisions(draft.read.entries);
    } catch (error) {
      status.textContent = t('chain.read_failed', { detail: error.problem?.detail ?? error.message });
      return;
    }
    await deps.redraw();
  }

  async function confirm() {
    const { waiting, taken } = review(draft.read.entries, draft.decisions);
    if (waiting.length) {
      status.textContent = t('chain.still_waiting', { count: waiting.length });
      return;
    }
    const changes = [];
    for (const entry of taken) {
      const household = draft.decisions.get(entry.line).household;
      const existing = await records.view(ORDER, await orderIdOf(id, household));
      const quantities = Object.fromEntries(entry.lines.map((line) => [line.package_id, line.qty]));
      changes.push(await orderChange({ round, householdId: household, quantities, channel: 'resident', existing }));
    }
    if (!changes.length) {
      status.textContent = t('chain.nothing_taken');
      return;
    }
    await deps.queue(changes, t('chain.queued', { count: changes.length }));
    drafts.delete(id);
    deps.navigate(back);
  }

  const entries = draft.read?.entries ?? [];
  const labels = { ...(draft.read?.households ?? {}), packages };
  const { waiting, taken } = draft.read ? review(entries, draft.decisions) : { waiting: [], taken: [] };
  return screen(t('chain.title'), { back },
    h('p', { class: 'lead' }, roundName(round)),
    h('form', { onsubmit: read, novalidate: true },
      field(text.id, t('chain.paste'), text, t('chain.paste_hint')),
      h('button', { type: 'submit', class: draft.read ? '' : 'primary', id: 'chain-read' }, t('chain.read'))),
    draft.read ? [
      h('p', { class: 'count', id: 'chain-summary' }, t('chain.summary', { taken: taken.length, waiting: waiting.length, total: entries.length })),
      h('ul', { class: 'cards', id: 'chain-entries' }, ...entries.map((entry) => entryCard(entry, draft.decisions.get(entry.line), labels, deps.redraw))),
      h('button', { type: 'button', class: 'primary', id: 'chain-confirm', onclick: confirm }, t('chain.confirm', { count: taken.length })),
    ] : null,
    status);
}

export default { render, forget, uses: ['records', 'queue', 'navigate', 'redraw', 'supplies'], follows: ['record:supply_round', 'record:package'] };
