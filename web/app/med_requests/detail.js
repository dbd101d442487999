/**
 * One medicine request and the clinician's decisions: urgency, then approve,
 * call first, refer to hospital or reject — the moves the declared state
 * machine offers this user from the request's state. Health details (the
 * medicine, dose, prescription) reach this screen only for the roles the
 * server sends them to (clinicians, coordinators, the volunteer who asked).
 */
import { allowedMoves, enumValues, machineOf, mayUpdateField } from '../declarations.js';
import { actionLabel, fieldLabel, t, valueLabel } from '../i18n.js';
import { syncBadge } from '../ui/badge.js';
import { h } from '../ui/dom.js';
import { mayViewPhotos } from '../photos.js';
import { photoInput, photoStates, photoView, pickedPhoto } from '../ui/photo.js';
import { field, screen } from '../ui/screen.js';
import { decisionChange, placesOf, TYPE, urgencyChange } from './rules.js';

/** Decisions drawn as a warning (a screen choice). */
const DANGER = new Set(['reject', 'refer', 'cancel']);

function facts(request, place, people) {
  const f = request.fields;
  const rows = [
    ['medicine', f.medicine], ['dose', f.dose],
    ['urgency', valueLabel(TYPE, 'urgency', f.urgency)], ['status', valueLabel(TYPE, 'status', f.status)],
    ['resident_id', place], ['prescription', f.prescription], ['notes', f.notes],
    ['requested_by', people.get(String(f.requested_by))?.name],
  ].filter(([, value]) => value);
  return h('dl', { class: 'facts', id: 'med-facts' },
    ...rows.flatMap(([name, value]) => [h('dt', {}, fieldLabel(TYPE, name)), h('dd', { class: 'prewrap' }, value)]));
}

/** A form that keeps a prescription photo of `request`, sent once the request has reached the server. */
function prescriptionForm(deps, request) {
  const keep = async (event) => {
    event.preventDefault();
    const file = pickedPhoto(event.currentTarget);
    if (!file) return;
    event.currentTarget.reset();
    try {
      await deps.photos.add('prescription', request.id, file);
      deps.toast(t('photo.kept'));
    } catch {
      deps.toast(t('photo.unreadable'), { urgent: true });
    }
  };
  return h('form', { class: 'action', id: 'med-photo', onsubmit: keep },
    photoInput('med-photo-file', t('photo.input.prescription')),
    h('button', { type: 'submit' }, t('photo.add')));
}

async function render(deps, { id }) {
  const { records, declarations, user, names } = deps;
  const [request, people, photos] = await Promise.all([records.view(TYPE, id), names.people(), deps.photos.ofRecord(id)]);
  if (!request || request.deleted) return screen(t('med.missing'), { back: '/med' }, h('p', {}, t('med.missing')));
  const place = (await placesOf(records, [request]))(request);
  const seen = mayViewPhotos('prescription', request, user) ? await deps.photos.shown(id) : undefined;
  const machine = machineOf(declarations, TYPE);
  const moves = allowedMoves(declarations, TYPE, request, user).map((move) => ({ ...move, field: machine.field }));
  const note = h('textarea', { id: 'med-note', name: 'notes', rows: 2 });
  const urgencyEditable = !machine?.final?.includes(request.fields.status) && mayUpdateField(declarations, TYPE, user.role, 'urgency');
  const urgency = h('select', { id: 'med-urgency', onchange: (event) => deps.queue([urgencyChange(request, event.target.value)], t('med.urgency_set')) },
    ...enumValues(declarations, TYPE, 'urgency').map((u) => h('option', { value: u, selected: u === request.fields.urgency }, valueLabel(TYPE, 'urgency', u))));
  const decide = (move) => () => deps.queue([decisionChange(request, move, { note: note.value, author: user.username })],
    t('med.decided_as', { status: valueLabel(TYPE, 'status', move.to) }));
  return screen(request.fields.medicine, { back: '/med' },
    request.sync === 'synced' ? null : h('p', {}, syncBadge(request.sync)),
    facts(request, place, people),
    seen === undefined ? null : photoView(seen, t('photo.input.prescription')),
    photoStates(photos),
    mayUpdateField(declarations, TYPE, user.role, 'prescription') ? prescriptionForm(deps, request) : null,
    request.fields.task_id ? h('p', {}, h('a', { href: `#/tasks/${encodeURIComponent(request.fields.task_id)}` }, t('med.open_task'))) : null,
    urgencyEditable ? field(urgency.id, fieldLabel(TYPE, 'urgency'), urgency) : null,
    moves.length ? h('section', { class: 'actions', 'aria-label': t('med.decisions') },
      mayUpdateField(declarations, TYPE, user.role, 'notes') ? field(note.id, t('common.optional', { label: fieldLabel(TYPE, 'notes') }), note) : null,
      h('div', { class: 'row' }, ...moves.map((move) => h('button', {
        type: 'button', class: DANGER.has(move.action) ? 'danger' : 'primary', 'data-action': move.action, onclick: decide(move),
      }, actionLabel(TYPE, move.action))))) : h('p', { class: 'hint' }, t('med.no_decisions')));
}

export default {
  render,
  uses: ['user', 'declarations', 'records', 'names', 'queue', 'photos', 'toast'],
  follows: ['record:med_request', 'outbox', 'people', 'declarations', 'photos'],
};
