/** Let a coordinator or team leader take a dataset as CSV or XLSX, with its progress. */
import { language, t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { sortedChoices } from '../tasks/format.js';
import { DATASETS_BY_ROLE, FORMATS } from './download.js';

function options(pairs) {
  return pairs.map(([value, text]) => h('option', { value }, text));
}

function describe({ bytes, rows, fraction }) {
  const size = new Intl.NumberFormat(language(), { style: 'unit', unit: 'megabyte', maximumFractionDigits: 1 })
    .format(bytes / 1_000_000);
  if (fraction === null) return size;
  return t('exports.rows', { count: rows, size });
}

async function render({ user, names, exports }) {
  const datasets = DATASETS_BY_ROLE[user.role] ?? [];
  if (datasets.length === 0) return screen(t('section.exports'), { back: '/' }, h('p', {}, t('exports.not_allowed')));
  const compounds = await names.compounds();
  const dataset = h('select', { id: 'export-dataset', name: 'dataset' },
    ...options(datasets.map((name) => [name, t(`exports.dataset.${name}`)])));
  const format = h('select', { id: 'export-format', name: 'format' },
    ...options(FORMATS.map((name) => [name, t(`exports.format.${name}`)])));
  const compound = h('select', { id: 'export-compound', name: 'compound_id' },
    ...options([['', t('exports.all_compounds')], ...sortedChoices(compounds)]));
  const bar = h('progress', { id: 'export-progress', max: 1, hidden: true });
  const status = h('p', { id: 'export-status', role: 'status', 'aria-live': 'polite' });
  const start = h('button', { type: 'submit' }, t('exports.start'));

  function onProgress(progress) {
    bar.hidden = false;
    if (progress.fraction === null) bar.removeAttribute('value');
    else bar.value = progress.fraction;
    status.textContent = describe(progress);
  }

  async function onSubmit(event) {
    event.preventDefault();
    start.disabled = true;
    status.textContent = t('exports.preparing');
    try {
      await exports.save(dataset.value, format.value, { compound_id: compound.value }, onProgress);
      status.textContent = t('exports.done');
    } catch (error) {
      bar.hidden = true;
      status.textContent = t('exports.failed', { detail: error.message });
    } finally {
      start.disabled = false;
    }
  }

  return screen(t('section.exports'), { back: '/' },
    h('p', { class: 'lead' }, t('exports.lead')),
    h('form', { onsubmit: onSubmit },
      field(dataset.id, t('exports.dataset'), dataset),
      field(format.id, t('exports.format'), format, t('exports.format_hint')),
      field(compound.id, t('exports.compound'), compound),
      start),
    bar,
    status);
}

export default { render, uses: ['user', 'names', 'exports'] };
