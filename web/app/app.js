/**
 * Wire the device store, outbox, sync engine, socket and screens together
 * into the `app` object every screen receives.
 *
 * Screens read records through recordViews()/recordView(), which always
 * re-apply the outbox over the server's state (merge.js), and change things
 * only through queue(), which puts a changeset in the outbox and wakes the
 * sync loop. Nothing here talks to the network directly except sign-in.
 */
import { createApi } from './api.js';
import { dismissAttention, getMeta, getRecord, deleteMeta, listAttention, recordsOfType, setMeta } from './db.js';
import { t } from './i18n.js';
import { connectLive } from './live.js';
import { mergePending, viewsOfType } from './merge.js';
import { blockedIds, createOutbox, recordKeys } from './outbox.js';
import { createSession } from './session.js';
import { describeStatus, renderStatus } from './status.js';
import { createSyncEngine, PHASE } from './sync.js';
import { createToaster } from './ui/toast.js';

async function ensureClientId(db) {
  let id = await getMeta(db, 'clientId', null);
  if (!id) {
    id = crypto.randomUUID();
    await setMeta(db, 'clientId', id);
  }
  return id;
}

function download(filename, data) {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function createApp({ db, statusBar, toastRegion }) {
  const clientId = await ensureClientId(db);
  const outbox = createOutbox(db);
  const api = createApi({ getToken: () => getMeta(db, 'token', null) });
  const session = createSession({ db, api, outbox });
  const engine = createSyncEngine({
    db, outbox, clientId, transport: { push: api.push, pull: api.pull }, online: navigator.onLine,
  });
  const toaster = createToaster(toastRegion);
  let router = null;
  let live = null;

  /** Start the loop in the background; its failures land in the status bar. */
  function syncSoon() {
    engine.requestSync().catch((error) => toaster.show(t('sync.error', { detail: error.message })));
  }

  async function connect() {
    live?.close();
    const token = await session.token();
    live = token ? connectLive({ token, engine }) : null;
  }

  async function refreshStatus() {
    const [pending, rejected, attention, wiped] = await Promise.all([
      outbox.pending(), outbox.rejected(), listAttention(db), getMeta(db, 'wipedNotice', null),
    ]);
    const summary = describeStatus(engine.state, {
      pending: pending.length,
      attention: rejected.length + attention.length + (wiped ? 1 : 0),
    });
    renderStatus(statusBar, summary, {
      onSignIn: () => app.navigate('/login'),
      onAttention: () => app.navigate('/attention'),
    });
  }

  const app = {
    db, outbox, engine, session, api, clientId,
    user: (await session.token()) ? await session.user() : null,

    setRouter(value) {
      router = value;
    },
    navigate(path) {
      globalThis.location.hash = path;
    },
    toast(message) {
      toaster.show(message);
    },
    toaster,
    redraw: () => router.redraw(),
    refreshStatus,

    async recordViews(type) {
      const views = mergePending(await recordsOfType(db, type), await outbox.all());
      return viewsOfType(views, type);
    },
    async recordView(type, id) {
      const base = await getRecord(db, type, id);
      const touching = (await outbox.all()).filter((c) => recordKeys(c).includes(`${type}:${id}`));
      return mergePending(base ? [base] : [], touching).get(`${type}:${id}`) ?? null;
    },
    async compoundNames() {
      const compounds = await recordsOfType(db, 'compound');
      return new Map(compounds.map((c) => [c.id, c.fields.name ?? c.id]));
    },

    /** Queue one user action's changes and sync when possible. */
    async queue(changes, message) {
      await outbox.add(changes);
      toaster.show(engine.state.online ? message : `${message} ${t('sync.saved_offline')}`);
      await router.refresh();
      await refreshStatus();
      syncSoon();
    },

    async attentionItems() {
      const queue = await outbox.all();
      const rejected = queue.filter((c) => c.state === 'rejected');
      const blocked = queue.filter((c) => blockedIds(queue).has(c.id));
      const blockedBy = new Map(rejected.map((r) => {
        const keys = new Set(recordKeys(r));
        return [r.id, blocked.filter((b) => recordKeys(b).some((k) => keys.has(k))).length];
      }));
      const merged = (await listAttention(db)).filter((item) => item.kind === 'merged');
      return { rejected, blockedBy, merged, wiped: await getMeta(db, 'wipedNotice', null) };
    },
    async retryChangeset(id) {
      await outbox.retry(id, async (type, recordId) => (await getRecord(db, type, recordId))?.version ?? 0);
      await router.refresh();
      await refreshStatus();
      syncSoon();
    },
    async discardChangeset(id) {
      await outbox.discard(id);
      await router.refresh();
      await refreshStatus();
      syncSoon(); // what it was blocking may go now
    },
    async dismissAttention(seq) {
      await dismissAttention(db, seq);
      await router.refresh();
      await refreshStatus();
    },
    async dismissWiped() {
      await deleteMeta(db, 'wipedNotice');
      await router.refresh();
      await refreshStatus();
    },

    async exportOutbox() {
      const data = await outbox.exportAll(clientId);
      const stamp = data.exported_at.replace(/[:.]/g, '-');
      download(`weiguang-outbox-${stamp}.json`, data);
    },
    async importOutbox(file) {
      try {
        const { added } = await outbox.importAll(JSON.parse(await file.text()));
        toaster.show(t('settings.imported', { count: added }));
      } catch {
        toaster.show(t('settings.import_failed'));
        return;
      }
      await router.refresh();
      await refreshStatus();
      if (app.user) syncSoon();
    },

    async signIn(username, password) {
      const { user, wiped } = await session.signIn(username, password);
      app.user = user;
      if (wiped) await setMeta(db, 'wipedNotice', wiped);
      await requestPersistence();
      await connect();
      app.navigate(wiped ? '/attention' : '/');
      await refreshStatus();
      engine.resumeAfterSignIn().catch((error) => toaster.show(t('sync.error', { detail: error.message })));
    },
    async signOut() {
      await session.signOut();
      live?.close();
      live = null;
      engine.stop();
      app.user = null;
      app.navigate('/login');
      await refreshStatus();
    },
    async storagePersisted() {
      return (await navigator.storage?.persisted?.()) ?? false;
    },

    /** Start syncing for a user who was already signed in. */
    async start() {
      engine.subscribe((what) => {
        if (what === 'records' || what === 'outbox') router?.refresh();
        if (what === 'synced') live?.ensureConnected();
        if (what === 'state' && engine.state.phase === PHASE.SIGNED_OUT) toaster.show(t('status.signed_out_toast'));
        refreshStatus();
      });
      globalThis.addEventListener('online', () => engine.setOnline(true));
      globalThis.addEventListener('offline', () => engine.setOnline(false));
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible' && app.user) syncSoon();
      });
      await refreshStatus();
      if (app.user) {
        await connect();
        syncSoon();
      }
    },
  };

  /** Ask the browser not to evict the store: it holds unsynced work. */
  async function requestPersistence() {
    try {
      await navigator.storage?.persist?.();
    } catch {
      // Not supported: the export file is the fallback.
    }
  }

  await requestPersistence();
  return app;
}
