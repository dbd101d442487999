/** Small drawing helpers of the screening screens: an address, a progress bar. */
import { t } from '../i18n.js';
import { h } from '../ui/dom.js';

/** Name a household as read on the stairwell: "3号楼 1单元 502室" in the user's language. */
export function address(household, buildingName = '') {
  return t('screening.address', { building: buildingName, unit: household.fields.unit, room: household.fields.room }).trim();
}

/** Draw where a group of households stands: a bar of the visited share and the three counts in words. */
export function progressBar(counts, label) {
  return h('div', { class: 'field-bar' },
    h('progress', { max: Math.max(counts.households, 1), value: counts.visited, 'aria-label': label }),
    h('span', { class: 'field-bar-words' }, t('screening.progress', counts)));
}
