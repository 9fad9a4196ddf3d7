import type { INestApplication } from '@nestjs/common';

/** What a cross-origin admin panel needs: the bearer token, JSON bodies, and resuming the event stream. */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Last-Event-ID'];
/** Read by a panel: a download's name and size, and when to retry after a 429. */
const EXPOSED_HEADERS = ['Content-Disposition', 'Content-Length', 'Retry-After'];
/** How long a browser may reuse a preflight's answer (Chromium caps it at 2 h). */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** Why an entry of CORS_ORIGINS is not an origin (`https://panel.example.com`, a port allowed, nothing after it), or null. */
export function corsOriginProblem(entry: string): string | null {
  if (entry === '*' || entry === 'null') return `${entry} is not accepted: list the origins of the admin panels`;
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return `${entry} is not an origin like https://panel.example.com`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `${entry} must be an http(s) origin`;
  if (url.origin !== entry) return `${entry} is not an origin: write it as ${url.origin} (scheme, host and port, no path, lower case)`;
  return null;
}

/**
 * The standalone server answers browsers on the listed origins only (none: same origin only,
 * no CORS headers at all). Credentials stay off: the API takes a bearer token, never a cookie.
 * Preflights are answered here, before any route: no guard, no audit entry, no rate limit.
 * Embedded in a host app, the module adds nothing: the host's own CORS applies.
 */
export function enableServerCors(app: INestApplication, origins: string[]): void {
  if (!origins.length) return;
  app.enableCors({
    // compared exactly; the answer names the caller's origin (and varies by it), never `*`
    origin: origins,
    credentials: false,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
  });
}
