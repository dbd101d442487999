/**
 * Print pass sheets for residents without a smartphone: a coordinator picks
 * a building and an end date; the server issues everyone there a new pass
 * (revoking the last printed one) and answers an A4 PDF, saved here.
 */
import { t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { localDay, NEIGHBOURHOOD_OFFSET_MINUTES } from './decide.js';

/** How long a printed pass is valid unless the coordinator says otherwise. */
const DEFAULT_DAYS = 14;

/**
 * Return the neighbourhood's day (YYYY-MM-DD) `days` days after `now` (ms since the epoch):
 * the form's default end. Not the UTC day, a day behind from 00:00 to 08:00 there.
 */
export function dateInput(days, now = Date.now()) {
  return localDay(now + days * 86_400_000, NEIGHBOURHOOD_OFFSET_MINUTES);
}

async function render(deps) {
  const buildings = (await deps.records.views('building')).filter((b) => !b.deleted)
    .sort((a, b) => (a.fields.number ?? 0) - (b.fields.number ?? 0));
  const compounds = await deps.names.compounds();
  const building = h('select', { id: 'print-building' }, ...buildings.map((b) =>
    h('option', { value: b.id }, `${compounds.get(b.fields.compound_id) ?? ''} ${b.fields.name}`)));
  const until = h('input', { id: 'print-until', type: 'date', value: dateInput(DEFAULT_DAYS), required: true });
  const error = h('p', { class: 'error', role: 'alert', id: 'print-error' });
  async function onSubmit(event) {
    event.preventDefault();
    if (!until.value) {
      error.textContent = t('gate.invalid.required', { field: t('field.gate_pass.valid_until') });
      until.focus();
      return;
    }
    error.textContent = '';
    // The end of the chosen day in the neighbourhood (China Standard Time).
    const body = { building_id: building.value, valid_until: `${until.value}T23:59:59+08:00` };
    try {
      await deps.files.save('/api/v1/gate/sheets', { method: 'POST', body, filename: 'passes.pdf' });
      deps.toast(t('gate.print.done'));
    } catch {
      error.textContent = t('gate.print.failed');
    }
  }
  return screen(t('gate.print.title'), { back: '/gate/log' },
    h('p', {}, t('gate.print.lead')),
    h('form', { onsubmit: onSubmit, novalidate: true },
      field('print-building', t('field.gate_pass.building_id'), building),
      field('print-until', t('field.gate_pass.valid_until'), until),
      error,
      h('button', { type: 'submit', class: 'primary' }, t('gate.print.submit'))));
}

export default { render, uses: ['records', 'names', 'files', 'toast'], follows: [] };
