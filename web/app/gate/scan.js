/**
 * The gate: scan a pass (camera, a photo of it, or its code typed in), or
 * find it by address when the QR is damaged; decide on the device with no
 * network; record every decision as a gate_event through the outbox.
 */
import { enumValues, fieldSchema } from '../declarations.js';
import { t } from '../i18n.js';
import { newId } from '../ids.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { decodeFile, startCamera } from './camera.js';
import { exitsOn, gateEventChange, judgeRecord, judgeToken, policyOf, warnings } from './check.js';
import { decisionPanel } from './decision.js';
import { measureClock, postName, readClockOffset, rememberPost } from './station.js';

// Kept while the app is open, for one user (`forget`, see router.js): the
// guard's direction, the compound, the last decision and the passes found.
const FRESH = { direction: 'out', result: null, compoundId: null, found: null };
const state = { ...FRESH };
let stopCamera = null;

/** Forget the last decision and the rest (the router calls it when the user changes). */
function forget() {
  Object.assign(state, FRESH);
}

async function context(deps, compound) {
  const [policyRecord] = await deps.records.views('gate_policy', { compound_id: compound.id });
  const policy = policyOf(compound, policyRecord);
  return {
    compound,
    policy,
    direction: state.direction,
    now: new Date(),
    isRevoked: async (pid) => (await deps.records.view('gate_pass', pid))?.fields?.revoked === true,
    exitsToday: async (pid, day) => exitsOn(
      await deps.records.views('gate_event', { compound_id: compound.id }), pid, day, policy.fields.utc_offset_minutes ?? 0),
  };
}

async function record(deps, compound, judgement, temperature) {
  const now = new Date();
  const kinds = enumValues(deps.declarations, 'gate_event', 'pass_kind');
  const change = gateEventChange({
    id: newId(), compoundId: compound.id, post: postName(), direction: state.direction,
    judgement, temperature, now, kinds,
  });
  const threshold = judgement.policyFields?.fever_threshold_c;
  state.result = { ...judgement, fever: temperature !== null && threshold !== undefined && temperature >= threshold };
  await deps.queue([change], t('gate.recorded'));
}

function temperatureOf(input) {
  const value = input.value.trim();
  if (!value) return null;
  const number = Number(value.replace(',', '.'));
  return Number.isFinite(number) ? number : Number.NaN;
}

