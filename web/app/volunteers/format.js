/** Words for shifts: "西门 07:00–19:00". */
import { language, t } from '../i18n.js';

function clock(iso) {
  return new Intl.DateTimeFormat(language(), { hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

/** Name a shift's post and hours. */
export function shiftLine(shift) {
  return t('shifts.line', { post: shift.fields.post, from: clock(shift.fields.starts_at), to: clock(shift.fields.ends_at) });
}
