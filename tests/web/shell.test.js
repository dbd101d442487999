// The service worker's precache list, the manifest, the shell's size budget
// and the pure helpers of the shell (routes, status, schema, wiped store).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { matchRoute } from '../../web/app/router.js';
import { serverAccepts, supportedSchemas } from '../../web/app/schema.js';
import { describeStatus } from '../../web/app/status.js';
import { PHASE } from '../../web/app/sync.js';
import { mayActivateUpdate } from '../../web/app/update.js';
import { detectWipedStore } from '../../web/app/wipe.js';

const WEB = fileURLToPath(new URL('../../web/', import.meta.url));
const NOT_SHELL = /^vendor\/.*\/(LICENSE|.*\.map)$|^vendor\/(README\.md|VERSIONS)$|^sw\.js$/;

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [relative(WEB, path)];
  });
}

function precacheList() {
  const source = readFileSync(join(WEB, 'sw.js'), 'utf8');
  const list = source.match(/const SHELL_FILES = \[([\s\S]*?)\];/)[1];
  return [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]);
}

test('the service worker precaches every shell file, and only existing ones', () => {
  const listed = precacheList();
  const shell = files(WEB).filter((path) => !NOT_SHELL.test(path)).map((path) => `/${path}`);
  assert.deepEqual(shell.filter((path) => !listed.includes(path)), [], 'shell files missing from SHELL_FILES');
  assert.deepEqual(listed.filter((path) => path !== '/' && !shell.includes(path)), [], 'listed files that do not exist');
});

test('the service worker uses a prefixed versioned cache and never serves the API', () => {
  const source = readFileSync(join(WEB, 'sw.js'), 'utf8');
  assert.match(source, /const CACHE_PREFIX = 'weiguang-';/);
  assert.match(source, /SHELL_CACHE = `\$\{CACHE_PREFIX\}shell-\$\{SHELL_VERSION\}`/);
  assert.match(source, /startsWith\('\/api\/'\)/);
  assert.match(source, /startsWith\('\/socket\.io\/'\)/);
  assert.doesNotMatch(source, /skipWaiting\(\)[^;]*;\s*\}\);\s*\n\s*self\.addEventListener\('activate'/, 'no skipWaiting on install');
});

test('the manifest is installable: standalone, start_url, 192/512 and maskable icons', () => {
  const manifest = JSON.parse(readFileSync(join(WEB, 'manifest.webmanifest'), 'utf8'));
  assert.equal(manifest.display, 'standalone');
  assert.equal(manifest.start_url, '/');
  for (const key of ['name', 'short_name', 'theme_color', 'background_color']) assert.ok(manifest[key], key);
  const sizes = manifest.icons.map((icon) => `${icon.sizes} ${icon.purpose}`);
  assert.ok(sizes.includes('192x192 any') && sizes.includes('512x512 any') && sizes.includes('512x512 maskable'));
  for (const icon of manifest.icons) {
    const png = readFileSync(join(WEB, icon.src));
    const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    assert.equal(`${width}x${height}`, icon.sizes, icon.src);
  }
});

test('the shell stays within its size budget (gzip)', () => {
  const gz = (path) => gzipSync(readFileSync(join(WEB, path))).length;
  const shell = files(WEB).filter((p) => /\.(html|js|css|webmanifest)$/.test(p) && !p.startsWith('vendor/'));
  const own = shell.reduce((sum, path) => sum + gz(path), 0);
  const vendor = gz('vendor/idb/index.js') + gz('vendor/socket.io/socket.io.esm.min.js');
  assert.ok(own < 150 * 1024, `own shell ${own} bytes`);
  assert.ok(own + vendor < 300 * 1024, `with vendor ${own + vendor} bytes`);
});

test('routes match with parameters, and unknown paths match nothing', () => {
  const routes = [['/', 'home'], ['/tasks', 'list'], ['/tasks/new', 'new'], ['/tasks/:id', 'detail']];
  assert.deepEqual(matchRoute(routes, '/tasks/new'), { screen: 'new', params: {} });
  assert.deepEqual(matchRoute(routes, '/tasks/a%20b'), { screen: 'detail', params: { id: 'a b' } });
  assert.deepEqual(matchRoute(routes, '/'), { screen: 'home', params: {} });
  assert.equal(matchRoute(routes, '/nope/x/y'), null);
});

test('the status bar reports signed-out, pending and attention counts', () => {
  const summary = describeStatus({ phase: PHASE.SIGNED_OUT, lastSyncAt: null, firstSync: null }, { pending: 3, attention: 1 });
  assert.deepEqual(summary, { connection: 'signed_out', pending: 3, attention: 1, lastSyncAt: null, firstSync: null });
  assert.equal(describeStatus({ phase: PHASE.PULLING }).connection, 'syncing');
});

test('the server schema range is read from the API description and checked', () => {
  const range = supportedSchemas({ info: { 'x-weiguang-schema': { current: 3, oldest: 2 } } });
  assert.deepEqual(range, { current: 3, oldest: 2 });
  assert.equal(serverAccepts(range, [2, 3]), true);
  assert.equal(serverAccepts(range, [1, 3]), false);
  assert.equal(serverAccepts(supportedSchemas({ info: {} }), [1]), false);
});

test('a waiting update takes over only if nothing queued would be stranded', async () => {
  const outbox = (schemas) => ({ all: async () => schemas.map((schema) => ({ schema })) });
  const api = (range) => ({ openapi: async () => ({ info: { 'x-weiguang-schema': range } }) });
  const offline = { openapi: async () => { throw new Error('offline'); } };
  assert.deepEqual(await mayActivateUpdate({ outbox: outbox([]), api: offline }), { ok: true });
  assert.deepEqual(await mayActivateUpdate({ outbox: outbox([1]), api: offline }), { ok: false, reason: 'unreachable' });
  assert.deepEqual(await mayActivateUpdate({ outbox: outbox([1]), api: api({ current: 2, oldest: 1 }) }), { ok: true });
  assert.deepEqual(await mayActivateUpdate({ outbox: outbox([1]), api: api({ current: 2, oldest: 2 }) }), { ok: false, reason: 'unsupported' });
});

test('a wiped store is detected when the server remembers a changeset this device does not', () => {
  const login = { user: { id: 'u' }, sync: { last_changeset_id: 'cs-9', last_changeset_at: '2022-04-01T10:00:00Z' } };
  assert.deepEqual(detectWipedStore(login, { lastAccepted: null, cursor: 0 }), { id: 'cs-9', at: '2022-04-01T10:00:00Z' });
  assert.equal(detectWipedStore(login, { lastAccepted: { id: 'cs-9' }, cursor: 40 }), null);
  assert.equal(detectWipedStore({ user: { id: 'u' }, sync: { last_changeset_id: null } }, { lastAccepted: null, cursor: 0 }), null);
});
