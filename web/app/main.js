/**
 * Start the app: language, device store, screens, sync, service worker.
 */
import { createApp } from './app.js';
import { openStore } from './db.js';
import { featureRoutes } from './features.js';
import { initLanguage, onLanguageChange, t } from './i18n.js';
import { createRouter, preloadScreens } from './router.js';
import { activateWaiting, mayActivateUpdate, registerServiceWorker } from './update.js';
import attention from './views/attention.js';
import home from './views/home.js';
import login from './views/login.js';
import notFound from './views/not-found.js';
import settings from './views/settings.js';

const ROUTES = [
  ['/', home],
  ['/login', login],
  ['/attention', attention],
  ['/settings', settings],
  ...featureRoutes(),
];

function translateShell() {
  document.title = t('app.name');
  for (const element of document.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
  document.querySelector('.topbar nav')?.setAttribute('aria-label', t('nav.label'));
}

async function offerUpdate(app, registration) {
  app.toaster.show(t('update.ready'), {
    action: t('update.reload'),
    onAction: async () => {
      const decision = await mayActivateUpdate({ outbox: app.outbox, api: app.api });
      if (decision.ok) activateWaiting(registration);
      else app.toaster.show(t(`update.blocked.${decision.reason}`), { urgent: true });
    },
  });
}

async function main() {
  await initLanguage();
  translateShell();
  const db = await openStore();
  const app = await createApp({
    db,
    statusBar: document.getElementById('status'),
    toastRegion: document.getElementById('toasts'),
  });
  const router = createRouter({
    outlet: document.getElementById('main'), routes: ROUTES, services: app.services, notFound, isSignedIn: app.isSignedIn,
  });
  app.setRouter(router);
  onLanguageChange(async () => {
    translateShell();
    await router.redraw();
    await app.refreshStatus({ relabel: true });
  });
  await router.start();
  await app.start();
  preloadScreens(ROUTES);
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
