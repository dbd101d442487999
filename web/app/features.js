/**
 * The features the shell knows: each is a folder of web/app/ exporting
 *
 *     {section, home, routes: [[pattern, screen], ...]}
 *
 * `section` is the home tile it fills (home.js lists sections per role) and
 * `home` the route the tile opens; an optional `card` ({render, uses,
 * follows}, a screen's shape; render may return null) is shown on the home
 * screen above the tiles, and an optional `count` ({follows: [topics],
 * of: async (records) => number}) on its tile (the conflicts waiting, say).
 * Adding a feature is one line here.
 */
import audit from './audit/index.js';
import board from './board/index.js';
import conflicts from './conflicts/index.js';
import exportsFeature from './exports/index.js';
import glass from './glass/index.js';
import medRequests from './med_requests/index.js';
import gate, { log as gateLog, visitors } from './gate/index.js';
import notices from './notices/index.js';
import progress from './progress/index.js';
import supplies, { ordersFeature, pickingFeature } from './supplies/index.js';
import screening from './screening/index.js';
import tasks from './tasks/index.js';
import testing from './testing/index.js';
import volunteers from './volunteers/index.js';

export const FEATURES = Object.freeze([
  tasks, exportsFeature, board, progress, screening, testing, volunteers, gate, visitors, gateLog,
  supplies, ordersFeature, pickingFeature, medRequests, conflicts, notices, audit, glass,
]);

/** Return every feature's routes. */
export function featureRoutes(features = FEATURES) {
  return features.flatMap((feature) => feature.routes);
}

/** Return the route a home section opens, or null when no feature fills it yet. */
export function sectionRoute(section, features = FEATURES) {
  return features.find((feature) => feature.section === section)?.home ?? null;
}

/** Return what a section's tile counts (a number), or null when its feature counts nothing. */
export async function sectionCount(section, records, features = FEATURES) {
  const count = features.find((feature) => feature.section === section)?.count;
  return count ? count.of(records) : null;
}

/** Return the topics that change some tile's count (the home screen follows them). */
export function countTopics(features = FEATURES) {
  return [...new Set(features.flatMap((feature) => feature.count?.follows ?? []))];
}

/** Return the home screen's cards of every feature that has one. */
export function featureCards(features = FEATURES) {
  return features.flatMap((feature) => (feature.card ? [feature.card] : []));
}
