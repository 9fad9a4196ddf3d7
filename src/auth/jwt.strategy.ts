import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createPublicKey, createSecretKey, KeyObject } from 'node:crypto';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy, StrategyOptionsWithoutRequest } from 'passport-jwt';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { AdminPrincipal, principalFromClaims } from './admin-principal';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, jwksProblems, tokenLifetimeProblem } from './token-policy';

export const PG_BACKUP_JWT_STRATEGY = 'pg-backup-jwt';

/** Bearer tokens: HS256 with a shared secret, or RS256/ES256 with a public key or a JWKS. Algorithms pinned. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, PG_BACKUP_JWT_STRATEGY) {
  private readonly maxLifetimeSeconds: number;

  constructor(@Inject(PG_BACKUP_OPTIONS) options: PgBackupOptions) {
    super(strategyOptions(options));
    this.maxLifetimeSeconds = options.auth.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  }

  /** Signature, algorithm, issuer, audience and expiry are checked by then; a token without `exp` would not expire. */
  validate(claims: Record<string, unknown>): AdminPrincipal {
    const problem = tokenLifetimeProblem(claims, this.maxLifetimeSeconds);
    if (problem) throw new UnauthorizedException(problem);
    return principalFromClaims(claims);
  }
}

/**
 * jsonwebtoken turns a string key into a KeyObject on every verify, first trying (and for a
 * shared secret failing) createPublicKey: measured at ~5 ms of CPU per request. A KeyObject made
 * once is used as it is. passport-jwt passes it through untouched; its types only know strings.
 */
function parsedOnce(key: KeyObject): string {
  return key as unknown as string;
}

function strategyOptions(options: PgBackupOptions): StrategyOptionsWithoutRequest {
  const { auth } = options;
  const common = {
    jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
    ignoreExpiration: false,
    issuer: auth.issuer,
    audience: auth.audience,
  };
  if (auth.jwksUri) {
    const problems = jwksProblems(auth);
    if (problems.length) throw new Error(`pg-backup: ${problems.join('; ')}`);
    return {
      ...common,
      algorithms: ['RS256', 'ES256'],
      secretOrKeyProvider: loadJwksRsa().passportJwtSecret({ jwksUri: auth.jwksUri, cache: true, rateLimit: true, jwksRequestsPerMinute: 10 }),
    };
  }
  if (auth.publicKey) return { ...common, algorithms: ['RS256', 'ES256'], secretOrKey: parsedOnce(createPublicKey(auth.publicKey)) };
  if (auth.secret) return { ...common, algorithms: ['HS256'], secretOrKey: parsedOnce(createSecretKey(Buffer.from(auth.secret))) };
  throw new Error('pg-backup: set auth.secret (JWT_SECRET), auth.publicKey (JWT_PUBLIC_KEY) or auth.jwksUri (JWKS_URI)');
}

/** jwks-rsa is loaded only when a JWKS is configured (~9 MB of memory otherwise spent for nothing). */
function loadJwksRsa(): typeof import('jwks-rsa') {
  return require('jwks-rsa') as typeof import('jwks-rsa');
}
