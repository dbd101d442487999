/**
 * Volunteers and shifts. A volunteer signs up (skills, languages, team),
 * sees their shifts and reports arriving; a coordinator sees who is on duty
 * now and who is missing, by post.
 */
import { mayCreate, enumValues } from '../declarations.js';
import { formatList, t, valueLabel } from '../i18n.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { dutyOf, DUTIES, ownShifts, SHIFT, shiftsOfDay, signUpChange, signUpId, VOLUNTEER } from './duty.js';
import { shiftLine } from './format.js';

function signUpForm(deps, mine, compounds) {
  const { declarations } = deps;
  const error = h('p', { class: 'error', role: 'alert', id: 'sign-up-error' });
  const current = mine?.fields ?? {};
  async function submit(event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    let change;
    try {
      change = signUpChange(declarations, mine, await signUpId(deps.user.id), {
        name: data.get('name'), team: data.get('team'), skills: data.getAll('skills'), languages: data.get('languages'),
        compound_id: data.get('compound_id'),
      });
    } catch (problem) {
      if (!problem.problem) throw problem;
      error.textContent = t(`task.${problem.problem.key}`, { ...problem.problem.params, field: t(`field.volunteer.${problem.field}`) });
      return;
    }
    await deps.queue([change], t(mine ? 'shifts.sign_up_saved' : 'shifts.signed_up'));
  }
  return h('form', { class: 'card', onsubmit: submit, novalidate: true, 'aria-label': t('shifts.sign_up') },
    h('h2', {}, t(mine ? 'shifts.my_sign_up' : 'shifts.sign_up')),
    field('sign-up-name', t('field.volunteer.name'), h('input', { id: 'sign-up-name', name: 'name', value: current.name ?? deps.user.display_name ?? '', required: true })),
    mine ? null : field('sign-up-compound', t('field.volunteer.compound_id'), h('select', { id: 'sign-up-compound', name: 'compound_id' },
      ...[...compounds].map(([id, name]) => h('option', { value: id }, name)))),
    h('fieldset', { class: 'choices' }, h('legend', {}, t('field.volunteer.skills')),
      ...enumValues(declarations, VOLUNTEER, 'skills').map((skill) => h('label', { class: 'choice', for: `skill-${skill}` },
        h('input', { type: 'checkbox', id: `skill-${skill}`, name: 'skills', value: skill, checked: (current.skills ?? []).includes(skill) }),
        h('span', {}, valueLabel(VOLUNTEER, 'skills', skill))))),
    field('sign-up-languages', t('field.volunteer.languages'), h('input', { id: 'sign-up-languages', name: 'languages', value: (current.languages ?? []).join(', ') }),
      t('shifts.languages_hint')),
    field('sign-up-team', t('common.optional', { label: t('field.volunteer.team') }), h('input', { id: 'sign-up-team', name: 'team', value: current.team ?? '' })),
    error,
    h('button', { type: 'submit', class: 'primary' }, t(mine ? 'shifts.save_sign_up' : 'shifts.sign_up')));
}

function myShifts(deps, shifts) {
  const now = new Date();
  const arrive = (shift) => async () => {
    const change = { type: SHIFT, id: shift.id, op: 'update', base_version: shift.version ?? 0, fields: { arrived_at: new Date().toISOString() } };
    await deps.queue([change], t('shifts.arrived_saved', { post: shift.fields.post }));
  };
  return h('section', { 'aria-label': t('shifts.mine') }, h('h2', {}, t('shifts.mine')),
    shifts.length ? h('ul', { class: 'cards' }, ...shifts.map((shift) => {
      const duty = dutyOf(shift, now);
      return h('li', { class: 'card' }, h('p', {}, h('strong', {}, shiftLine(shift)), ' · ', t(`shifts.duty.${duty}`)),
        duty === 'missing' || (duty === 'upcoming' && !shift.fields.arrived_at)
          ? h('button', { type: 'button', class: 'primary big', onclick: arrive(shift) }, t('shifts.arrive'))
          : null);
    })) : h('p', { class: 'empty' }, t('shifts.none_mine')));
}

function roster(shifts, volunteers) {
  const now = new Date();
  const names = new Map(volunteers.map((v) => [v.id, v]));
  const byDuty = new Map(DUTIES.map((duty) => [duty, []]));
  for (const shift of shiftsOfDay(shifts, now)) byDuty.get(dutyOf(shift, now)).push(shift);
  return DUTIES.filter((duty) => duty !== 'over').map((duty) => h('section', { class: `duty is-${duty}`, 'aria-label': t(`shifts.group.${duty}`) },
    h('h2', {}, t(`shifts.group.${duty}`, { count: byDuty.get(duty).length })),
    byDuty.get(duty).length ? h('ul', { class: 'cards' }, ...byDuty.get(duty).map((shift) => {
      const volunteer = names.get(shift.fields.volunteer_id);
      const skills = (volunteer?.fields.skills ?? []).map((skill) => valueLabel(VOLUNTEER, 'skills', skill));
      return h('li', { class: 'card' }, h('strong', {}, volunteer?.fields.name ?? t('screening.someone')), ' · ', shiftLine(shift),
        skills.length ? h('p', { class: 'hint' }, formatList(skills)) : null);
    })) : h('p', { class: 'empty' }, t('shifts.nobody'))));
}

async function render(deps) {
  const { records, names, user, declarations } = deps;
  const [shifts, volunteers, compounds] = await Promise.all([records.views(SHIFT), records.views(VOLUNTEER), names.compounds()]);
  if (mayCreate(declarations, SHIFT, user.role)) return screen(t('shifts.title'), { back: '/' }, ...roster(shifts, volunteers));
  const mine = volunteers.find((v) => String(v.fields.user_id) === String(user.id)) ?? null;
  return screen(t('shifts.title'), { back: '/' },
    myShifts(deps, ownShifts(shifts, user).filter((shift) => dutyOf(shift, new Date()) !== 'over')),
    signUpForm(deps, mine, compounds));
}

export default {
  render,
  uses: ['records', 'names', 'user', 'declarations', 'queue'],
  follows: ['record:shift', 'record:volunteer', 'declarations'],
};
