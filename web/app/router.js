/**
 * Map the location hash to a screen and draw it.
 *
 * Hash routes (#/tasks/ID) keep every screen reachable offline from the one
 * cached index.html, whatever the server's fallback does. A screen module
 * exports:
 *
 *     {render(deps, params) → Promise<Node>, uses: [...], follows?: [...], public?, forget?}
 *
 * A route may name, instead of a screen, a function that loads its module
 * (`() => import('./list.js')`, the screen its default export): a feature's
 * screens are then fetched when first opened, not at start (the service
 * worker precaches them, so they open offline too).
 *
 * `deps` holds only the services the screen names in `uses` (see app.js), so
 * a screen takes what it uses and nothing else. `follows` names the topics
 * that redraw it (`record:<type>`, `outbox`, `people`, `declarations`): a
 * screen is redrawn when something it shows changed, not on every event,
 * keeping what the user was typing and where the focus was.
 *
 * A screen that keeps state between draws while the app is open (a search
 * and what it found, the gate's last decision) exports `forget()`, which drops
 * it: the router calls it before drawing for another user than the one it
 * drew for last (signed out included), so whoever signs in next on the device
 * starts afresh and sees nothing of the last user's.
 */
import { h, mount } from './ui/dom.js';

/** Find the route for a path: patterns like '/tasks/:id'. Pure. */
export function matchRoute(routes, path) {
  const parts = path.split('/').filter(Boolean);
  for (const [pattern, screen] of routes) {
    const want = pattern.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    const ok = want.every((segment, i) => {
      if (segment.startsWith(':')) {
        params[segment.slice(1)] = decodeURIComponent(parts[i]);
        return true;
      }
      return segment === parts[i];
    });
    if (ok) return { screen, params };
  }
  return null;
}

