/**
 * Serve the Weiguang shell offline.
 *
 * - Precaches the shell into a versioned cache (`weiguang-shell-<VERSION>`).
 *   The server fills in SHELL_VERSION and SHELL_FILES when it serves this
 *   file (server/shell.py): the list is every shell file under web/, the
 *   version a hash of their contents, so nobody keeps either by hand.
 * - Never serves `/api/` or `/socket.io/` from a cache, with one exception:
 *   the published declarations (`/api/v1/declarations`), fetched from the
 *   network first and kept in their own cache so the app knows the rules
 *   offline. Sync data lives in IndexedDB and is always fresh from the server.
 * - A new version installs and then waits: the page offers a "reload" toast
 *   and sends SKIP_WAITING only when no queued change would be stranded.
 * - On activation it deletes only its own older caches (prefix `weiguang-`).
 */
const SHELL_VERSION = '%SHELL_VERSION%';
const CACHE_PREFIX = 'weiguang-';
const SHELL_CACHE = `${CACHE_PREFIX}shell-${SHELL_VERSION}`;
const RULES_CACHE = `${CACHE_PREFIX}declarations`;
const DECLARATIONS = '/api/v1/declarations';

const SHELL_FILES = ['%SHELL_FILES%'];

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
        .filter((name) => name.startsWith(CACHE_PREFIX) && name !== SHELL_CACHE && name !== RULES_CACHE)
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

/** Fetch the declarations, keep the answer, and fall back to the kept one offline. */
async function declarations(request) {
  const cache = await caches.open(RULES_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(DECLARATIONS, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(DECLARATIONS);
    if (kept) return kept;
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname === DECLARATIONS) {
    event.respondWith(declarations(request));
    return;
  }
  if (isLive(url)) return;
  if (request.mode === 'navigate') {
    // Every page is the one shell; routes live in the hash. Answer with the
    // cached `/` (a navigation must never be answered with a cached
    // redirect: Chrome fails it, as an older server's /index.html was).
    event.respondWith(caches.match('/').then((cached) => cached ?? fetch(request)));
    return;
  }
  event.respondWith(caches.match(request, { ignoreSearch: true }).then((cached) => cached ?? fetch(request)));
});
