/**
 * Compares a response with a recorded one by shape: every key of the recorded body must be in ours
 * with the same JSON type, recursively (arrays: element against element). Values may differ; ours
 * may have more keys. Returns the paths that differ.
 */
export type ShapeOptions = {
  /** Recorded keys of an object at a path that we do not model, e.g. `fields.System.AreaId`. Ignored, and reported separately. */
  ignore?: (path: string, key: string) => boolean;
  /** Accepts a documented difference of form at a path (returning true skips the type check there). */
  equivalent?: (path: string, recorded: unknown, actual: unknown) => boolean;
};

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export function shapeDiff(expected: unknown, actual: unknown, options: ShapeOptions = {}, path = ''): string[] {
  const te = typeOf(expected);
  const ta = typeOf(actual);
  // A recorded null says nothing about the type.
  if (te === 'null') return [];
  if (options.equivalent?.(path, expected, actual)) return [];
  if (te !== ta) return [`${path || '(body)'}: recorded ${te}, got ${ta}`];
  if (te === 'array') {
    const e = expected as unknown[];
    const a = actual as unknown[];
    if (e.length === 0) return [];
    if (a.length === 0) return [`${path}: recorded ${e.length} element(s), got none`];
    return shapeDiff(e[0], a[0], options, `${path}[0]`);
  }
  if (te !== 'object') return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(expected as Record<string, unknown>)) {
    if (options.ignore?.(path, key)) continue;
    const sub = path ? `${path}.${key}` : key;
    if (!(key in (actual as Record<string, unknown>))) {
      out.push(`${sub}: missing`);
      continue;
    }
    out.push(...shapeDiff(value, (actual as Record<string, unknown>)[key], options, sub));
  }
  return out;
}
