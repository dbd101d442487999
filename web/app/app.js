/**
 * Wire the device store, outbox, sync engine, socket and declarations
 * together, and offer them to screens as small services.
 *
 * A screen names the services it uses (router.js gives it only those):
 *
 * - `user`, `declarations`: the signed-in user; the server's published rules.
 * - `records`: views(type, where?) / view(type, id) / some(type, ids) /
 *   overlay(type, serverRecords): the server's state with the outbox
 *   re-applied on top (merge.js).
 * - `watch(listener)`: call `listener(keys)` whenever records change, with the
 *   `{type, id, version?}` of each (or `null`: anything may have changed); returns an
 *   unsubscribe. For screens that repaint one record at a time (the board)
 *   rather than redraw on a topic. A live event's records come first as
 *   `{type, id, record}`, before they are stored: `records.overlay()` turns
 *   them into views; the plain keys follow once they are stored.
 * - `names`: compounds(), buildings(), people(), devices(): id → name maps.
 * - `queue(changes, message, {undoable})`: put a changeset in the outbox and
 *   wake the sync loop; `undo(id)` takes it back while it is still queued.
 * - `toast`, `navigate`, `redraw`, `attention`, `account`, `transfer`.
 * - `exports.save(dataset, format, filters, onProgress)`: fetch and save an export.
 * - `progress.load(userId, since)`: the server's progress counts, or the last kept offline.
 * - `syncedAt()`: when the last clean sync ended (ISO) or null.
 * - `files.save(path, {method, body, filename})`: fetch a file from the API and save it.
 * - `audit.search(query)`: a page of the audit trail (coordinators, online).
 * - `glass.list()` / `open(compoundId, reason, minutes)` / `end(id)`: break the glass
 *   (server/break_glass.py, online; topic `grants` when a live event tells of one).
 * - `photos.add(kind, recordId, file)`, `photos.ofRecord(recordId)` (photos.js;
 *   topic `photos`); `photos.shown(recordId)`: the server's, as blob URLs
 *   (null offline), revoked when the screen changes.
 *
 * Changes are announced as topics (`record:<type>`, `outbox`, `people`,
 * `declarations`) so only the screens showing them redraw.
 */
import { ApiError, createApi } from './api.js';
import { dismissAttention, getMeta, getRecord, deleteMeta, listAttention, recordsOfType, setMeta } from './db.js';
import { loadDeclarations } from './declarations.js';
import { exportPath, fileNameOf, readExport } from './exports/download.js';
import { t } from './i18n.js';
import { connectLive } from './live.js';
import { mergePending, viewsOfType } from './merge.js';
import { currentPath } from './router.js';
import { createPhotoQueue, createPhotoSender, downscale } from './photos.js';
import { createProgressSource } from './progress/source.js';
import { blockedIds, createOutbox, recordKeys } from './outbox.js';
import { createSession } from './session.js';
import { createStatusBar, describeStatus } from './status.js';
import { createSyncEngine, PHASE } from './sync.js';
import { createToaster } from './ui/toast.js';
import { writeMark } from './wipe.js';

/** How long a fetched people directory is trusted before the next sync refreshes it. */
export const DIRECTORY_TTL_MS = 60_000;

async function ensureClientId(db) {
  let id = await getMeta(db, 'clientId', null);
  if (!id) {
    id = crypto.randomUUID();
    await setMeta(db, 'clientId', id);
  }
  return id;
}

