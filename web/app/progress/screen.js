/**
 * Progress per compound and building, for a wall screen: coverage as bars,
 * counts in large type, and a chart of the day hour by hour (uPlot, loaded
 * only on this screen).
 *
 * The figures are the server's (progress/source.js), fetched at most every
 * REFRESH_MS while the screen is shown and when records it counts arrive;
 * offline, the last answer stays on screen with the time it was counted.
 */
import { formatTime, language, naturalCompare, t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';
import { byCompound, hourlySeries, share, shownMeasures, startOfDay } from './model.js';

/** How long an answer is shown before the next one is asked for. */
const REFRESH_MS = 20_000;
const CHART_HEIGHT = 280;
const UPLOT = '../../vendor/uplot/uPlot.esm.js';
const UPLOT_CSS = '/vendor/uplot/uPlot.min.css';
/** Series colours: the theme's, so the chart reads in dark and light alike. */
const SERIES_COLOURS = ['--accent', '--ok', '--focus', '--danger', '--muted'];

let last = null; // {answer, at, fresh, loadedAt}, for one user (`forget`, see router.js)
let refreshTimer = null;

/** Drop the last answer (the router calls it when the user changes). */
function forget() {
  last = null;
}

function percent(fraction) {
  return new Intl.NumberFormat(language(), { style: 'percent', maximumFractionDigits: 0 }).format(fraction);
}

function bar(figures, coverage) {
  const fraction = share(figures, coverage);
  const fill = h('span', { class: 'bar-fill' });
  fill.style.width = `${(fraction * 100).toFixed(1)}%`;
  return h('span', { class: 'bar' },
    h('span', { class: 'bar-track', 'aria-hidden': 'true' }, fill),
    h('span', { class: 'bar-text' }, t('progress.share', {
      done: figures[coverage.done] ?? 0, of: figures[coverage.of] ?? 0, percent: percent(fraction),
    })));
}

function compoundSection(compound, names, shown) {
  const heading = `progress-${compound.id}`;
  const total = (name) => compound.totals[name] ?? 0;
  return h('section', { class: 'progress-compound', 'aria-labelledby': heading },
    h('h2', { id: heading }, names.compounds.get(compound.id) ?? compound.id),
    h('dl', { class: 'progress-totals' },
      ...shown.coverage.map((c) => h('div', {}, h('dt', {}, t(`progress.coverage.${c.name}`)), h('dd', {}, bar(compound.totals, c)))),
      ...shown.counts.map((name) => h('div', { class: 'progress-count' },
        h('dt', {}, t(`progress.measure.${name}`)), h('dd', {}, String(total(name)))))),
    compound.buildings.length
      ? h('table', { class: 'progress-buildings' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, t('progress.building')),
          ...shown.coverage.map((c) => h('th', { scope: 'col' }, t(`progress.coverage.${c.name}`))),
          ...shown.counts.map((name) => h('th', { scope: 'col' }, t(`progress.measure.${name}`))))),
        h('tbody', {}, ...compound.buildings.map((building) => h('tr', {},
          h('th', { scope: 'row' }, names.buildings.get(building.id) ?? building.id),
          ...shown.coverage.map((c) => h('td', {}, bar(building.figures, c))),
          ...shown.counts.map((name) => h('td', { class: 'number' }, String(building.figures[name] ?? 0)))))))
      : null);
}

/** Draw the day's chart into `box` once it is on the page (uPlot measures its width). */
async function drawChart(box, answer) {
  const { names, data } = hourlySeries(answer);
  if (!names.length || !box.isConnected) return;
  if (!document.querySelector(`link[href="${UPLOT_CSS}"]`)) {
    document.head.append(h('link', { rel: 'stylesheet', href: UPLOT_CSS }));
  }
  const { default: UPlot } = await import(UPLOT);
  const style = getComputedStyle(document.documentElement);
  const colour = (i) => style.getPropertyValue(SERIES_COLOURS[i % SERIES_COLOURS.length]).trim();
  const text = style.getPropertyValue('--text').trim();
  const grid = { stroke: style.getPropertyValue('--border').trim(), width: 1 };
  const axis = { stroke: text, grid, ticks: grid, font: '16px system-ui, sans-serif' };
  // Hours in the user's language: uPlot's own labels and time formats are English.
  const hour = new Intl.DateTimeFormat(language(), { hour: 'numeric', minute: '2-digit' });
  const at = (seconds) => (seconds == null ? '' : hour.format(new Date(seconds * 1000)));
  box.replaceChildren();
  new UPlot({
    width: Math.max(320, box.clientWidth),
    height: CHART_HEIGHT,
    scales: { x: { time: true } },
    axes: [{ ...axis, values: (_chart, splits) => splits.map(at) }, { ...axis, size: 60 }],
    series: [{ label: t('progress.hour'), value: (_chart, seconds) => at(seconds) },
      ...names.map((name, i) => ({ label: t(`progress.series.${name}`), stroke: colour(i), width: 3 }))],
  }, data, box);
}

function chartSection(answer) {
  const { names, data } = hourlySeries(answer);
  if (!names.length) return null;
  const sums = names.map((name, i) => `${t(`progress.series.${name}`)}: ${data[i + 1].reduce((a, b) => a + b, 0)}`);
  const box = h('div', { class: 'progress-chart', role: 'img', 'aria-label': `${t('progress.chart')}. ${sums.join('; ')}` });
  requestAnimationFrame(() => drawChart(box, answer).catch(() => box.replaceChildren(h('p', { class: 'hint' }, sums.join(' · ')))));
  return h('section', { class: 'progress-day', 'aria-labelledby': 'progress-day-h' },
    h('h2', { id: 'progress-day-h' }, t('progress.chart')), box);
}

/** Ask for a fresh answer when this one is due, if the screen is still shown. */
function scheduleRefresh(redraw) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    if (globalThis.location.hash === '#/progress') redraw();
  }, REFRESH_MS);
}

async function render({ user, names: lookup, progress, redraw }) {
  const due = !last || Date.now() - last.loadedAt >= REFRESH_MS;
  let failure = null;
  if (due) {
    try {
      const loaded = await progress.load(user.id, startOfDay());
      last = loaded ? { ...loaded, loadedAt: Date.now() } : null;
    } catch (error) {
      failure = error;
    }
  }
  scheduleRefresh(redraw);
  const title = t('section.progress');
  if (failure) return screen(title, { back: '/' }, h('p', { class: 'error', role: 'alert' }, t('progress.failed', { detail: failure.message })));
  if (!last) return screen(title, { back: '/' }, h('p', {}, t('progress.none')));
  const [compounds, buildings] = await Promise.all([lookup.compounds(), lookup.buildings()]);
  const names = { compounds, buildings };
  const shown = shownMeasures(last.answer);
  return screen(title, { back: '/' },
    h('p', { class: last.fresh ? 'progress-asof' : 'progress-asof notice' },
      t(last.fresh ? 'progress.as_of' : 'progress.offline_as_of', { time: formatTime(last.at) })),
    chartSection(last.answer),
    ...byCompound(last.answer, names, naturalCompare).map((compound) => compoundSection(compound, names, shown)));
}

export default {
  render,
  forget,
  uses: ['user', 'names', 'progress', 'redraw'],
  follows: ['record:visit', 'record:order', 'record:med_request', 'record:test_result', 'record:gate_event'],
};
