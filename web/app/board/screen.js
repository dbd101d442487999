/**
 * The coordinator's live board: a column per task state, filters, a menu
 * for the picked task, and people to drop tasks on.
 *
 * Built for a wall screen with thousands of tasks: each column draws only
 * the cards its scroll box shows (plus a few either side), and a change of
 * some tasks — a live event, a pull, the user's own queued edit — moves or
 * redraws only those cards, through the `watch` service, instead of
 * redrawing the screen. Every move, assignment and hand-over is an ordinary
 * update queued in the outbox, offered only when the declarations allow it
 * (model.js dropAction, tasks/rules.js availableActions).
 */
import { enumValues, rulesAbsent } from '../declarations.js';
import { t } from '../i18n.js';
import { syncedView } from '../merge.js';
import { actionForm, CONFIRMED } from '../tasks/detail.js';
import { holderLabel, kindLabel, priorityLabel, sortedChoices, statusLabel } from '../tasks/format.js';
import { availableActions, changeFor, choices, TYPE } from '../tasks/rules.js';
import { syncBadge } from '../ui/badge.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { createBoard, dropAction, missingInputs, NO_FILTER, NOBODY, windowOf } from './model.js';

/** The performance mark made at the first frame after a change reached the cards (live.js marks the arrival). */
const PAINT_MARK = 'board:painted';
/** Pixels a card takes in its column, the gap below it included. */
const ROW = 88;
const GAP = 6;

// Kept while the app is open, for one user (`forget`, see router.js).
const kept = { filter: NO_FILTER, selected: null };

function forget() {
  Object.assign(kept, { filter: NO_FILTER, selected: null });
}

/** Return a card's drawn state: a card is redrawn only when this changes. */
function signature(task, people) {
  const { fields } = task;
  return [task.version, task.sync, fields.title, fields.status, fields.kind, fields.priority,
    fields.building_id, fields.compound_id, fields.assignee_id, people.get(String(fields.assignee_id))?.name].join('\u0001');
}

/** People a task may be handed to: those whose role may hold it (declared claim roles). */
function holders(deps, people) {
  const claim = deps.declarations.types?.[TYPE]?.state_machine?.transitions.find((edge) => edge.claim);
  const roles = new Set(claim?.roles ?? []);
  return [...people].filter(([, person]) => roles.has(person.role)).sort(([, a], [, b]) => a.name.localeCompare(b.name));
}

function select(id, label, options, value, onchange) {
  return field(id, label, h('select', { id, onchange },
    ...options.map(([optionValue, text]) => h('option', { value: optionValue, selected: optionValue === value }, text))));
}

function buildingOptions(names, buildingsOf, compound) {
  const inCompound = compound ? sortedChoices(names.buildings, (id) => buildingsOf.get(id) === compound) : [];
  return [['', t('tasks.filter.any_building')], ...inCompound];
}

