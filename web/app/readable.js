/**
 * Put a record's field value as a person reads it: labels for choices,
 * names for people and places, local times — never ids or field names.
 *
 * Shared by every screen that shows values out of context (what the server
 * refused, what a conflict kept and lost).
 */
import { fieldSchema } from './declarations.js';
import { formatList, formatTime, hasMessage, t, valueLabel } from './i18n.js';

/** Name a user id: "You", their display name, or someone outside the user's area. */
export function personName(user, people, id) {
  if (String(id) === String(user.id)) return t('attention.you');
  return people.get(String(id))?.name ?? t('attention.someone');
}

/**
 * Return `value` of `field` of a record of `type` as text.
 *
 * `deps`: {declarations, user}; `names`: {people: id → {name}, places: id → name}.
 */
export function readable(deps, names, type, field, value) {
  if (value === null || value === undefined || value === '') return t('attention.empty_value');
  const schema = fieldSchema(deps.declarations, type, field) ?? {};
  if (Array.isArray(value)) return formatList(value.map((item) => readable(deps, names, type, field, item)));
  if (schema.enum || schema.items?.enum || hasMessage(`value.${type}.${field}.${value}`)) return valueLabel(type, field, value);
  if (schema['x-ref'] === 'user') return personName(deps.user, names.people, value);
  if (schema['x-ref']) return names.places.get(value) ?? t('attention.unknown_place');
  if (schema.format === 'date-time') return formatTime(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Name one record as people know it: its title or name, a household by its address; else null. */
export function recordName(record, names) {
  const fields = record?.fields ?? {};
  const title = typeof fields.title === 'object' && fields.title ? fields.title['zh-CN'] : fields.title;
  if (title || fields.name) return title || fields.name;
  if (record?.type === 'household') {
    return [names.places.get(fields.building_id), `${fields.unit}-${fields.room}`].filter(Boolean).join(' ');
  }
  return null;
}
