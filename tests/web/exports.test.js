import assert from 'node:assert/strict';
import { test } from 'node:test';

import { exportPath, fileNameOf, progressOf, readExport } from '../../web/app/exports/download.js';

function streamed(chunks, headers) {
  const body = new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
  return new Response(body, { headers });
}

test('a CSV export reports rows over records, below 1 until it ends', async () => {
  const seen = [];
  const response = streamed(['\ufeffid,name\r\n1,a\r\n', '2,b\r\n3,c\r\n', '4,d\r\n'], { 'X-Export-Records': '4' });
  const blob = await readExport(response, 'csv', (progress) => seen.push(progress));
  assert.deepEqual(seen.map((p) => p.rows), [1, 3, 4, 4]);
  assert.deepEqual(seen.map((p) => p.fraction), [0.25, 0.75, 0.99, 1]);
  // The byte order mark stays in the file (Blob.text() would drop it in decoding).
  const bytes = new Uint8Array(await blob.arrayBuffer());
  assert.deepEqual([...bytes.slice(0, 3)], [0xef, 0xbb, 0xbf]);
  assert.equal(new TextDecoder().decode(bytes.slice(3)), 'id,name\r\n1,a\r\n2,b\r\n3,c\r\n4,d\r\n');
  assert.equal(seen.at(-1).bytes, blob.size);
});

test('an XLSX export or one without a record count reports bytes only', () => {
  assert.equal(progressOf('xlsx', { bytes: 10, lines: 0, records: 5, done: false }).fraction, null);
  assert.equal(progressOf('csv', { bytes: 10, lines: 3, records: 0, done: false }).fraction, null);
  assert.equal(progressOf('xlsx', { bytes: 10, lines: 0, records: 5, done: true }).fraction, 1);
});

test('the path names the dataset, the format and the compound', () => {
  assert.equal(exportPath('tasks', 'csv'), '/api/v1/exports/tasks.csv');
  assert.equal(exportPath('picking_list', 'xlsx', { compound_id: 'a b' }), '/api/v1/exports/picking_list.xlsx?compound_id=a+b');
  assert.equal(exportPath('picking_list', 'csv', { compound_id: '', supply_round_id: 'r1' }), '/api/v1/exports/picking_list.csv?supply_round_id=r1');
});

test('the file name comes from the server, else from the dataset', () => {
  const named = new Response('', { headers: { 'Content-Disposition': 'attachment; filename="tasks-20261130-0800.csv"' } });
  assert.equal(fileNameOf(named, 'tasks', 'csv'), 'tasks-20261130-0800.csv');
  assert.equal(fileNameOf(new Response(''), 'tasks', 'csv'), 'tasks.csv');
});
