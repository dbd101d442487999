/** The home screen's card: today's shift and post of the signed-in user. */
import { t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { dutyOf, ownShifts, SHIFT, shiftsOfDay } from './duty.js';
import { shiftLine } from './format.js';

async function render({ records, user }) {
  const today = shiftsOfDay(ownShifts(await records.views(SHIFT), user), new Date());
  if (!today.length) return null;
  const now = new Date();
  return h('section', { class: 'card shift-today', 'aria-label': t('shifts.today') },
    h('h2', {}, t('shifts.today')),
    h('ul', {}, ...today.map((shift) => h('li', {}, shiftLine(shift), ' · ', t(`shifts.duty.${dutyOf(shift, now)}`)))),
    h('a', { href: '#/shifts' }, t('shifts.open')));
}

export default { render, uses: ['records', 'user'], follows: ['record:shift'] };
