/** A language picker, shared by the sign-in and settings screens. */
import { LANGUAGE_NAMES, language, setLanguage, t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { field } from '../ui/screen.js';

export function languagePicker(id = 'language') {
  const select = h('select', { id, onchange: (event) => setLanguage(event.target.value) },
    ...Object.entries(LANGUAGE_NAMES).map(([code, name]) =>
      h('option', { value: code, lang: code, selected: code === language() }, name)));
  return field(id, t('settings.language'), select);
}