async function render(deps) {
  const compounds = (await deps.records.views('compound')).filter((c) => !c.deleted);
  if (!compounds.length) return screen(t('gate.title'), { back: '/' }, h('p', {}, t('gate.no_compound')));
  const compound = compounds.find((c) => c.id === state.compoundId) ?? compounds[0];
  void measureClock();
  const shown = warnings({ lastSyncAt: deps.syncedAt(), now: new Date(), clockOffsetMs: readClockOffset() });
  const error = h('p', { class: 'error', role: 'alert', id: 'gate-error' });
  const temperature = h('input', { id: 'gate-temperature', type: 'text', inputmode: 'decimal', autocomplete: 'off' });
  const schema = fieldSchema(deps.declarations, 'gate_event', 'temperature_c') ?? {};

  async function decideWith(judge) {
    const celsius = temperatureOf(temperature);
    if (Number.isNaN(celsius) || (celsius !== null && (celsius < schema.minimum || celsius > schema.maximum))) {
      error.textContent = t('gate.bad_temperature', { min: schema.minimum, max: schema.maximum });
      temperature.focus();
      return;
    }
    const ctx = await context(deps, compound);
    const judgement = await judge(ctx);
    judgement.policyFields = ctx.policy.fields;
    await record(deps, compound, judgement, celsius);
    state.found = null;
    await deps.redraw();
  }
  const onToken = (token) => decideWith((ctx) => judgeToken(token, ctx));

  if (state.result) {
    return screen(t('gate.title'), { back: '/' }, decisionPanel(state.result, async () => {
      state.result = null;
      await deps.redraw();
    }));
  }

  const video = h('video', { class: 'gate-video', playsinline: true, muted: true, hidden: true });
  async function onCamera() {
    error.textContent = '';
    try {
      video.hidden = false;
      stopCamera = await startCamera(video, (text) => {
        stopCamera = null;
        void onToken(text);
      });
    } catch {
      video.hidden = true;
      error.textContent = t('gate.no_camera');
    }
  }
  async function onPhoto(event) {
    const [file] = event.currentTarget.files;
    if (!file) return;
    const text = await decodeFile(file).catch(() => null);
    if (!text) {
      error.textContent = t('gate.no_code');
      return;
    }
    await onToken(text);
  }
  const code = h('input', { id: 'gate-code', autocomplete: 'off', spellcheck: 'false' });
  const address = h('input', { id: 'gate-address', autocomplete: 'off' });
  async function onFind(event) {
    event.preventDefault();
    const wanted = address.value.trim();
    const passes = await deps.records.views('gate_pass', { compound_id: compound.id });
    state.found = passes.filter((p) => !p.deleted && p.fields.address === wanted);
    await deps.redraw();
  }
  const direction = (value) => h('button', {
    type: 'button', class: `gate-direction${state.direction === value ? ' is-chosen' : ''}`,
    'aria-pressed': String(state.direction === value),
    onclick: async () => {
      state.direction = value;
      await deps.redraw();
    },
  }, t(`value.gate_event.direction.${value}`));
  const post = h('input', { id: 'gate-post', value: postName(), autocomplete: 'off', onchange: (e) => rememberPost(e.target.value) });

  return screen(t('gate.title'), { back: '/' },
    shown.length ? h('ul', { class: 'gate-warnings', role: 'alert' }, ...shown.map((w) => h('li', {}, t(`gate.warning.${w}`)))) : null,
    compounds.length > 1 ? field('gate-compound', t('field.gate_event.compound_id'), h('select', {
      id: 'gate-compound',
      onchange: async (e) => {
        state.compoundId = e.target.value;
        await deps.redraw();
      },
    }, ...compounds.map((c) => h('option', { value: c.id, selected: c.id === compound.id }, c.fields.name)))) : null,
    field('gate-post', t('field.gate_event.post'), post),
    h('div', { class: 'gate-directions', role: 'group', 'aria-label': t('field.gate_event.direction') }, direction('out'), direction('in')),
    field('gate-temperature', t('common.optional', { label: t('field.gate_event.temperature_c') }), temperature),
    error,
    h('div', { class: 'gate-scan' },
      h('button', { type: 'button', class: 'primary', id: 'gate-camera', onclick: onCamera }, t('gate.scan')),
      video,
      field('gate-photo', t('gate.photo'), h('input', { id: 'gate-photo', type: 'file', accept: 'image/*', capture: 'environment', onchange: onPhoto }))),
    h('form', { class: 'gate-manual', onsubmit: (e) => { e.preventDefault(); void onToken(code.value); } },
      field('gate-code', t('gate.code'), code),
      h('button', { type: 'submit' }, t('gate.check'))),
    h('form', { class: 'gate-manual', onsubmit: onFind },
      field('gate-address', t('gate.address'), address, t('gate.address_hint')),
      h('button', { type: 'submit' }, t('gate.find'))),
    state.found ? foundList(state.found, (pass) => decideWith((ctx) => judgeRecord(pass, ctx))) : null);
}

function foundList(found, onPick) {
  if (!found.length) return h('p', { id: 'gate-found' }, t('gate.none_found'));
  return h('ul', { class: 'gate-found', id: 'gate-found' }, ...found.map((pass) => h('li', {},
    h('button', { type: 'button', onclick: () => onPick(pass) },
      `${pass.fields.initials ?? ''} · ${pass.fields.address} · ${t(`value.gate_pass.kind.${pass.fields.kind}`)}`))));
}

/** Leaving the screen stops the camera. */
globalThis.addEventListener?.('hashchange', () => {
  stopCamera?.();
  stopCamera = null;
});

export default {
  render,
  forget,
  uses: ['user', 'declarations', 'records', 'queue', 'redraw', 'syncedAt'],
  follows: ['declarations'],
};
