/**
 * Start the app: language, device store, screens, sync, service worker.
 */
import { createApp } from './app.js';
import { openStore } from './db.js';
import { initLanguage, onLanguageChange, t } from './i18n.js';
import { createRouter } from './router.js';
import { activateWaiting, mayActivateUpdate, registerServiceWorker } from './update.js';
import attention from './views/attention.js';
import home from './views/home.js';
import login from './views/login.js';
import notFound from './views/not-found.js';
import settings from './views/settings.js';
import taskDetail from './views/task-detail.js';
import taskList from './views/task-list.js';
import taskNew from './views/task-new.js';

const ROUTES = [
  ['/', home],
  ['/login', login],
  ['/tasks', taskList],
  ['/tasks/new', taskNew],
  ['/tasks/:id', taskDetail],
  ['/attention', attention],
  ['/settings', settings],
];

function translateShell() {
  document.title = t('app.name');
  for (const element of document.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
}

async function offerUpdate(app, registration) {
  app.toaster.show(t('update.ready'), {
    action: t('update.reload'),
    onAction: async () => {
      const decision = await mayActivateUpdate({ outbox: app.outbox, api: app.api });
      if (decision.ok) activateWaiting(registration);
      else app.toast(t(`update.blocked.${decision.reason}`));
    },
  });
}

async function main() {
  initLanguage();
  translateShell();
  const db = await openStore();
  const app = await createApp({
    db,
    statusBar: document.getElementById('status'),
    toastRegion: document.getElementById('toasts'),
  });
  const router = createRouter({ outlet: document.getElementById('main'), routes: ROUTES, app, notFound });
  app.setRouter(router);
  onLanguageChange(async () => {
    translateShell();
    await router.redraw();
    await app.refreshStatus();
  });
  await router.start();
  await app.start();
  try {
    await registerServiceWorker({ onUpdateReady: (registration) => offerUpdate(app, registration) });
  } catch {
    // No service worker (private mode, http): the app still works online.
  }
}

main().catch((error) => {
  const main = document.getElementById('main');
  main.textContent = `${t('app.start_failed')} ${error?.message ?? error}`;
});