function download(filename, data) {
  saveBlob(filename, new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
}

function saveBlob(filename, blob) {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function localStore() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** Ask the browser not to evict the store: it holds unsynced work. */
async function requestPersistence() {
  try {
    await navigator.storage?.persist?.();
  } catch {
    // Not supported: the export file is the fallback.
  }
}

export async function createApp({ db, statusBar, toastRegion }) {
  const clientId = await ensureClientId(db);
  const outbox = createOutbox(db);
  /** Told when a sync request (a push or a pull) goes out: see untilAsked. */
  const syncAsked = new Set();
  const api = createApi({
    getToken: () => getMeta(db, 'token', null),
    onSend: (_method, path) => {
      if (path.startsWith('/sync/')) for (const told of syncAsked) told();
    },
  });
  const session = createSession({ db, api, outbox, storage: localStore() });
  const engine = createSyncEngine({
    db, outbox, clientId, transport: { push: api.push, pull: api.pull }, online: navigator.onLine,
    lastSyncAt: await getMeta(db, 'lastSyncAt', null),
  });
  const toaster = createToaster(toastRegion);
  const photoQueue = createPhotoQueue(db, { owner: () => user?.id ?? null });
  const photoSender = createPhotoSender({
    photos: photoQueue, outbox, upload: api.putPhoto, onChange: () => refresh('photos'),
  });
  const sendPhotos = () => photoSender.send().catch(() => {}); // failures are in each photo's state
  const shownPhotos = new Map(); // attachment id → blob URL, while the screen showing it is open
  const status = createStatusBar(statusBar, {
    onSignIn: () => navigate('/login'),
    onAttention: () => navigate('/attention'),
  });
  let router = null;
  let live = null;
  let user = (await session.token()) ? await session.user() : null;
  let declarations = await getMeta(db, 'declarations', null);
  let declarationsLoading = false;
  let directoryAt = 0;
  const watchers = new Set();

  /** Tell watch() listeners which records changed (`null`: maybe any). */
  function notifyWatchers(keys) {
    for (const listener of watchers) listener(keys);
  }

  // Not `location.hash = path`: that lays out the old screen to scroll (bench "field").
  const navigate = (path) => {
    if (currentPath() === path) return;
    globalThis.history.pushState(null, '', `#${path}`);
    globalThis.dispatchEvent(new HashChangeEvent('hashchange'));
  };
  const refresh = (...topics) => router?.refresh(topics);

  /**
   * Resolve once the sync round's first request (a push or a pull) has gone out, or
   * `synced` (the round) settles first.
   *
   * Sign-in waits for this before it draws the home screen and fetches the rules:
   * the round's few reads of the store before its first request then run on an
   * idle main thread, and the rest is done while the server answers (a phone's
   * first sync asked for its first page 0.5 s sooner, issue 16). Told by the
   * request itself, not the engine's phase, which changes before the request has
   * read its token.
   */
  function untilAsked(synced) {
    let told = null;
    return new Promise((resolve) => {
      told = resolve;
      syncAsked.add(told);
      synced.finally(resolve);
    }).finally(() => syncAsked.delete(told));
  }

  /** Say that syncing failed, and why. */
  const syncFailed = (error) => toaster.show(t('sync.error', { detail: error.message }), { urgent: true });

  /** Start the loop in the background; its failures land in the status bar. */
  function syncSoon() {
    engine.requestSync().catch(syncFailed);
  }

  /**
   * Fetch the rules; while a device that has none waits for them, its screens say they are
   * on their way rather than asking it to connect.
   */
  async function refreshDeclarations() {
    declarationsLoading = true;
    if (!declarations) await refresh('declarations');
    const fresh = await loadDeclarations({ db, api });
    declarationsLoading = false;
    if (!fresh || fresh.digest !== declarations?.digest) {
      declarations = fresh;
      await refresh('declarations');
    }
  }

  async function refreshDirectory() {
    try {
      const { users, devices = [] } = await api.directory();
      directoryAt = Date.now();
      const same = JSON.stringify(users) === JSON.stringify(await getMeta(db, 'directory', null))
        && JSON.stringify(devices) === JSON.stringify(await getMeta(db, 'devices', null));
      if (same) return; // nothing to redraw: a redraw would drop what the user sees mid-action
      await setMeta(db, 'directory', users);
      await setMeta(db, 'devices', devices);
      await refresh('people');
    } catch {
      // Offline: the kept directory names people until the next sync.
    }
  }

  async function connect() {
    live?.close();
    const token = await session.token();
    live = token ? connectLive({ token, engine, onGrants: () => refresh('grants') }) : null;
  }

  // Status refreshes run one after another: two overlapping ones could read
  // the outbox before and after a push and write the device mark out of order.
  // A refresh asked for while another waits to start is that one: it reads
  // the state when it starts (20 live events a second need one redraw, not 20).
  let statusDone = Promise.resolve();
  let statusWaiting = null;

  /** Redraw the status bar and the device mark; `relabel` after a language change. */
  function refreshStatus({ relabel = false } = {}) {
    if (statusWaiting && !relabel) return statusWaiting;
    const draw = () => {
      statusWaiting = null;
      return drawStatus(relabel);
    };
    statusDone = statusDone.then(draw, draw); // one failed refresh does not stop the next
    if (!relabel) statusWaiting = statusDone;
    return statusDone;
  }

  async function drawStatus(relabel) {
    if (relabel) status.reset();
    const [{ queued, rejected }, noticed, wiped] = await Promise.all([
      outbox.counts(), listAttention(db), getMeta(db, 'wipedNotice', null),
    ]);
    if (user) writeMark(localStore(), user.id, queued, new Date().toISOString());
    for (const element of document.querySelectorAll('[data-signed-in]')) element.hidden = !user;
    status.show(describeStatus(engine.state, {
      signedIn: Boolean(user),
      pending: queued - rejected,
      attention: rejected + noticed.length + (wiped ? 1 : 0),
    }));
  }

  async function afterOutboxChange() {
    notifyWatchers(null);
    await refresh('outbox', 'attention');
    await refreshStatus();
  }

  const records = {
    // Both read at once: an outbox read issued after a queued write waits for it.
    async views(type, where = {}) {
      const views = mergePending(...await Promise.all([recordsOfType(db, type, where), outbox.all()]));
      return viewsOfType(views, type).filter((view) => Object.entries(where).every(([field, value]) => view.fields[field] === value));
    },
    async view(type, id) {
      const [base, queued] = await Promise.all([getRecord(db, type, id), outbox.all()]);
      const touching = queued.filter((c) => recordKeys(c).includes(`${type}:${id}`));
      return mergePending(base ? [base] : [], touching).get(`${type}:${id}`) ?? null;
    },
    /** Return the views of some records of one type, by id (null where none is known). */
    async some(type, ids) {
      const [bases, queued] = await Promise.all([Promise.all(ids.map((id) => getRecord(db, type, id))), outbox.all()]);
      const wanted = new Set(ids.map((id) => `${type}:${id}`));
      const touching = queued.filter((c) => recordKeys(c).some((k) => wanted.has(k)));
      const views = mergePending(bases.filter(Boolean), touching);
      return ids.map((id) => views.get(`${type}:${id}`) ?? null);
    },
    /** Return the views of server records of one type not read from the store (a live event's). */
    async overlay(type, serverRecords) {
      const wanted = new Set(serverRecords.map((record) => `${type}:${record.id}`));
      const touching = (await outbox.all()).filter((c) => recordKeys(c).some((k) => wanted.has(k)));
      const views = mergePending(serverRecords, touching);
      return serverRecords.map((record) => views.get(`${type}:${record.id}`));
    },
  };

  const nameMap = async (type) => new Map((await recordsOfType(db, type)).map((r) => [r.id, r.fields.name ?? r.id]));
  const names = {
    compounds: () => nameMap('compound'),
    buildings: () => nameMap('building'),
    /** Return user id (as a string) → {name, role}. */
    async people() {
      const users = await getMeta(db, 'directory', []);
      return new Map(users.map((person) => [String(person.id), { name: person.display_name, role: person.role }]));
    },
    /** Return install (client_id) → device name, for the installs a coordinator's conflicts name. */
    async devices() {
      return new Map((await getMeta(db, 'devices', [])).map((device) => [device.client_id, device.name]));
    },
  };

  const attention = {
    async items() {
      const queue = await outbox.all();
      const rejected = queue.filter((c) => c.state === 'rejected');
      const blocked = queue.filter((c) => blockedIds(queue).has(c.id));
      const blockedBy = new Map(rejected.map((r) => {
        const keys = new Set(recordKeys(r));
        return [r.id, blocked.filter((b) => recordKeys(b).some((k) => keys.has(k))).length];
      }));
      const noticed = await listAttention(db);
      const merged = noticed.filter((item) => item.kind === 'merged');
      const grantsEnded = noticed.filter((item) => item.kind === 'grant_ended');
      return { rejected, blockedBy, merged, grantsEnded, wiped: await getMeta(db, 'wipedNotice', null) };
    },
    /** Return the server's record as this device last received it. */
    serverRecord: (type, id) => getRecord(db, type, id),
    async retry(id) {
      await outbox.retry(id, async (type, recordId) => (await getRecord(db, type, recordId))?.version ?? 0);
      await afterOutboxChange();
      syncSoon();
    },
    async discard(id) {
      await outbox.discard(id);
      await afterOutboxChange();
      syncSoon(); // what it was blocking may go now
    },
    async dismiss(seq) {
      await dismissAttention(db, seq);
      await afterOutboxChange();
    },
    async dismissWiped() {
      await deleteMeta(db, 'wipedNotice');
      await afterOutboxChange();
    },
  };

  const account = {
    previousUser: () => session.user(),
    queuedCount: () => outbox.count(),
    storagePersisted: async () => (await navigator.storage?.persisted?.()) ?? false,
    async signIn(username, password) {
      const { user: signedIn, lost } = await session.signIn(username, password);
      user = signedIn;
      if (lost) await setMeta(db, 'wipedNotice', lost);
      // The first sync starts at once: it needs neither the declarations nor the directory.
      const synced = engine.resumeAfterSignIn().catch(syncFailed);
      await untilAsked(synced);
      await requestPersistence();
      // The live socket connects once the first sync has ended: its handshake (four
      // requests, long-polling first) and socket.io's work then no longer share the
      // phone and the server with the first sync's pages (60-80 ms of a throttled
      // phone's 1.6 s of work, issue 16). Nothing is missed: an event before the
      // device holds a cursor only asks for a pull (sync.js, rule 4), and on connect
      // the engine runs a round (live.js), which pulls what changed meanwhile.
      synced.then(connect).catch(syncFailed);
      // Started before the first screen is drawn, so that it says the rules are on their way.
      const rules = refreshDeclarations();
      navigate(lost ? '/attention' : '/');
      await Promise.all([refreshStatus(), rules, refreshDirectory()]);
    },
    async signOut() {
      await session.signOut();
      live?.close();
      live = null;
      engine.stop();
      user = null;
      navigate('/login');
      await refreshStatus();
    },
  };

  const transfer = {
    async exportOutbox() {
      const data = await outbox.exportAll(clientId);
      download(`weiguang-outbox-${data.exported_at.replace(/[:.]/g, '-')}.json`, data);
    },
    async importOutbox(file) {
      try {
        const { added } = await outbox.importAll(JSON.parse(await file.text()));
        toaster.show(t('settings.imported', { count: added }));
      } catch {
        toaster.show(t('settings.import_failed'), { urgent: true });
        return;
      }
      await afterOutboxChange();
      if (user) syncSoon();
    },
  };

  const exports = {
    /** Fetch an export with its progress and save it (no timeout: a district's file takes a while). */
    async save(dataset, format, filters, onProgress) {
      const token = await session.token();
      const response = await fetch(exportPath(dataset, format, filters), {
        headers: { Authorization: `Bearer ${token}` },
        cache: 'no-store',
      });
      if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
      const blob = await readExport(response, format, onProgress);
      saveBlob(fileNameOf(response, dataset, format), blob);
    },
  };

  const supplies = {
    /** Read a pasted chain list against a round (server/chain_list.py); proposes only. */
    readChainList: (roundId, text) => api.request('POST', `/supplies/rounds/${encodeURIComponent(roundId)}/chain_list`, { body: { text } }),
    /** Make the round's delivery tasks (after its cut-off), then pull them. */
    async makeDeliveries(roundId) {
      const made = await api.request('POST', `/supplies/rounds/${encodeURIComponent(roundId)}/deliveries`, { body: {} });
      syncSoon();
      return made;
    },
  };

  const audit = {
    /** Return one page of the audit search: {entries, cursor, more}; needs the network. */
    search: (query) => api.audit(Object.fromEntries(Object.entries(query).filter(([, value]) => value !== '' && value != null))),
  };

  const glass = {
    /** Return {grants, compounds}: the grants in force the user sees, the compounds they may open. */
    list: () => api.request('GET', '/break-glass'),
    /** Open a compound; the server reconnects the live socket, a sync brings its records. */
    async open(compoundId, reason, minutes) {
      const grant = await api.request('POST', '/break-glass', { body: { compound_id: compoundId, reason, minutes } });
      syncSoon();
      return grant;
    },
    async end(id) {
      const grant = await api.request('POST', `/break-glass/${encodeURIComponent(id)}/end`, { body: {} });
      syncSoon();
      return grant;
    },
  };

  const files = {
    /** Ask the API for a file (a printed pass sheet) with the user's token and save it. */
    async save(path, { method = 'GET', body = null, filename }) {
      const token = await session.token();
      const response = await fetch(path, {
        method,
        headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : null,
        cache: 'no-store',
      });
      if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
      const [base, extension] = filename.split('.');
      saveBlob(fileNameOf(response, base, extension), await response.blob());
    },
  };

  /** Take back a queued changeset nobody has sent yet; return whether it was. */
  async function undo(id) {
    const changeset = await outbox.byId(id);
    if (!changeset || changeset.state !== 'pending') return false;
    await outbox.discard(id);
    await afterOutboxChange();
    return true;
  }

  async function queue(changes, message, { undoable = false } = {}) {
    const changeset = await outbox.add(changes);
    notifyWatchers(changes.map(({ type, id }) => ({ type, id })));
    const text = engine.state.online ? message : `${message} ${t('sync.saved_offline')}`;
    toaster.show(text, undoable ? {
      action: t('common.undo'),
      onAction: async () => toaster.show(t(await undo(changeset.id) ? 'common.undone' : 'common.too_late')),
      while: () => outbox.byId(changeset.id).then((c) => c?.state === 'pending'),
    } : {});
    await refresh(...changes.map((change) => `record:${change.type}`), 'outbox');
    await refreshStatus();
    syncSoon();
    return changeset;
  }

  const services = {
    get user() {
      return user;
    },
    get declarations() {
      return declarations;
    },
    /** True while the rules are being fetched for a device that has none yet. */
    get declarationsLoading() {
      return declarationsLoading && !declarations;
    },
    records,
    watch(listener) {
      watchers.add(listener);
      return () => watchers.delete(listener);
    },
    names,
    queue,
    toast: (message, options) => toaster.show(message, options),
    navigate,
    redraw: () => router.redraw(),
    attention,
    account,
    transfer,
    exports,
    supplies,
    progress: createProgressSource({ api, db }),
    files,
    /** When the last clean sync round ended (ISO), or null: how fresh the gate's policy is. */
    syncedAt: () => engine.state.lastSyncAt ?? null,
    audit,
    glass,
    photos: {
      async add(kind, recordId, file) {
        await photoQueue.add({ kind, recordId, blob: await downscale(file) });
        await refresh('photos');
        sendPhotos();
      },
      ofRecord: (recordId) => photoQueue.ofRecord(recordId),
      async shown(recordId) {
        try {
          const { attachments } = await api.photosOf(recordId);
          return await Promise.all(attachments.map(async ({ id }) => {
            if (!shownPhotos.has(id)) shownPhotos.set(id, URL.createObjectURL(await api.photo(id)));
            return shownPhotos.get(id);
          }));
        } catch (error) {
          return error instanceof ApiError ? [] : null;
        }
      },
    },
  };

  return {
    services,
    toaster,
    outbox,
    api,
    isSignedIn: () => Boolean(user),
    setRouter(value) {
      router = value;
    },
    refreshStatus,

    /** Start syncing for a user who was already signed in. */
    async start() {
      engine.subscribe((what, _state, types, touched) => {
        if (what === 'incoming') {
          notifyWatchers(touched.map((record) => ({ type: record.type, id: record.id, record })));
          return;
        }
        if (what === 'records') {
          notifyWatchers(touched.map(({ type, id, version }) => ({ type, id, version })));
          refresh(...types.map((type) => `record:${type}`));
          // A new conflict may name a device the kept directory does not know yet.
          if (types.includes('conflict')) refreshDirectory();
        }
        if (what === 'forgotten') {
          // A grant ended (sync.js, rule 9): every screen drops what it showed of the records.
          notifyWatchers(null);
          refresh('attention', ...Object.keys(declarations?.types ?? {}).map((type) => `record:${type}`));
        }
        if (what === 'outbox') {
          refresh('outbox', 'attention');
          toaster.recheck();
        }
        if (what === 'synced') {
          live?.ensureConnected();
          sendPhotos(); // the outbox is empty now: photos whose records waited go
          if (Date.now() - directoryAt > DIRECTORY_TTL_MS) refreshDirectory();
        }
        if (what === 'state' && engine.state.phase === PHASE.SIGNED_OUT) toaster.show(t('status.signed_out_toast'), { urgent: true });
        refreshStatus();
      });
      globalThis.addEventListener('hashchange', () => {
        for (const url of shownPhotos.values()) URL.revokeObjectURL(url);
        shownPhotos.clear();
      });
      globalThis.addEventListener('online', () => {
        engine.setOnline(true);
        sendPhotos();
      });
      globalThis.addEventListener('offline', () => engine.setOnline(false));
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible' && user) syncSoon();
      });
      await refreshStatus();
      await requestPersistence();
      await refreshDeclarations();
      if (user) {
        await connect();
        await refreshDirectory();
        syncSoon();
      }
    },
  };
}
