/**
 * The features the shell knows: each is a folder of web/app/ exporting
 *
 *     {section, home, routes: [[pattern, screen], ...]}
 *
 * `section` is the home tile it fills (home.js lists sections per role) and
 * `home` the route the tile opens. A feature may also say what its tile
 * counts, `count: {follows: [topics], of: async (records) => number}` (the
 * conflicts waiting, say). Adding a feature is one line here.
 */
import audit from './audit/index.js';
import board from './board/index.js';
import conflicts from './conflicts/index.js';
import exportsFeature from './exports/index.js';
import notices from './notices/index.js';
import progress from './progress/index.js';
import tasks from './tasks/index.js';

export const FEATURES = Object.freeze([tasks, exportsFeature, board, progress, conflicts, notices, audit]);

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
