/**
 * The coordinators' gate policy editor, per compound: the exit window, the
 * daily exit quota, the fever threshold and the outcome of every tier × pass
 * kind × direction rule. A save is one ordinary update of the compound's
 * `gate_policy` record, so the policy stays versioned data: guards' devices
 * receive it by sync (no app update) and every decision records the version
 * it used. What each field accepts comes from the published declarations.
 */
import { checkValue, fieldSchema } from '../declarations.js';
import { fieldLabel, t, valueLabel } from '../i18n.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';

export const TYPE = 'gate_policy';
const NUMBERS = new Set(['exits_per_day', 'fever_threshold_c']);
const SCALARS = ['window_opens', 'window_closes', 'exits_per_day', 'fever_threshold_c'];

/** Return a rule's key in a form: "tier/kind/direction". */
export const ruleKey = (rule) => `${rule.tier}/${rule.kind}/${rule.direction}`;

function valueOf(name, raw) {
  if (!NUMBERS.has(name)) return raw;
  return raw === '' || raw == null ? null : Number(raw);
}

/**
 * Return `{change}` (null when nothing changed) or `{problem: {field, key, params}}`.
 * Pure: the node test checks it.
 *
 * @param values `{window_opens: 'HH:MM', window_closes, exits_per_day: '' | '2',
 *   fever_threshold_c: '37.3', rules: {'sealed/resident/out': 'deny', ...}}`
 */
export function policyChange(declarations, policy, values) {
  const fields = {};
  for (const name of SCALARS) {
    const value = valueOf(name, values[name]);
    const pattern = fieldSchema(declarations, TYPE, name)?.pattern;
    let problem = checkValue(declarations, TYPE, name, value);
    if (!problem && typeof value === 'number' && !Number.isFinite(value)) {
      const schema = fieldSchema(declarations, TYPE, name);
      problem = { key: 'invalid.range', params: { min: schema?.minimum, max: schema?.maximum } };
    }
    if (!problem && typeof value === 'string' && pattern && !new RegExp(pattern).test(value)) problem = { key: 'invalid.time', params: {} };
    if (problem) return { problem: { field: name, ...problem } };
    if (value !== (policy.fields[name] ?? null)) fields[name] = value;
  }
  const rules = (policy.fields.rules ?? []).map((rule) => ({ ...rule, outcome: values.rules?.[ruleKey(rule)] ?? rule.outcome }));
  if (rules.some((rule, i) => rule.outcome !== policy.fields.rules[i].outcome)) fields.rules = rules;
  if (!Object.keys(fields).length) return { change: null };
  return { change: { type: TYPE, id: policy.id, op: 'update', base_version: policy.version ?? 0, fields } };
}

function outcomes(declarations) {
  return fieldSchema(declarations, TYPE, 'rules')?.items?.properties?.outcome?.enum ?? [];
}

function scalarInput(policy, name) {
  const id = `policy-${policy.id}-${name}`;
  const attributes = NUMBERS.has(name)
    ? { type: 'number', inputmode: 'decimal', step: name === 'exits_per_day' ? '1' : '0.1' }
    : { type: 'time' };
  return field(id, fieldLabel(TYPE, name), h('input', { id, name, value: policy.fields[name] ?? '', ...attributes }));
}

function rulesTable(policy, choices) {
  return h('table', { class: 'policy-rules' },
    h('caption', {}, fieldLabel(TYPE, 'rules')),
    h('tbody', {}, ...(policy.fields.rules ?? []).map((rule) => {
      const id = `policy-${policy.id}-${ruleKey(rule)}`;
      const label = [valueLabel(TYPE, 'tier', rule.tier), t(`value.gate_event.pass_kind.${rule.kind}`),
        t(`value.gate_event.direction.${rule.direction}`)].join(' · ');
      return h('tr', {},
        h('th', { scope: 'row' }, h('label', { for: id }, label)),
        h('td', {}, h('select', { id, 'data-rule': ruleKey(rule) },
          ...choices.map((outcome) => h('option', { value: outcome, selected: outcome === rule.outcome }, t(`gate.policy.outcome.${outcome}`))))));
    })));
}

function policyForm(policy, compound, deps) {
  // With an id, a live redraw keeps the problem shown (router.js).
  const problem = h('p', { class: 'error', role: 'alert', id: `policy-${policy.id}-error` });
  const form = h('form', {
    class: 'policy', 'aria-label': compound?.fields.name ?? '',
    onsubmit: async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const values = Object.fromEntries(SCALARS.map((name) => [name, String(data.get(name) ?? '')]));
      values.rules = Object.fromEntries([...form.querySelectorAll('select[data-rule]')].map((select) => [select.dataset.rule, select.value]));
      const { change, problem: found } = policyChange(deps.declarations, policy, values);
      if (found) {
        problem.textContent = t(`gate.${found.key}`, { ...found.params, field: fieldLabel(TYPE, found.field) });
        return;
      }
      if (change) await deps.queue([change], t('gate.policy.saved'));
    },
  },
  h('h2', {}, compound?.fields.name ?? ''),
  h('p', { class: 'hint' }, t('gate.policy.state', {
    tier: valueLabel(TYPE, 'tier', policy.fields.tier), version: policy.version ?? 0,
  })),
  ...SCALARS.map((name) => scalarInput(policy, name)),
  rulesTable(policy, outcomes(deps.declarations)),
  problem,
  h('button', { type: 'submit', class: 'primary' }, t('gate.policy.save')));
  return form;
}

async function render(deps) {
  const [policies, compounds] = await Promise.all([deps.records.views(TYPE), deps.records.views('compound')]);
  const byId = new Map(compounds.map((c) => [c.id, c]));
  const live = policies.filter((p) => !p.deleted);
  return screen(t('gate.policy.title'), { back: '/gate/log' },
    h('p', { class: 'lead' }, t('gate.policy.lead')),
    live.length ? live.map((policy) => policyForm(policy, byId.get(policy.fields.compound_id), deps))
      : h('p', { class: 'empty' }, t('gate.policy.none')));
}

export default { render, uses: ['records', 'declarations', 'queue'], follows: ['record:gate_policy', 'declarations'] };
