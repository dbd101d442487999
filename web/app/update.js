/**
 * Register the service worker and let a new version take over safely.
 *
 * A new worker waits until the user taps "reload" on the toast. Even then it
 * is told to skip waiting only when nothing queued could be stranded: the
 * outbox is empty, or the server's supported schema range
 * (`info["x-weiguang-schema"]` in /api/v1/openapi.json) still covers every
 * queued changeset's schema.
 */
import { serverAccepts, supportedSchemas } from './schema.js';

/**
 * Decide whether a waiting worker may take over.
 *
 * Returns {ok: true} or {ok: false, reason} with reason `unreachable`
 * (could not ask the server) or `unsupported` (the server no longer takes
 * some queued changeset: sync them before updating is impossible too, so
 * the user is told plainly).
 */
export async function mayActivateUpdate({ outbox, api }) {
  const queued = await outbox.all();
  if (queued.length === 0) return { ok: true };
  let openapi;
  try {
    openapi = await api.openapi();
  } catch {
    return { ok: false, reason: 'unreachable' };
  }
  const schemas = [...new Set(queued.map((changeset) => changeset.schema))];
  return serverAccepts(supportedSchemas(openapi), schemas) ? { ok: true } : { ok: false, reason: 'unsupported' };
}

// Set when the user tapped "reload": only then does a new controller reload
// the page (the first install also changes controller, via clients.claim).
let updateAccepted = false;

/** Register /sw.js; call onUpdateReady(registration) when a new version waits. */
export async function registerServiceWorker({ onUpdateReady }) {
  if (!('serviceWorker' in navigator)) return null;
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloading || !updateAccepted) return;
    reloading = true;
    globalThis.location.reload();
  });
  const registration = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  const announce = () => {
    if (registration.waiting && navigator.serviceWorker.controller) onUpdateReady(registration);
  };
  announce();
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed') announce();
    });
  });
  return registration;
}

/** Tell the waiting worker to take over (the page reloads on controllerchange). */
export function activateWaiting(registration) {
  updateAccepted = true;
  registration.waiting?.postMessage({ type: 'SKIP_WAITING' });
}
