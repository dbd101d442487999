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

function exportSection(transfer, count) {
  return h('section', {},
    h('h2', {}, t('settings.outbox')),
    h('p', {}, count ? t('settings.outbox_count', { count }) : t('settings.outbox_empty')),
    h('button', { type: 'button', onclick: () => transfer.exportOutbox(), disabled: count === 0 }, t('settings.export')),
    field('import-file', t('settings.import'),
      h('input', {
        id: 'import-file', type: 'file', accept: 'application/json,.json',
        onchange: async (event) => {
          const [file] = event.target.files;
          if (file) await transfer.importOutbox(file);
          event.target.value = '';
        },
      }), t('settings.import_hint')));
}

function signOutSection({ user, account }, count) {
  return h('section', {},
    h('h2', {}, t('settings.account')),
    h('p', {}, t('settings.signed_in_as', { name: user.display_name ?? user.username })),
    count ? h('p', { class: 'notice' }, t('settings.signout_warning', { count })) : null,
    h('button', {
      type: 'button',
      class: 'danger',
      onclick: async () => {
        if (count && !globalThis.confirm(t('settings.signout_confirm', { count }))) return;
        await account.signOut();
      },
    }, t('settings.signout')));
}

async function render(deps) {
  const count = await deps.account.queuedCount();
  const persisted = await deps.account.storagePersisted();
  return screen(t('section.settings'), { back: deps.user ? '/' : '/login' },
    languagePicker('settings-language'),
    exportSection(deps.transfer, count),
    h('section', {}, h('h2', {}, t('settings.storage')),
      h('p', {}, persisted ? t('settings.storage_persisted') : t('settings.storage_not_persisted'))),
    deps.user ? signOutSection(deps, count) : null);
}

export default { render, uses: ['user', 'account', 'transfer'], follows: ['outbox'], public: true };
