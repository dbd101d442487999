/**
 * Serve the Weiguang shell offline.
 *
 * - Precaches the shell into a versioned cache (`weiguang-shell-<VERSION>`);
 *   bump SHELL_VERSION whenever a shell file changes (tests/web checks that
 *   every shell file is listed).
 * - Never touches `/api/` or `/socket.io/`: sync data lives in IndexedDB and
 *   must always be fresh from the server.
 * - A new version installs and then waits: the page offers a "reload" toast
 *   and sends SKIP_WAITING only when no queued change would be stranded.
 * - On activation it deletes only its own older caches (prefix `weiguang-`).
 */
const SHELL_VERSION = '2026-11-28.2';
const CACHE_PREFIX = 'weiguang-';
const SHELL_CACHE = `${CACHE_PREFIX}shell-${SHELL_VERSION}`;

const SHELL_FILES = [
  '/',
  '/index.html',
  '/manifest.webmanifest',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/icon-maskable-512.png',
  '/app/styles.css',
  '/app/main.js',
  '/app/app.js',
  '/app/api.js',
  '/app/backoff.js',
  '/app/db.js',
  '/app/i18n.js',
  '/app/i18n/zh-CN.js',
  '/app/i18n/en.js',
  '/app/i18n/ja.js',
  '/app/i18n/ko.js',
  '/app/live.js',
  '/app/merge.js',
  '/app/outbox.js',
  '/app/router.js',
  '/app/schema.js',
  '/app/session.js',
  '/app/status.js',
  '/app/sync.js',
  '/app/tasks.js',
  '/app/update.js',
  '/app/wipe.js',
  '/app/ui/badge.js',
  '/app/ui/dom.js',
  '/app/ui/screen.js',
  '/app/ui/toast.js',
  '/app/views/attention.js',
  '/app/views/home.js',
  '/app/views/language.js',
  '/app/views/login.js',
  '/app/views/not-found.js',
  '/app/views/settings.js',
  '/app/views/task-detail.js',
  '/app/views/task-format.js',
  '/app/views/task-list.js',
  '/app/views/task-new.js',
  '/vendor/idb/index.js',
  '/vendor/socket.io/socket.io.esm.min.js',
];

self.addEventListener('install', (event) => {
  // `reload` bypasses the HTTP cache so a new version never caches stale files.
  event.waitUntil(
    caches.open(SHELL_CACHE).then((cache) =>
      cache.addAll(SHELL_FILES.map((url) => new Request(url, { cache: 'reload' })))),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names
        .filter((name) => name.startsWith(CACHE_PREFIX) && name !== SHELL_CACHE)
        .map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'SKIP_WAITING') self.skipWaiting();
});

function isLive(url) {
  return url.pathname.startsWith('/api/') || url.pathname.startsWith('/socket.io/');
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || isLive(url)) return;
  if (request.mode === 'navigate') {
    // Every page is the one shell; routes live in the hash. Answer with the
    // cached `/` (a navigation must never be answered with a cached
    // redirect: Chrome fails it, as an older server's /index.html was).
    event.respondWith(caches.match('/').then((cached) => cached ?? fetch(request)));
    return;
  }
  event.respondWith(caches.match(request, { ignoreSearch: true }).then((cached) => cached ?? fetch(request)));
});
