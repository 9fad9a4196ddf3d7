/*
 * What one audit entry may hold. Refused calls are written for anyone who sends a request, so
 * nothing in an entry grows with the request: strings, lists, nesting and the whole detail are
 * capped, and what PostgreSQL refuses (NUL, lone surrogates) is replaced before the insert.
 */

/** Any one string: a path, a reason, a value in a body. */
export const MAX_TEXT = 1024;
/** The detail as JSON. */
export const MAX_DETAIL_CHARS = 4096;
const MAX_ITEMS = 50;
const MAX_DEPTH = 6;
const MAX_KEY = 100;
const REFUSED = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** NUL (refused by text and jsonb) and lone surrogates (refused by jsonb) replaced, then cut to `max`. */
export function boundedText(value: string, max = MAX_TEXT): string {
  const cut = value.length > max ? `${value.slice(0, max)}… (${value.length} characters)` : value;
  return cut.replace(REFUSED, '\uFFFD');
}

function bounded(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return boundedText(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value !== 'object') return value === undefined ? undefined : boundedText(String(value));
  if (value instanceof Date) return value.toISOString();
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((item) => bounded(item, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`[${value.length - MAX_ITEMS} more]`);
    return items;
  }
  const out: Record<string, unknown> = {};
  let seen = 0;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    if (++seen > MAX_ITEMS) {
      out['…'] = 'more keys left out';
      break;
    }
    // defined, not assigned: a `__proto__` key from a JSON body stays a key
    Object.defineProperty(out, boundedText(key, MAX_KEY), { value: bounded((value as Record<string, unknown>)[key], depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The detail within MAX_DETAIL_CHARS: large top-level values are replaced by their size, then, if still too large, all but the request line. */
export function boundedDetail(detail: Record<string, unknown>): Record<string, unknown> {
  const small = bounded(detail, 0) as Record<string, unknown>;
  const size = JSON.stringify(small).length;
  if (size <= MAX_DETAIL_CHARS) return small;
  const share = Math.floor(MAX_DETAIL_CHARS / Math.max(Object.keys(small).length, 1));
  const trimmed = Object.fromEntries(
    Object.entries(small).map(([key, value]) => {
      const length = JSON.stringify(value)?.length ?? 0;
      return [key, length > share ? `[${length} characters left out]` : value];
    }),
  );
  if (JSON.stringify(trimmed).length <= MAX_DETAIL_CHARS) return trimmed;
  return { method: small.method, path: typeof small.path === 'string' ? boundedText(small.path, 512) : undefined, leftOut: `${size} characters` };
}
