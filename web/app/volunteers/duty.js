/**
 * Shifts, pure: where a shift stands now, today's shifts, the sign-up a
 * volunteer sends. `dutyOf` reads a shift as `sync.volunteers.duty_of` does
 * on the server (the coordinator board's figures): begun and reported
 * arrived is on duty, begun without arriving is missing.
 */
import { checkValue, enumValues } from '../declarations.js';
import { uuid5 } from '../ids.js';

export const VOLUNTEER = 'volunteer';
export const SHIFT = 'shift';
/** The namespace of sign-up ids: sync/volunteers.py's (a server test checks they agree). */
const SIGN_UP_NAMESPACE = '3d0b8f7e-2a41-4c55-8f0a-6f4c1b7d2e90';

/** Return the id of the account `userId`'s own sign-up, as the server requires it. */
export const signUpId = (userId) => uuid5(SIGN_UP_NAMESPACE, `volunteer/${userId}`);

export const DUTIES = Object.freeze(['missing', 'on_duty', 'upcoming', 'over']);

/** Return 'upcoming', 'on_duty', 'missing' or 'over' for `shift` at `now` (a Date). */
export function dutyOf(shift, now) {
  if (now < new Date(shift.fields.starts_at)) return 'upcoming';
  if (now >= new Date(shift.fields.ends_at)) return 'over';
  return shift.fields.arrived_at ? 'on_duty' : 'missing';
}

/** Return the shifts that overlap the device's calendar day of `now`, by start time. */
export function shiftsOfDay(shifts, now) {
  const start = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const end = new Date(start.getFullYear(), start.getMonth(), start.getDate() + 1);
  return shifts.filter((s) => new Date(s.fields.starts_at) < end && new Date(s.fields.ends_at) > start)
    .sort((a, b) => a.fields.starts_at.localeCompare(b.fields.starts_at) || a.fields.post.localeCompare(b.fields.post));
}

/** Return the user's own shifts (the server sends a volunteer only theirs; a coordinator gets all). */
export const ownShifts = (shifts, user) => shifts.filter((s) => String(s.fields.user_id) === String(user.id));

/**
 * Build the change of a volunteer's own sign-up from form input
 * ({name, team, skills: [...], languages: "zh, en", compound_id}).
 * `current` is their record if the device has it; `id` the id of their
 * sign-up (the server's volunteer_id of their account, from the directory).
 *
 * @throws {RangeError} with `.field` and `.problem` for a refused value.
 */
export function signUpChange(declarations, current, id, input) {
  const skills = enumValues(declarations, VOLUNTEER, 'skills').filter((skill) => (input.skills ?? []).includes(skill));
  const languages = String(input.languages ?? '').split(/[,，、\s]+/).map((tag) => tag.trim()).filter(Boolean);
  const fields = { name: String(input.name ?? '').trim(), team: String(input.team ?? '').trim() || null, skills, languages };
  if (!current) fields.compound_id = input.compound_id;
  for (const field of ['name', 'team', 'compound_id']) {
    const problem = field in fields ? checkValue(declarations, VOLUNTEER, field, fields[field]) : null;
    if (problem) throw Object.assign(new RangeError(problem.key), { field, problem });
  }
  return current
    ? { type: VOLUNTEER, id: current.id, op: 'update', base_version: current.version ?? 0, fields }
    : { type: VOLUNTEER, id, op: 'create', base_version: 0, fields };
}
