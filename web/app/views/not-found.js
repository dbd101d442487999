/** Tell the user a screen does not exist, and offer the way home. */
import { t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';

async function render() {
  return screen(t('notfound.title'), {}, h('p', {}, h('a', { href: '#/' }, t('common.home'))));
}

export default { render, uses: [], public: true };