export function currentPath() {
  return globalThis.location.hash.replace(/^#/, '') || '/';
}

/**
 * Load every screen module the routes name by a loader, in the background,
 * once the app has started: opened later offline, before the service worker
 * has cached them (a first visit on a slow link), they are already loaded.
 * A module that fails to load now is loaded again when opened.
 */
export function preloadScreens(routes) {
  const loaders = new Set(routes.map(([, screen]) => screen).filter((screen) => typeof screen === 'function'));
  return Promise.allSettled([...loaders].map((load) => load()));
}

/** Return the screen a route names: itself, or the default export of the module its loader loads. */
export async function resolveScreen(screen) {
  return typeof screen === 'function' ? (await screen()).default : screen;
}

/**
 * Remember typed values, focus and the errors shown so a live redraw does not eat them:
 * an error said next to a form (`[role=alert]` with an id) and the boxes it marks
 * (`aria-invalid`) stay until the form is sent again (see clearErrors).
 */
function snapshot(outlet) {
  const values = new Map();
  for (const field of outlet.querySelectorAll('input[id], textarea[id], select[id]')) {
    // A file input's value can only be cleared by script, never set back.
    if (field.type !== 'password' && field.type !== 'file') values.set(field.id, field.value);
  }
  const errors = new Map();
  for (const alert of outlet.querySelectorAll('[role=alert][id]')) {
    if (alert.textContent) errors.set(alert.id, alert.textContent);
  }
  const invalid = new Map();
  for (const field of outlet.querySelectorAll('[aria-invalid=true][id]')) {
    invalid.set(field.id, field.getAttribute('aria-errormessage'));
  }
  return { values, errors, invalid, focusId: document.activeElement?.id || null };
}

function restore(outlet, { values, errors, invalid, focusId }) {
  const byId = (id) => outlet.querySelector(`#${CSS.escape(id)}`);
  for (const [id, value] of values) {
    const field = byId(id);
    if (field) field.value = value;
  }
  for (const [id, text] of errors) {
    const alert = byId(id);
    // A screen that draws an error of its own says what is true now.
    if (alert && !alert.textContent) alert.textContent = text;
  }
  for (const [id, message] of invalid) {
    const field = byId(id);
    if (!field) continue;
    field.setAttribute('aria-invalid', 'true');
    if (message) field.setAttribute('aria-errormessage', message);
  }
  if (focusId) byId(focusId)?.focus();
}

/** A form sent again starts without the errors of its last sending (its handler says any anew). */
function clearErrors(event) {
  const form = event.target;
  for (const alert of form.querySelectorAll('[role=alert][id]')) alert.textContent = '';
  for (const field of form.querySelectorAll('[aria-invalid=true]')) {
    field.removeAttribute('aria-invalid');
    field.removeAttribute('aria-errormessage');
  }
}

/**
 * Track which user the screens drew for; when it changes, make every screen
 * drawn so far that keeps state (exports `forget`) forget it.
 */
export function keptState() {
  const keeping = new Set();
  let owner = null;
  return {
    /** Call before drawing `screen` for the user `userId` (null: signed out). */
    drawing(screen, userId) {
      if (userId !== owner) {
        for (const kept of keeping) kept.forget();
        owner = userId;
      }
      if (screen.forget) keeping.add(screen);
    },
  };
}

/** Return an object with only the `uses` services, read now. */
export function pick(services, uses = []) {
  return Object.fromEntries(uses.map((name) => {
    if (!(name in services)) throw new RangeError(`unknown service ${name}`);
    return [name, services[name]];
  }));
}

/** Tell whether a change of `topics` concerns a screen following `follows`. */
export function concerns(follows = [], topics = []) {
  return follows.some((topic) => topics.includes(topic));
}

export function createRouter({ outlet, routes, services, notFound, isSignedIn }) {
  let active = null;
  let shown = null; // the path on screen
  let drawing = Promise.resolve();
  const kept = keptState();

  async function draw({ keepState }) {
    const path = currentPath();
    // Navigation draws read the path when they start, so hash changes queued
    // behind one another (a quick tap on Back, then on a tile) can draw the
    // screen already shown: that is a redraw, and keeps what the user typed.
    const keep = keepState || path === shown;
    const match = matchRoute(routes, path) ?? { screen: notFound, params: {} };
    const screen = await resolveScreen(match.screen);
    if (!screen.public && !isSignedIn()) {
      globalThis.location.hash = '/login';
      return;
    }
    kept.drawing(screen, services.user?.id ?? null);
    const node = await screen.render(pick(services, screen.uses), match.params);
    if (currentPath() !== path) return; // the user moved on while we drew
    // Read what the user typed just before the swap: typing goes on while a screen renders.
    const saved = keep ? snapshot(outlet) : null;
    mount(outlet, node);
    active = screen;
    shown = path;
    if (saved) restore(outlet, saved);
    else outlet.querySelector('h1')?.focus();
  }

  // A redraw queued and not yet started: a refresh asked for meanwhile is that one,
  // as it reads the state when it starts (a first sync's pages want one redraw, not one each).
  // Likewise a navigation queued and not yet started stands for the hash changes after it.
  let waiting = null;
  let navigating = null;

  // Draws run one after another so two redraws never interleave.
  function queue(options) {
    drawing = drawing.then(() => {
      if (options.keepState) waiting = null;
      else navigating = null;
      return draw(options);
    }).catch((error) => {
      shown = null;
      mount(outlet, h('p', { class: 'error', role: 'alert' }, String(error?.message ?? error)));
    });
    return drawing;
  }

  function redrawSoon() {
    waiting ??= queue({ keepState: true });
    return waiting;
  }

  function navigateSoon() {
    navigating ??= queue({ keepState: false });
    return navigating;
  }

  return {
    start() {
      globalThis.addEventListener('hashchange', navigateSoon);
      // Capturing: it runs before the form's own submit handler.
      outlet.addEventListener('submit', clearErrors, true);
      return navigateSoon();
    },
    /** Redraw the current screen if it follows one of `topics`. */
    refresh(topics) {
      return concerns(active?.follows, topics) ? redrawSoon() : drawing;
    },
    redraw() {
      return redrawSoon();
    },
  };
}
