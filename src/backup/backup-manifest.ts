import { createHmac, timingSafeEqual } from 'node:crypto';

/** Manifests larger than this are refused on import: one is a few KiB, and each is read whole into memory. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

const SIGNATURE_PREFIX = 'hmac-sha256:';

/** JSON with object keys sorted at every level: the same content always gives the same bytes. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function sign(content: object, key: string): string {
  return SIGNATURE_PREFIX + createHmac('sha256', key).update(canonicalJson(content)).digest('hex');
}

/**
 * A backup's `.json` manifest. With a key (MANIFEST_HMAC_KEY) it carries `signature`, an
 * HMAC-SHA256 over its canonical content (sorted keys, as parsed back from JSON).
 */
export function manifestText(backup: object, hmacKey?: string): string {
  const { signature: _old, ...content } = JSON.parse(JSON.stringify(backup)) as Record<string, unknown>;
  return JSON.stringify(hmacKey ? { ...content, signature: sign(content, hmacKey) } : content, null, 2);
}

export type ManifestSignature = 'valid' | 'unsigned' | 'invalid';

/** Whether the parsed manifest's signature holds under `hmacKey`. */
export function manifestSignature(manifest: Record<string, unknown>, hmacKey: string): ManifestSignature {
  const { signature, ...content } = manifest;
  if (signature === undefined) return 'unsigned';
  if (typeof signature !== 'string') return 'invalid';
  const expected = Buffer.from(sign(content, hmacKey));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'valid' : 'invalid';
}
