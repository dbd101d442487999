/** Sign in with username and password; the token stays on the device. */
import { ApiError, NetworkError } from '../api.js';
import { t } from '../i18n.js';
import { OutboxOwnerError } from '../session.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { languagePicker } from './language.js';

function explain(error) {
  if (error instanceof OutboxOwnerError) return t('login.error.outbox_owner', { user: error.owner, count: error.count });
  if (error instanceof ApiError && error.status === 401) return t('login.error.credentials');
  if (error instanceof ApiError && error.status === 429) return t('login.error.throttled');
  if (error instanceof NetworkError) return t('login.error.offline');
  return t('login.error.other', { detail: error.message });
}

async function render({ account }) {
  const previous = await account.previousUser();
  const message = h('p', { class: 'error', role: 'alert', id: 'login-error' });
  const username = h('input', {
    id: 'username', name: 'username', autocomplete: 'username', required: true,
    autocapitalize: 'none', spellcheck: 'false', value: previous?.username ?? '',
  });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('login.submit'));

  async function onSubmit(event) {
    event.preventDefault();
    message.textContent = '';
    submit.disabled = true;
    try {
      await account.signIn(username.value.trim(), password.value);
    } catch (error) {
      message.textContent = explain(error);
      password.value = '';
      (error instanceof OutboxOwnerError ? username : password).focus();
    } finally {
      submit.disabled = false;
    }
  }

  const pending = await account.queuedCount();
  return screen(t('login.title'), {},
    h('p', { class: 'lead' }, t('app.tagline')),
    previous && pending ? h('p', { class: 'notice' }, t('login.pending_kept', { user: previous.username, count: pending })) : null,
    h('form', { onsubmit: onSubmit, 'aria-describedby': 'login-error' },
      field('username', t('login.username'), username),
      field('password', t('login.password'), password),
      message,
      submit),
    pending ? h('p', {}, h('a', { href: '#/settings' }, t('login.export_link'))) : null,
    languagePicker('login-language'));
}

export default { render, uses: ['account'], public: true };