function createView(deps, board, names, buildingsOf) {
  const { declarations, user } = deps;
  const people = holders(deps, names.people);
  let dragging = null; // id of the card being dragged
  let seen = false; // the screen has been on the page
  let stop = () => {};

  // -- cards and columns -------------------------------------------------

  function card(task) {
    const { fields } = task;
    const place = names.buildings.get(fields.building_id) ?? names.compounds.get(fields.compound_id) ?? '';
    const node = h('li', {
      class: `board-card priority-${fields.priority ?? 3}${task.id === kept.selected ? ' is-selected' : ''}`,
      draggable: 'true',
      'data-id': task.id,
      ondragstart: (event) => {
        dragging = task.id;
        event.dataTransfer.setData('text/plain', task.id);
        event.dataTransfer.effectAllowed = 'move';
      },
      ondragend: () => {
        dragging = null;
        for (const target of root.querySelectorAll('.is-drop-target')) target.classList.remove('is-drop-target');
      },
    },
    h('button', { type: 'button', class: 'board-card-open', 'aria-controls': 'board-panel', onclick: () => pick(task.id) },
      h('span', { class: 'board-card-title' }, fields.title),
      h('span', { class: 'board-card-meta' }, [kindLabel(fields.kind), priorityLabel(fields.priority), place].filter(Boolean).join(' · ')),
      h('span', { class: 'board-card-holder' }, holderLabel(task, user, names.people))),
    task.sync === 'synced' ? null : syncBadge(task.sync));
    node.style.height = `${ROW - GAP}px`;
    return node;
  }

  /** Make `element` a drop target for `target` ({status} or {assignee}). */
  function dropZone(element, target) {
    const action = () => (dragging ? dropAction(declarations, board.get(dragging), user, target) : null);
    element.addEventListener('dragover', (event) => {
      if (!action()) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'move';
      element.classList.add('is-drop-target');
    });
    element.addEventListener('dragleave', () => element.classList.remove('is-drop-target'));
    element.addEventListener('drop', async (event) => {
      event.preventDefault();
      element.classList.remove('is-drop-target');
      const task = board.get(dragging ?? event.dataTransfer.getData('text/plain'));
      dragging = null;
      if (task) await dropped(task, target);
    });
  }

  function column(name) {
    const heading = h('h2', { id: `board-h-${name}` }, statusLabel(name), ' ', h('span', { class: 'board-count' }));
    const rows = h('ol', { class: 'board-rows', 'aria-labelledby': heading.id });
    const scroller = h('div', { class: 'board-scroll', tabindex: '0', 'aria-labelledby': heading.id }, rows);
    const view = { name, heading, rows, scroller, cards: new Map(), size: -1, scrollQueued: false };
    scroller.addEventListener('scroll', () => {
      if (view.scrollQueued) return;
      view.scrollQueued = true;
      requestAnimationFrame(() => {
        view.scrollQueued = false;
        paintColumn(view);
      });
    });
    dropZone(scroller, { status: name });
    return view;
  }

  /** Draw the cards of a column's window, reusing every card whose task did not change. */
  function paintColumn(view) {
    const list = board.column(view.name);
    if (view.size !== list.length) {
      view.size = list.length;
      view.rows.style.height = `${list.length * ROW}px`;
      view.heading.lastChild.textContent = String(list.length);
    }
    const viewport = view.scroller.clientHeight || globalThis.innerHeight;
    const [start, end] = windowOf({ scrollTop: view.scroller.scrollTop, viewport, row: ROW, count: list.length });
    const next = new Map();
    for (let index = start; index < end; index += 1) {
      const task = list[index];
      const sig = signature(task, names.people);
      const old = view.cards.get(task.id);
      const entry = old?.sig === sig ? old : { node: card(task), sig, index: -1, size: -1 };
      if (entry.index !== index) {
        entry.node.style.transform = `translateY(${index * ROW}px)`;
        entry.node.setAttribute('aria-posinset', String(index + 1));
        entry.index = index;
      }
      if (entry.size !== list.length) {
        entry.node.setAttribute('aria-setsize', String(list.length));
        entry.size = list.length;
      }
      next.set(task.id, entry);
    }
    for (const [id, entry] of view.cards) if (next.get(id) !== entry) entry.node.remove();
    let at = view.rows.firstChild;
    for (const { node } of next.values()) {
      if (at === node) at = at.nextSibling;
      else view.rows.insertBefore(node, at);
    }
    view.cards = next;
  }

  const columns = board.columns.map(column);

  function markPainted(ids) {
    // Only the latest mark is kept: a wall screen runs for days.
    performance.clearMarks(PAINT_MARK);
    performance.mark(PAINT_MARK, { detail: { ids } });
  }

  /** Draw the columns named in `only` (all by default); mark the next frame with the task ids. */
  function paint(only = null, ids = []) {
    for (const view of columns) if (!only || only.has(view.name)) paintColumn(view);
    requestAnimationFrame(() => markPainted(ids));
  }

  // Changes are drawn together at the next frame: a column once a frame at most.
  const dirty = { columns: new Set(), ids: new Set(), queued: false };

  function paintSoon(touched, ids) {
    for (const name of touched) dirty.columns.add(name);
    for (const id of ids) dirty.ids.add(id);
    if (dirty.queued) return;
    dirty.queued = true;
    requestAnimationFrame(() => {
      dirty.queued = false;
      const only = new Set(dirty.columns);
      const painted = [...dirty.ids];
      dirty.columns.clear();
      dirty.ids.clear();
      if (!root.isConnected) return;
      for (const view of columns) if (only.has(view.name)) paintColumn(view);
      markPainted(painted);
    });
  }

  // -- the menu of the picked task -------------------------------------

  const panelBody = h('div', { class: 'board-panel-body' });
  const panel = h('aside', { class: 'board-panel', id: 'board-panel', 'aria-label': t('board.menu') }, panelBody);

  function drawPanel() {
    const task = kept.selected ? board.get(kept.selected) : null;
    if (!task) {
      panelBody.replaceChildren(h('p', { class: 'hint' }, t('board.pick_hint')));
      return;
    }
    const actions = availableActions(declarations, task, user);
    panelBody.replaceChildren(
      h('h2', {}, task.fields.title),
      h('p', { class: 'board-panel-facts' }, [statusLabel(task.fields.status), holderLabel(task, user, names.people)].join(' · ')),
      task.sync === 'synced' ? null : h('p', {}, syncBadge(task.sync)),
      ...actions.map((action) => actionForm(deps, task, action, names.people)),
      actions.length ? null : h('p', { class: 'hint' }, t('task.no_actions')),
      h('p', {}, h('a', { href: `#/tasks/${encodeURIComponent(task.id)}` }, t('board.open_task'))));
  }

  function pick(id, focusAction = null) {
    const before = kept.selected;
    kept.selected = id;
    for (const view of columns) {
      view.cards.get(before)?.node.classList.remove('is-selected');
      view.cards.get(id)?.node.classList.add('is-selected');
    }
    drawPanel();
    const form = focusAction ? panel.querySelector(`#task-${CSS.escape(focusAction)}`) : null;
    const heading = panel.querySelector('h2');
    heading?.setAttribute('tabindex', '-1');
    (form?.querySelector('input, textarea, select') ?? heading)?.focus();
  }

  /** Take a dropped task: queue the change, or open the menu when it needs more or asks first. */
  async function dropped(task, target) {
    const action = dropAction(declarations, task, user, target);
    if (!action) return;
    if (missingInputs(action).length || CONFIRMED.has(action.action)) {
      pick(task.id, action.action);
      return;
    }
    const change = changeFor(declarations, action, task, user, { assignee: action.assignee });
    await deps.queue([change], t(`task.done_message.${action.action}`));
  }

  // -- filters ---------------------------------------------------------

  const buildingSelect = () => root.querySelector('#board-building');

  function choose(key) {
    return (event) => {
      const filter = { ...board.filter, [key]: event.target.value };
      if (key === 'compound') {
        filter.building = '';
        buildingSelect().replaceChildren(...buildingOptions(names, buildingsOf, filter.compound)
          .map(([value, text]) => h('option', { value }, text)));
      }
      kept.filter = filter;
      board.setFilter(filter);
      for (const view of columns) view.scroller.scrollTop = 0;
      paint();
    };
  }

  const filter = board.filter;
  const filters = h('div', { class: 'filters' },
    select('board-compound', t('tasks.filter.compound'), [['', t('tasks.filter.any_compound')], ...sortedChoices(names.compounds)],
      filter.compound, choose('compound')),
    select('board-building', t('tasks.filter.building'), buildingOptions(names, buildingsOf, filter.compound), filter.building, choose('building')),
    select('board-kind', t('board.filter.kind'), [['', t('board.filter.any_kind')],
      ...enumValues(declarations, TYPE, 'kind').map((kind) => [kind, kindLabel(kind)])], filter.kind, choose('kind')),
    select('board-priority', t('board.filter.priority'), [['', t('board.filter.any_priority')],
      ...choices(declarations, 'priority').map((p) => [String(p), priorityLabel(p)])], filter.priority, choose('priority')),
    select('board-assignee', t('board.filter.assignee'), [['', t('board.filter.anyone')], [NOBODY, t('task.unassigned')],
      ...people.map(([id, person]) => [id, person.name])], filter.assignee, choose('assignee')));

  const peopleList = h('ul', { class: 'board-people-list' }, ...people.map(([id, person]) => {
    const item = h('li', { class: 'board-person', 'data-user': id }, person.name);
    dropZone(item, { assignee: id });
    return item;
  }));

  const root = h('div', { class: 'board' },
    filters,
    h('p', { class: 'hint' }, t('board.hint')),
    h('div', { class: 'board-layout' },
      h('div', { class: 'board-columns' }, ...columns.map((view) => h('section', { class: 'board-column', 'data-status': view.name },
        view.heading, view.scroller))),
      h('div', { class: 'board-side' },
        panel,
        h('section', { class: 'board-people', 'aria-labelledby': 'board-people-h' },
          h('h2', { id: 'board-people-h' }, t('board.people')),
          h('p', { class: 'hint' }, t('board.people_hint')),
          peopleList))));

  // -- changes ---------------------------------------------------------

  const pending = new Set();
  const incoming = [];
  let reloadAll = false;
  let busy = false;

  /** Put views on the board (never one older than the board's); repaint what moved. */
  function show(views, ids) {
    const touched = new Set();
    views.forEach((view, i) => {
      const current = board.get(ids[i]);
      if (view && current && view.version < current.version) return; // a later one is already shown
      for (const name of board.put(view ?? { id: ids[i], deleted: true, fields: {} })) touched.add(name);
    });
    paintSoon(touched, ids);
    if (ids.includes(kept.selected) && !panel.contains(document.activeElement)) drawPanel();
  }

  async function applyChanges() {
    busy = true;
    try {
      while (pending.size || incoming.length || reloadAll) {
        if (!root.isConnected) {
          if (seen) stop();
          return;
        }
        if (reloadAll) {
          reloadAll = false;
          pending.clear();
          incoming.length = 0;
          board.load(await deps.records.views(TYPE));
          paint();
          drawPanel();
          continue;
        }
        if (incoming.length) {
          // A card with no queued change shows the server's record as it comes;
          // one with queued changes shows it with them re-applied (the outbox is read).
          const records = incoming.splice(0);
          const queued = (record) => board.get(record.id)?.changesetIds?.length > 0;
          const plain = records.filter((record) => !queued(record));
          const overlaid = records.filter(queued);
          show(plain.map(syncedView), plain.map((record) => record.id));
          if (overlaid.length) show(await deps.records.overlay(TYPE, overlaid), overlaid.map((record) => record.id));
          continue;
        }
        const ids = [...pending];
        pending.clear();
        show(await deps.records.some(TYPE, ids), ids);
      }
    } finally {
      busy = false;
    }
  }

  /** Whether the board shows the stored version `key` names already (painted on arrival). */
  function shown(key) {
    const task = board.get(key.id);
    return Number.isInteger(key.version) && task !== null && task.version >= key.version
      && task.sync === 'synced' && !task.changesetIds?.length;
  }

  function onChange(keys) {
    if (keys === null) reloadAll = true;
    else {
      for (const key of keys) {
        if (key.type !== TYPE) continue;
        if (key.record) incoming.push(key.record);
        else if (!shown(key)) pending.add(key.id);
      }
    }
    if (!busy && (pending.size || incoming.length || reloadAll)) applyChanges();
  }

  stop = deps.watch(onChange);
  drawPanel();
  paint();
  // Columns know their height once on the page: draw their windows again then.
  requestAnimationFrame(() => {
    if (!root.isConnected) {
      stop();
      return;
    }
    seen = true;
    paint();
    if (!busy && (pending.size || incoming.length || reloadAll)) applyChanges();
  });
  return root;
}

async function render(deps) {
  const { declarations, names: lookup, records } = deps;
  if (!declarations) return screen(t('section.board'), { back: '/' }, h('p', {}, t(rulesAbsent(deps))));
  const [compounds, buildings, people, buildingRecords, tasks] = await Promise.all([
    lookup.compounds(), lookup.buildings(), lookup.people(), records.views('building'), records.views(TYPE),
  ]);
  const buildingsOf = new Map(buildingRecords.map((b) => [b.id, b.fields.compound_id]));
  const board = createBoard(declarations);
  board.setFilter(kept.filter);
  board.load(tasks);
  return screen(t('section.board'), { back: '/' }, createView(deps, board, { compounds, buildings, people }, buildingsOf));
}

export default {
  forget,
  render,
  uses: ['user', 'declarations', 'declarationsLoading', 'records', 'names', 'queue', 'redraw', 'watch'],
  follows: ['people', 'declarations'],
};
