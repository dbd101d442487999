/** Taking a photo of a record (a file input opens the camera) and saying where it is. */
import { t } from '../i18n.js';
import { h } from './dom.js';
import { field } from './screen.js';

/** A labelled camera input named `photo`, optional. */
export function photoInput(id, label) {
  const control = h('input', { id, name: 'photo', type: 'file', accept: 'image/*', capture: 'environment' });
  return field(id, t('common.optional', { label }), control, t('photo.hint'));
}

export function pickedPhoto(form) {
  const file = form.querySelector('input[name="photo"]')?.files?.[0];
  return file && file.size > 0 ? file : null;
}

/** The record's photos from the server: `urls` blob URLs, [] none, null not reachable (offline). */
export function photoView(urls, label) {
  if (!urls?.length) return h('p', { class: 'hint', 'data-photo': 'none' }, t(urls ? 'photo.none' : 'photo.offline'));
  return h('div', { class: 'photos' }, ...urls.map((src) => h('img', { src, alt: label })));
}

const REFUSALS = Object.freeze({ 404: 'gone', 413: 'too_large', 415: 'not_photo' });

/** A list saying, for each photo of a record, whether it is on its way, sent or refused. */
export function photoStates(photos) {
  if (!photos.length) return null;
  return h('ul', { class: 'photo-states', 'aria-live': 'polite' },
    ...photos.map((photo) => h('li', { class: `photo-${photo.state}`, 'data-photo-state': photo.state },
      t(`photo.state.${photo.state}`, { reason: t(`photo.refused.${REFUSALS[photo.detail] ?? 'other'}`) }))));
}
