/**
 * Know which record schema this client writes, and whether a server takes it.
 *
 * Every queued changeset remembers the schema it was written under, so an app
 * update never re-labels edits made offline by the previous version.
 */
export const SCHEMA_VERSION = 1;
export const SCHEMA_HEADER = 'Weiguang-Schema';

/** Read `info["x-weiguang-schema"]` ({current, oldest}) from an OpenAPI document. */
export function supportedSchemas(openapi) {
  const range = openapi?.info?.['x-weiguang-schema'];
  if (!range || !Number.isInteger(range.current)) return null;
  const oldest = Number.isInteger(range.oldest) ? range.oldest : range.current;
  return { current: range.current, oldest };
}

/** Tell whether the server's supported range covers every given schema. */
export function serverAccepts(range, schemas) {
  if (!range) return false;
  return schemas.every((schema) => schema >= range.oldest && schema <= range.current);
}
