/**
 * What a device loads at start, and its gzip size: one measure for the shell
 * budget test (tests/web/shell.test.js) and the web bench (bench/web.py).
 *
 * The start files are what web/index.html names, the service worker it
 * registers, then every static import of those scripts. Dynamic `import()`
 * is not followed: it loads on demand (another language's catalogue, say).
 * Sizes are gzip level 9, one file at a time, in bytes.
 *
 * Usage: node scripts/shell-start.js  → JSON {own, vendor, files, catalogue}
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const WEB = fileURLToPath(new URL('../web/', import.meta.url));
/** A language catalogue, as a path under web/. */
export const CATALOGUE = /^app\/i18n\/(.+)\.js$/;
const NAMED = /(?:href|src)="\/([^"]+\.(?:js|css|webmanifest))"/g;
const STATIC_IMPORT = /(?:^|[;\n])\s*(?:import|export)\s*(?:[\w*{}\s,$]+?\s*from\s*)?'([^']+)'/g;

/** Return the files loaded at start, as sorted paths under `web`. */
export function startFiles(web = WEB) {
  const seen = new Set(['index.html', 'sw.js']);
  const pending = [...readFileSync(join(web, 'index.html'), 'utf8').matchAll(NAMED)].map((m) => m[1]);
  while (pending.length) {
    const path = pending.pop();
    if (seen.has(path)) continue;
    seen.add(path);
    if (!path.endsWith('.js')) continue;
    for (const [, target] of readFileSync(join(web, path), 'utf8').matchAll(STATIC_IMPORT)) {
      pending.push(relative(web, join(web, dirname(path), target)));
    }
  }
  return [...seen].sort();
}

/** Return the gzip size of `path` under `web`, in bytes. */
export function gzipped(path, web = WEB) {
  return gzipSync(readFileSync(join(web, path)), { level: 9 }).length;
}

/**
 * Measure the start of a user of the largest catalogue not loaded at start.
 *
 * @returns {{own: number, vendor: number, files: number, catalogue: number}}
 *   bytes of own files (the catalogue included) and of web/vendor/ files,
 *   the number of files, and the bytes of that catalogue.
 */
export function startSizes(web = WEB) {
  const start = startFiles(web);
  const others = readdirSync(join(web, 'app/i18n')).map((name) => `app/i18n/${name}`).filter((p) => !start.includes(p));
  const catalogue = Math.max(0, ...others.map((path) => gzipped(path, web)));
  const sum = (paths) => paths.reduce((total, path) => total + gzipped(path, web), 0);
  return {
    own: sum(start.filter((p) => !p.startsWith('vendor/'))) + catalogue,
    vendor: sum(start.filter((p) => p.startsWith('vendor/'))),
    files: start.length + (others.length ? 1 : 0),
    catalogue,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(JSON.stringify(startSizes()));
