/**
 * Talk to the Weiguang HTTP API (`/api/v1/...`, see the sync contract).
 *
 * Every call carries the device token as `Authorization: Bearer ...` except
 * login, health, the API description and the published declarations. Errors come back as
 * problem+json; they are thrown as ApiError carrying the status and the
 * problem object. A request that never got an answer (no signal, timeout)
 * is thrown as NetworkError, so callers can tell "offline" from "refused".
 */
import { SCHEMA_HEADER, SCHEMA_VERSION } from './schema.js';

export const API_PREFIX = '/api/v1';
export const REQUEST_TIMEOUT_MS = 30_000;

export class ApiError extends Error {
  /** `retryAfterMs`: how long the server asked to wait (its Retry-After), or null. */
  constructor(status, problem, retryAfterMs = null) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem ?? {};
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Read a Retry-After header (RFC 9110, section 10.2.3: seconds, or an
 * HTTP-date) as milliseconds from `now`; null when absent or unreadable.
 */
export function retryAfterMs(value, now = Date.now()) {
  const text = value?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Every HTTP-date form names a day or month; Date.parse takes much else.
  const at = /[a-z]{3}/i.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

export class NetworkError extends Error {
  constructor(cause) {
    super('network unavailable');
    this.name = 'NetworkError';
    this.cause = cause;
  }
}

async function readProblem(response) {
  try {
    const body = await response.json();
    return body && typeof body === 'object' ? body : { detail: String(body) };
  } catch {
    return { title: response.statusText };
  }
}

/**
 * `onSend(method, path)` is told of each request as it goes out: once its token is
 * read and `fetch` asked (app.js waits for a sign-in's first sync request so).
 */
export function createApi({ fetch = globalThis.fetch.bind(globalThis), baseUrl = '', getToken = async () => null, timeoutMs = REQUEST_TIMEOUT_MS, onSend = () => {} } = {}) {
  /** `raw`: bytes sent as they are (with `headers` naming their type) instead of a JSON `body`; `blob`: the reply's bytes. */
  async function request(method, path, { body, raw, blob, headers = {}, auth = true } = {}) {
    const allHeaders = { Accept: 'application/json', ...headers };
    if (body !== undefined) allHeaders['Content-Type'] = 'application/json';
    if (auth) {
      const token = await getToken();
      if (token) allHeaders.Authorization = `Bearer ${token}`;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let response;
    try {
      const sent = fetch(`${baseUrl}${API_PREFIX}${path}`, {
        method,
        headers: allHeaders,
        body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
        signal: controller.signal,
        cache: 'no-store',
      });
      onSend(method, path);
      response = await sent;
    } catch (error) {
      throw new NetworkError(error);
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) {
      const wait = retryAfterMs(response.headers.get('Retry-After'));
      throw new ApiError(response.status, await readProblem(response), wait);
    }
    if (response.status === 204) return null;
    if (blob) return response.blob();
    try {
      return await response.json();
    } catch (error) {
      // A captive portal or proxy answering 200 with HTML is not our server.
      throw new NetworkError(error);
    }
  }

  const schemaHeader = (schema) => ({ [SCHEMA_HEADER]: String(schema ?? SCHEMA_VERSION) });

  return {
    request,
    login: (username, password, deviceName) =>
      request('POST', '/auth/login', { body: { username, password, device_name: deviceName }, auth: false }),
    logout: () => request('POST', '/auth/logout', { body: {} }),
    push: (body, schema) => request('POST', '/sync/push', { body, headers: schemaHeader(schema) }),
    pull: (cursor, limit, types) => {
      const query = new URLSearchParams({ cursor, limit });
      if (types) query.set('types', types.join(','));
      return request('GET', `/sync/pull?${query}`, { headers: schemaHeader() });
    },
    openapi: () => request('GET', '/openapi.json', { auth: false }),
    declarations: () => request('GET', '/declarations', { auth: false }),
    directory: () => request('GET', '/users/directory'),
    /** Search the audit trail (coordinators): `query` holds the filters and `cursor`. */
    audit: (query) => request('GET', `/audit?${new URLSearchParams(query)}`),
    health: () => request('GET', '/health', { auth: false }),
    /** Send a kept photo (photos.js); the same photo again is answered 200 (idempotent). */
    putPhoto: (photo) => request('PUT', `/attachments/${photo.id}?${new URLSearchParams({ kind: photo.kind, record_id: photo.record_id })}`, {
      raw: photo.data, headers: { 'Content-Type': photo.type },
    }),
    /** The photos of a record the user may see ({attachments: [{id, kind, ...}]}), and one photo's bytes. */
    photosOf: (recordId) => request('GET', `/attachments?${new URLSearchParams({ record_id: recordId })}`),
    photo: (id) => request('GET', `/attachments/${encodeURIComponent(id)}`, { blob: true }),
  };
}
