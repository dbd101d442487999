/** A language picker, shared by the sign-in and settings screens. */
import { LANGUAGE_NAMES, language, setLanguage, t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { field } from '../ui/screen.js';

export function languagePicker(id = 'language') {
  const problem = h('p', { class: 'hint', id: `${id}-problem`, role: 'alert', hidden: true });
  const choose = async (event) => {
    try {
      await setLanguage(event.target.value);
    } catch {
      // Its catalogue could not be loaded (offline before the shell was cached).
      event.target.value = language();
      problem.textContent = t('settings.language_unavailable');
      problem.hidden = false;
    }
  };
  const select = h('select', { id, onchange: choose, 'aria-describedby': `${id}-problem` },
    ...Object.entries(LANGUAGE_NAMES).map(([code, name]) =>
      h('option', { value: code, lang: code, selected: code === language() }, name)));
  const picker = field(id, t('settings.language'), select);
  picker.append(problem);
  return picker;
}
