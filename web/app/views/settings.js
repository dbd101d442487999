/**
 * Settings: language, moving unsynced changes between devices, sign-out.
 *
 * Reachable signed out too, so changes can be exported before another
 * person signs in on this device.
 */
import { t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { languagePicker } from './language.js';

function exportSection(app, count) {
  return h('section', {},
    h('h2', {}, t('settings.outbox')),
    h('p', {}, count ? t('settings.outbox_count', { count }) : t('settings.outbox_empty')),
    h('button', { type: 'button', onclick: () => app.exportOutbox(), disabled: count === 0 }, t('settings.export')),
    field('import-file', t('settings.import'),
      h('input', {
        id: 'import-file', type: 'file', accept: 'application/json,.json',
        onchange: async (event) => {
          const [file] = event.target.files;
          if (file) await app.importOutbox(file);
          event.target.value = '';
        },
      }), t('settings.import_hint')));
}

function signOutSection(app, count) {
  return h('section', {},
    h('h2', {}, t('settings.account')),
    h('p', {}, t('settings.signed_in_as', { name: app.user.username })),
    count ? h('p', { class: 'notice' }, t('settings.signout_warning', { count })) : null,
    h('button', {
      type: 'button',
      class: 'danger',
      onclick: async () => {
        if (count && !globalThis.confirm(t('settings.signout_confirm', { count }))) return;
        await app.signOut();
      },
    }, t('settings.signout')));
}

async function render(app) {
  const count = await app.outbox.count();
  const persisted = await app.storagePersisted();
  return screen(t('section.settings'), { back: app.user ? '/' : '/login' },
    languagePicker('settings-language'),
    exportSection(app, count),
    h('section', {}, h('h2', {}, t('settings.storage')),
      h('p', {}, persisted ? t('settings.storage_persisted') : t('settings.storage_not_persisted'))),
    app.user ? signOutSection(app, count) : null);
}

export default { render, live: true, public: true };
