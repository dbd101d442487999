/**
 * Turn the server's progress answer into what the wall screen shows.
 *
 * Pure: no IO. The answer is `{since, measures, places: [{compound_id,
 * building_id, <measure>: count}], hours: {<measure>: [[hour, count]]}}`
 * (server/progress.py); a measure the server does not offer is absent, and
 * the screen shows only what is there.
 */

/** Coverage figures: a count over the count it is a share of. */
export const COVERAGE = Object.freeze([
  { name: 'screening', done: 'visited', of: 'households' },
  { name: 'testing', done: 'tested', of: 'residents' },
]);
/** Plain counts, in the order a coordinator reads them. */
export const COUNTS = Object.freeze(['orders_confirmed', 'orders_delivered', 'urgent_requests', 'gate_in', 'gate_out', 'gate_denied']);

const add = (into, place) => {
  for (const [key, value] of Object.entries(place)) {
    if (typeof value === 'number') into[key] = (into[key] ?? 0) + value;
  }
  return into;
};

/** Return the coverage figures and counts the answer offers, for the screen's columns. */
export function shownMeasures(answer) {
  const offered = new Set(answer?.measures ?? []);
  return {
    coverage: COVERAGE.filter((c) => offered.has(c.done) && offered.has(c.of)),
    counts: COUNTS.filter((name) => offered.has(name)),
  };
}

/**
 * Group the places by compound: `[{id, totals, buildings: [{id, figures}]}]`.
 *
 * Compounds and buildings come in the order `order(a, b)` gives their names
 * (`names.compounds`/`names.buildings` map ids to names); counts without a
 * building (a task or order placed only in its compound) add to the totals only.
 */
export function byCompound(answer, names, order) {
  const compounds = new Map();
  for (const place of answer?.places ?? []) {
    const compound = compounds.get(place.compound_id) ?? { id: place.compound_id, totals: {}, buildings: [] };
    compounds.set(place.compound_id, compound);
    add(compound.totals, place);
    if (place.building_id) compound.buildings.push({ id: place.building_id, figures: add({}, place) });
  }
  const name = (map, id) => map.get(id) ?? id;
  for (const compound of compounds.values()) {
    compound.buildings.sort((a, b) => order(name(names.buildings, a.id), name(names.buildings, b.id)));
  }
  return [...compounds.values()].sort((a, b) => order(name(names.compounds, a.id), name(names.compounds, b.id)));
}

/** Return the share `done / of` (0 when there is nothing to cover), between 0 and 1. */
export function share(figures, { done, of }) {
  const total = figures[of] ?? 0;
  return total > 0 ? Math.min(1, (figures[done] ?? 0) / total) : 0;
}

const HOUR_MS = 3_600_000;

/**
 * Return the chart's data: `{names, data: [xs, ...ys]}` with one x per hour
 * from the hour of `since` to that of `now` (seconds since the epoch, as
 * uPlot takes them) and, per hourly measure, its count in that hour (0 if none).
 */
export function hourlySeries(answer, now = new Date()) {
  const start = Math.floor(Date.parse(answer.since) / HOUR_MS) * HOUR_MS;
  const end = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const xs = [];
  for (let at = start; at <= end; at += HOUR_MS) xs.push(at / 1000);
  const names = Object.keys(answer.hours ?? {});
  const ys = names.map((name) => {
    const counts = new Map(answer.hours[name].map(([hour, count]) => [Date.parse(`${hour}:00:00Z`) / 1000, count]));
    return xs.map((x) => counts.get(x) ?? 0);
  });
  return { names, data: [xs, ...ys] };
}

/** Return the start of the local day of `now`, as an ISO time with its zone (for `since`). */
export function startOfDay(now = new Date()) {
  const midnight = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  return midnight.toISOString();
}
