/** What a verified token tells about its bearer. */
export interface AdminPrincipal {
  sub: string;
  roles: string[];
}

interface TokenClaims {
  sub?: unknown;
  roles?: unknown;
  role?: unknown;
}

export function principalFromClaims(claims: TokenClaims): AdminPrincipal {
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
  if (typeof claims.role === 'string') roles.push(claims.role);
  return { sub: typeof claims.sub === 'string' && claims.sub ? claims.sub : 'unknown', roles };
}
