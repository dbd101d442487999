/**
 * The features the shell knows: each is a folder of web/app/ exporting
 *
 *     {section, home, routes: [[pattern, screen], ...]}
 *
 * `section` is the home tile it fills (home.js lists sections per role) and
 * `home` the route the tile opens. Adding a feature is one line here.
 */
import board from './board/index.js';
import exportsFeature from './exports/index.js';
import progress from './progress/index.js';
import tasks from './tasks/index.js';

export const FEATURES = Object.freeze([tasks, exportsFeature, board, progress]);

/** Return every feature's routes. */
export function featureRoutes(features = FEATURES) {
  return features.flatMap((feature) => feature.routes);
}

/** Return the route a home section opens, or null when no feature fills it yet. */
export function sectionRoute(section, features = FEATURES) {
  return features.find((feature) => feature.section === section)?.home ?? null;
}
