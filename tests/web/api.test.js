import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ApiError, createApi, NetworkError, retryAfterMs } from '../../web/app/api.js';

function fakeFetch(respond) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    return respond(url, init);
  };
  return { fetch, calls };
}

const json = (status, body, type = 'application/json') =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });

test('calls carry the bearer token and the schema header on push and pull', async () => {
  const { fetch, calls } = fakeFetch(() => json(200, { changes: [], cursor: 0, more: false }));
  const api = createApi({ fetch, getToken: async () => 'tok-1' });
  await api.pull(12, 500);
  await api.push({ client_id: 'c', changesets: [] }, 1);
  assert.equal(calls[0].url, '/api/v1/sync/pull?cursor=12&limit=500');
  assert.equal(calls[0].init.headers.Authorization, 'Bearer tok-1');
  assert.equal(calls[0].init.headers['Weiguang-Schema'], '1');
  assert.equal(calls[1].init.method, 'POST');
  assert.equal(JSON.parse(calls[1].init.body).client_id, 'c');
});

test('each request is told as it goes out: after its token is read, before its answer', async () => {
  const told = [];
  let answer = null;
  const fetch = (url) => new Promise((resolve) => {
    told.push(`fetch ${url}`);
    answer = () => resolve(json(200, { changes: [], cursor: 0, more: false }));
  });
  const getToken = async () => {
    told.push('token');
    return 't';
  };
  const api = createApi({ fetch, getToken, onSend: (method, path) => told.push(`sent ${method} ${path}`) });
  const pulled = api.pull(0, 10);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(told, ['token', 'fetch /api/v1/sync/pull?cursor=0&limit=10', 'sent GET /sync/pull?cursor=0&limit=10']);
  answer();
  await pulled;
  assert.equal(told.length, 3, 'told once');
});

test('login sends no token and names the device', async () => {
  const { fetch, calls } = fakeFetch(() => json(200, { token: 't', user: { id: 'u' } }));
  const api = createApi({ fetch, getToken: async () => 'old' });
  await api.login('vol-a', 'pw', 'phone');
  assert.equal(calls[0].init.headers.Authorization, undefined);
  assert.deepEqual(JSON.parse(calls[0].init.body), { username: 'vol-a', password: 'pw', device_name: 'phone' });
});

test('problem+json errors become ApiError with status and problem', async () => {
  const problem = { type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'token revoked' };
  const { fetch } = fakeFetch(() => json(401, problem, 'application/problem+json'));
  const error = await createApi({ fetch }).pull(0, 10).catch((e) => e);
  assert.ok(error instanceof ApiError);
  assert.equal(error.status, 401);
  assert.deepEqual(error.problem, problem);
  assert.equal(error.message, 'token revoked');
});

test('no answer at all is a NetworkError, as is a 200 that is not JSON', async () => {
  const down = createApi({ fetch: async () => { throw new TypeError('Failed to fetch'); } });
  await assert.rejects(down.health(), NetworkError);
  const portal = createApi({ fetch: async () => new Response('<html>wifi login</html>', { status: 200 }) });
  await assert.rejects(portal.health(), NetworkError);
});

test('a request that hangs is aborted after the timeout', async () => {
  const hang = (url, init) => new Promise((resolve, reject) => {
    init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
  });
  await assert.rejects(createApi({ fetch: hang, timeoutMs: 10 }).health(), NetworkError);
});

test('an error carries the Retry-After it came with, as milliseconds', async () => {
  const now = Date.parse('2022-04-02T10:00:00Z');
  assert.equal(retryAfterMs('30', now), 30_000);
  assert.equal(retryAfterMs(' 0 ', now), 0);
  assert.equal(retryAfterMs('Sat, 02 Apr 2022 10:01:30 GMT', now), 90_000);
  assert.equal(retryAfterMs('Sat, 02 Apr 2022 09:00:00 GMT', now), 0, 'a date past is now');
  for (const unreadable of [null, '', 'soon', '-5', '1.5']) assert.equal(retryAfterMs(unreadable, now), null);
  const problem = { title: 'Too Many Requests', status: 429 };
  const { fetch } = fakeFetch(
    () => new Response(JSON.stringify(problem), {
      status: 429,
      headers: { 'Content-Type': 'application/problem+json', 'Retry-After': '12' },
    }),
  );
  const api = createApi({ fetch, getToken: async () => 't' });
  await assert.rejects(api.push({ client_id: 'c', changesets: [] }), (error) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 429);
    assert.equal(error.retryAfterMs, 12_000);
    return true;
  });
});
