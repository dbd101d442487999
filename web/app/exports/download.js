/**
 * Fetch an export (GET /api/v1/exports/{dataset}.{format}, sync-contract.md
 * "Exports") while telling how far it got. Pure apart from the fetch given.
 *
 * The server sends `X-Export-Records`, how many records it reads; a CSV has
 * a line per row, so lines received over records is the progress (capped
 * below 1 until the body ends: a multi-line note or a picking list's rows
 * make the count approximate). An XLSX file is finished before it is sent,
 * so it reports bytes only (`fraction: null`).
 */

/** The datasets each role may export (the server answers 403 to the rest). */
export const DATASETS_BY_ROLE = Object.freeze({
  coordinator: ['residents', 'visits', 'test_results', 'tasks', 'orders', 'picking_list', 'gate_events', 'volunteer_hours'],
  team_leader: ['orders', 'picking_list'],
});

export const FORMATS = Object.freeze(['csv', 'xlsx']);
const MEDIA = Object.freeze({
  csv: 'text/csv;charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
});
const NEWLINE = 0x0a;
const MOST_BEFORE_END = 0.99;

/**
 * Return the export's path: `/api/v1/exports/{dataset}.{format}?{filters}`,
 * the filters (`compound_id`, `supply_round_id`, `test_round_id`) given a value.
 */
export function exportPath(dataset, format, filters = {}) {
  const given = Object.entries(filters).filter(([, value]) => value);
  const query = given.length ? `?${new URLSearchParams(given)}` : '';
  return `/api/v1/exports/${encodeURIComponent(dataset)}.${format}${query}`;
}

/** Return the progress of a download so far: `{bytes, rows, fraction}` (fraction null if unknown). */
export function progressOf(format, { bytes, lines, records, done }) {
  const rows = Math.max(0, lines - 1);
  if (done) return { bytes, rows, fraction: 1 };
  if (format !== 'csv' || !(records > 0)) return { bytes, rows, fraction: null };
  return { bytes, rows, fraction: Math.min(rows / records, MOST_BEFORE_END) };
}

function countLines(chunk) {
  let count = 0;
  for (const byte of chunk) if (byte === NEWLINE) count += 1;
  return count;
}

/** The file name the server suggests, or a plain one. */
export function fileNameOf(response, dataset, format) {
  const match = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') ?? '');
  return match ? match[1] : `${dataset}.${format}`;
}

/**
 * Read an export's response body, calling `onProgress(progressOf(...))` per
 * chunk; return the file as a Blob.
 */
export async function readExport(response, format, onProgress = () => {}) {
  const records = Number(response.headers.get('X-Export-Records') ?? 0);
  const reader = response.body.getReader();
  const parts = [];
  let bytes = 0;
  let lines = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    bytes += value.byteLength;
    if (format === 'csv') lines += countLines(value);
    onProgress(progressOf(format, { bytes, lines, records, done: false }));
  }
  onProgress(progressOf(format, { bytes, lines, records, done: true }));
  return new Blob(parts, { type: MEDIA[format] });
}
