import assert from 'node:assert/strict';
import { test } from 'node:test';

import { mayRestore, mayResolve, restoreChanges, resolveChange, unresolved, waitingCount } from '../../web/app/conflicts/rules.js';
import { mergePending, viewsOfType } from '../../web/app/merge.js';
import { DECLARATIONS } from './helpers.js';

const ROLES = ['coordinator', 'volunteer', 'guard', 'team_leader', 'clinician'];
const userOf = (role) => ({ id: 9, role });

function aConflict(about, field, overrides = {}) {
  return {
    type: 'conflict', id: `c-${about.type}-${field}`, version: 40, deleted: false,
    fields: {
      record_type: about.type, record_id: about.id, field,
      kept_value: 'kept', lost_value: 'lost',
      kept_made_at: '2022-04-02T10:05:00.000Z', lost_made_at: '2022-04-02T10:00:00.000Z',
      kept_by: 1, lost_by: 2, kept_device: 'phone', lost_device: 'laptop', resolved: false,
    },
    ...overrides,
  };
}

const aRecord = (type) => ({ type, id: `${type}-1`, version: 41, deleted: false, fields: {} });

/** Every field of every declared type that a conflict could be about (a conflict's own are immutable). */
const everyField = Object.entries(DECLARATIONS.types).filter(([type]) => type !== 'conflict')
  .flatMap(([type, declared]) => Object.keys(declared.fields).map((field) => [type, field]));

test('restoring is one changeset: the record update on its version, then resolved on the conflict', () => {
  for (const [type, field] of everyField) {
    const record = aRecord(type);
    const conflict = aConflict(record, field);
    const changes = restoreChanges(conflict, record);
    assert.deepEqual(changes, [
      { type, id: record.id, op: 'update', base_version: 41, fields: { [field]: 'lost' } },
      { type: 'conflict', id: conflict.id, op: 'update', base_version: 40, fields: { resolved: true } },
    ]);
    // Queued, the device shows the lost value back and the conflict gone from the inbox.
    const views = mergePending([record, conflict], [{ id: 'cs', state: 'pending', changes }]);
    assert.equal(views.get(`${type}:${record.id}`).fields[field], 'lost');
    assert.equal(waitingCount(viewsOfType(views, 'conflict')), 0);
  }
});

test('resolving without restoring changes only the conflict', () => {
  const record = aRecord('task');
  const conflict = aConflict(record, 'notes');
  const views = mergePending([record, conflict], [{ id: 'cs', state: 'pending', changes: [resolveChange(conflict)] }]);
  assert.deepEqual(views.get('task:task-1').fields, {});
  assert.deepEqual(unresolved(viewsOfType(views, 'conflict')), []);
});

test('a rejected resolution leaves the conflict in the inbox', () => {
  const conflict = aConflict(aRecord('task'), 'notes');
  const views = mergePending([conflict], [{ id: 'cs', state: 'rejected', changes: [resolveChange(conflict)] }]);
  assert.equal(waitingCount(viewsOfType(views, 'conflict')), 1);
});

test('the inbox holds unresolved, live conflicts, the newest loss first', () => {
  const record = aRecord('task');
  const older = aConflict(record, 'notes');
  const newer = aConflict(record, 'title', { fields: { ...older.fields, field: 'title', lost_made_at: '2022-04-03T08:00:00.000Z' } });
  const settled = aConflict(record, 'due_at', { fields: { ...older.fields, resolved: true } });
  const gone = aConflict(record, 'proof', { deleted: true });
  assert.deepEqual(unresolved([older, settled, newer, gone]).map((c) => c.id), [newer.id, older.id]);
});

test('who may resolve and restore follows the published declarations for every role and field', () => {
  const resolvers = DECLARATIONS.types.conflict.permissions.update;
  for (const role of ROLES) {
    const user = userOf(role);
    assert.equal(mayResolve(DECLARATIONS, user), resolvers.includes(role), role);
    for (const [type, field] of everyField) {
      const record = aRecord(type);
      const declared = DECLARATIONS.types[type].permissions;
      const mayEdit = declared.update.includes(role) && (!declared.update_fields?.[role] || declared.update_fields[role].includes(field));
      const conflict = aConflict(record, field);
      assert.equal(mayRestore(DECLARATIONS, user, conflict, record), resolvers.includes(role) && mayEdit, `${role} ${type}.${field}`);
      assert.equal(mayRestore(DECLARATIONS, user, conflict, { ...record, deleted: true }), false);
      assert.equal(mayRestore(DECLARATIONS, user, conflict, null), false);
    }
  }
});
