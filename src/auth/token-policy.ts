import type { JwtAuthOptions } from '../pg-backup.options';

/** Longest a token may live (`exp` − `iat`, or `exp` − now without `iat`) unless `auth.maxTokenLifetimeSeconds` says otherwise. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 86_400;

/** Why a verified token's lifetime is refused, or null: a token without `exp` would be valid forever. */
export function tokenLifetimeProblem(
  claims: { exp?: unknown; iat?: unknown },
  maxLifetimeSeconds: number,
  nowSeconds = Math.floor(Date.now() / 1000),
): string | null {
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) return 'the token has no exp claim';
  const from = typeof claims.iat === 'number' && Number.isFinite(claims.iat) ? claims.iat : nowSeconds;
  const lifetime = claims.exp - from;
  return lifetime > maxLifetimeSeconds ? `the token lives ${lifetime} s, longer than the ${maxLifetimeSeconds} s allowed` : null;
}

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * A JWKS verifies any token its identity provider signs, for any of its applications: without an
 * issuer and an audience, every user with a role named like an admin role would get in. Keys are
 * fetched over https, except from this machine.
 */
export function jwksProblems(auth: Pick<JwtAuthOptions, 'jwksUri' | 'issuer' | 'audience'>): string[] {
  if (!auth.jwksUri) return [];
  const problems: string[] = [];
  if (!auth.issuer) problems.push('JWKS_URI is set, so JWT_ISSUER (auth.issuer) must name the identity provider');
  if (!auth.audience) problems.push('JWKS_URI is set, so JWT_AUDIENCE (auth.audience) must name this API');
  let url: URL | null = null;
  try {
    url = new URL(auth.jwksUri);
  } catch {
    problems.push('JWKS_URI must be a URL');
  }
  if (url && url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOST.test(url.hostname))) {
    problems.push('JWKS_URI must be an https URL (http only for localhost)');
  }
  return problems;
}
