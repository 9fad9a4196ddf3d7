import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { corsOrigins, EnvironmentVariables, InvalidEnvironmentError, validateEnvironment } from '../../src/config/env.validation';
import { serverOptions } from '../../src/config/server-options';

function rejects(env: NodeJS.ProcessEnv, variable: string): InvalidEnvironmentError {
  try {
    validateEnvironment(env);
  } catch (error) {
    assert.ok(error instanceof InvalidEnvironmentError, `expected InvalidEnvironmentError, got ${String(error)}`);
    assert.match(error.message, new RegExp(`\\b${variable}\\b`), `the message names ${variable}: ${error.message}`);
    return error;
  }
  assert.fail(`validateEnvironment accepted a bad ${variable}`);
}

describe('validateEnvironment', () => {
  it('accepts a valid environment and converts the numbers', () => {
    const vars = validateEnvironment({
      PATH: '/usr/bin',
      DATABASE_URL: 'postgres://backup:pw@db.internal:5432/shop',
      PORT: '3000',
      BACKUP_DIR: '/var/backups/pg',
      BACKUP_SCHEMA: 'backup_admin',
      JWT_SECRET: 'a-secret-of-at-least-16-chars',
      ADMIN_ROLES: 'admin, ops',
      BACKUP_SCHEDULE: '0 3 * * *',
      BACKUP_MIN_FREE_MB: '250',
      RESTORE_GRACE_SECONDS: '30',
      LOG_LEVEL: 'warn',
    });
    assert.equal(vars.PORT, 3000);
    assert.equal(vars.BACKUP_MIN_FREE_MB, 250);
    assert.equal(vars.RESTORE_GRACE_SECONDS, 30);
    assert.equal(vars.BACKUP_SCHEDULE, '0 3 * * *');
  });

  it('accepts an empty environment (everything has a default)', () => {
    const vars = validateEnvironment({});
    assert.equal(vars.PORT, undefined);
  });

  it('accepts a 6-field cron with seconds', () => {
    assert.equal(validateEnvironment({ BACKUP_SCHEDULE: '30 0 3 * * *' }).BACKUP_SCHEDULE, '30 0 3 * * *');
  });

  it('rejects PORT=abc naming PORT', () => {
    rejects({ PORT: 'abc' }, 'PORT');
  });

  it('rejects a PORT out of range', () => {
    rejects({ PORT: '70000' }, 'PORT');
    rejects({ PORT: '3000.5' }, 'PORT');
  });

  it('rejects a DATABASE_URL that is not a postgres URL', () => {
    rejects({ DATABASE_URL: 'mysql://root@localhost/shop' }, 'DATABASE_URL');
    rejects({ DATABASE_URL: 'localhost:5432' }, 'DATABASE_URL');
  });

  it('rejects a BACKUP_SCHEDULE that is not a cron expression, naming BACKUP_SCHEDULE', () => {
    const error = rejects({ BACKUP_SCHEDULE: 'every night' }, 'BACKUP_SCHEDULE');
    assert.match(error.message, /5 or 6 fields/);
    rejects({ BACKUP_SCHEDULE: '99 3 * * *' }, 'BACKUP_SCHEDULE');
    rejects({ BACKUP_SCHEDULE: '* * * * * * *' }, 'BACKUP_SCHEDULE');
  });

  it('rejects a short JWT_SECRET, a non-PEM JWT_PUBLIC_KEY, a non-http JWKS_URI', () => {
    rejects({ JWT_SECRET: 'short' }, 'JWT_SECRET');
    rejects({ JWT_PUBLIC_KEY: 'ssh-rsa AAAA' }, 'JWT_PUBLIC_KEY');
    rejects({ JWKS_URI: 'ftp://keys.example.com/jwks.json' }, 'JWKS_URI');
  });

  it('refuses JWKS_URI without JWT_ISSUER and JWT_AUDIENCE, or over http to another host', () => {
    const idp = { JWKS_URI: 'https://idp.example.com/jwks.json', JWT_ISSUER: 'https://idp.example.com/', JWT_AUDIENCE: 'pg-backup' };
    assert.equal(validateEnvironment(idp).JWKS_URI, idp.JWKS_URI);
    rejects({ ...idp, JWT_ISSUER: undefined }, 'JWT_ISSUER');
    rejects({ ...idp, JWT_AUDIENCE: undefined }, 'JWT_AUDIENCE');
    rejects({ ...idp, JWKS_URI: 'http://idp.example.com/jwks.json' }, 'JWKS_URI');
    assert.equal(validateEnvironment({ ...idp, JWKS_URI: 'http://127.0.0.1:8080/jwks.json' }).JWKS_URI, 'http://127.0.0.1:8080/jwks.json');
    assert.equal(validateEnvironment({ ...idp, JWKS_URI: 'http://localhost:8080/jwks.json' }).JWKS_URI, 'http://localhost:8080/jwks.json');
  });

  it('reads JWT_MAX_LIFETIME_SECONDS and refuses a nonsensical one', () => {
    assert.equal(serverOptions(validateEnvironment({ JWT_SECRET: 'a-secret-of-at-least-16-chars', JWT_MAX_LIFETIME_SECONDS: '3600' }), 'postgres://x@h/db').auth.maxTokenLifetimeSeconds, 3600);
    rejects({ JWT_MAX_LIFETIME_SECONDS: 'forever' }, 'JWT_MAX_LIFETIME_SECONDS');
    rejects({ JWT_MAX_LIFETIME_SECONDS: '0' }, 'JWT_MAX_LIFETIME_SECONDS');
  });

  it('maps the rate limits, the audit retention, the ready cache and METRICS_PUBLIC, and refuses bad values', () => {
    const options = serverOptions(
      validateEnvironment({
        JWT_SECRET: 'a-secret-of-at-least-16-chars',
        ADMIN_RATE_LIMIT_PER_MINUTE: '100',
        ADMIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '0',
        BACKUP_RATE_LIMIT_PER_HOUR: '5',
        AUDIT_RETENTION_DAYS: '90',
        HEALTH_READY_CACHE_SECONDS: '2',
        METRICS_PUBLIC: 'true',
      }),
      'postgres://x@h/db',
    );
    assert.deepEqual(options.rateLimit, { perTokenPerMinute: 100, perAddressPerMinute: 0, backupsPerUserPerHour: 5 });
    assert.equal(options.audit?.retentionDays, 90);
    assert.equal(options.health?.readyCacheMs, 2000);
    assert.equal(options.metrics?.public, true);
    assert.equal(serverOptions(validateEnvironment({ JWT_SECRET: 'a-secret-of-at-least-16-chars' }), 'postgres://x@h/db').metrics?.public, false);
    rejects({ ADMIN_RATE_LIMIT_PER_MINUTE: '-1' }, 'ADMIN_RATE_LIMIT_PER_MINUTE');
    rejects({ AUDIT_RETENTION_DAYS: 'forever' }, 'AUDIT_RETENTION_DAYS');
    rejects({ METRICS_PUBLIC: 'yes' }, 'METRICS_PUBLIC');
  });

  it('in production, refuses placeholder secrets', () => {
    const production = { NODE_ENV: 'production' };
    for (const secret of ['change-me-to-a-long-random-secret', 'changeme-changeme-changeme-changeme', 'example-jwt-secret-0123456789abcdef0123', 'x'.repeat(40)]) {
      assert.match(rejects({ ...production, JWT_SECRET: secret }, 'JWT_SECRET').message, /placeholder/);
    }
    assert.equal(validateEnvironment({ ...production, JWT_SECRET: 'contract-secret-k3j9x0a1b2c' }).JWT_SECRET, 'contract-secret-k3j9x0a1b2c', 'what the acceptance suite uses');
    rejects({ ...production, JWT_SECRET: 'f'.repeat(10) + '0123456789abcdef0123456789ab', METRICS_TOKEN: 'change-me-to-another-long-random-secret' }, 'METRICS_TOKEN');
    const strong = '3f1c9a0d6b2e4f8a9c7d5e3b1a0f2e4d6c8b9a7f5e3d1c0b2a4f6e8d0c9b7a5f';
    assert.equal(validateEnvironment({ ...production, JWT_SECRET: strong }).JWT_SECRET, strong);
    assert.equal(validateEnvironment({ JWT_SECRET: 'change-me-to-a-long-random-secret' }).JWT_SECRET, 'change-me-to-a-long-random-secret', 'outside production only the length rule');
    rejects({ ...production, JWT_SECRET: 'secret' }, 'JWT_SECRET');
  });

  it('rejects a BACKUP_SCHEMA that is not a lower-case identifier', () => {
    rejects({ BACKUP_SCHEMA: 'Backup-Admin' }, 'BACKUP_SCHEMA');
    rejects({ BACKUP_SCHEMA: 'x"; DROP SCHEMA public; --' }, 'BACKUP_SCHEMA');
  });

  it('checks MANIFEST_HMAC_KEY and MANIFEST_REQUIRE_SIGNATURE and maps them to the options', () => {
    rejects({ MANIFEST_HMAC_KEY: 'short' }, 'MANIFEST_HMAC_KEY');
    rejects({ MANIFEST_REQUIRE_SIGNATURE: 'yes', MANIFEST_HMAC_KEY: 'a-manifest-key-of-16+' }, 'MANIFEST_REQUIRE_SIGNATURE');
    rejects({ MANIFEST_REQUIRE_SIGNATURE: 'true' }, 'MANIFEST_HMAC_KEY');
    const options = serverOptions(validateEnvironment({ MANIFEST_HMAC_KEY: 'a-manifest-key-of-16+', MANIFEST_REQUIRE_SIGNATURE: 'true' }), 'postgres://x@h/db', 'fallback-secret-0123456789');
    assert.equal(options.manifestHmacKey, 'a-manifest-key-of-16+');
    assert.equal(options.manifestRequireSignature, true);
    const defaults = serverOptions(validateEnvironment({}), 'postgres://x@h/db', 'fallback-secret-0123456789');
    assert.equal(defaults.manifestHmacKey, undefined);
    assert.equal(defaults.manifestRequireSignature, false);
  });

  it('checks RESTORE_FILES_ROOTS and RESTORE_FILES_IN_PLACE; by default a files restore may write nowhere', () => {
    rejects({ RESTORE_FILES_ROOTS: 'relative/dir' }, 'RESTORE_FILES_ROOTS');
    rejects({ RESTORE_FILES_IN_PLACE: 'yes' }, 'RESTORE_FILES_IN_PLACE');
    const options = serverOptions(validateEnvironment({ RESTORE_FILES_ROOTS: '/srv/restore, /mnt/check', RESTORE_FILES_IN_PLACE: 'true' }), 'postgres://x@h/db', 'fallback-secret-0123456789');
    assert.deepEqual(options.restoreFilesRoots, ['/srv/restore', '/mnt/check']);
    assert.equal(options.restoreFilesInPlace, true);
    const defaults = serverOptions(validateEnvironment({}), 'postgres://x@h/db', 'fallback-secret-0123456789');
    assert.deepEqual(defaults.restoreFilesRoots, []);
    assert.equal(defaults.restoreFilesInPlace, false);
  });

  it('checks RESTORE_HOOK_URLS, RESTORE_HOOK_SECRET and RESTORE_HOOK_TIMEOUT_SECONDS and maps them to restore hook webhooks', () => {
    rejects({ RESTORE_HOOK_URLS: 'ftp://hooks.example.com' }, 'RESTORE_HOOK_URLS');
    rejects({ RESTORE_HOOK_SECRET: 'short' }, 'RESTORE_HOOK_SECRET');
    rejects({ RESTORE_HOOK_TIMEOUT_SECONDS: '0' }, 'RESTORE_HOOK_TIMEOUT_SECONDS');
    const options = serverOptions(
      validateEnvironment({ RESTORE_HOOK_URLS: 'https://app.example.com/maintenance, http://10.0.0.2/hook', RESTORE_HOOK_SECRET: 'a-hook-secret-of-16+', RESTORE_HOOK_TIMEOUT_SECONDS: '120' }),
      'postgres://x@h/db',
      'fallback-secret-0123456789',
    );
    assert.deepEqual(options.restoreHooks, {
      webhooks: { urls: ['https://app.example.com/maintenance', 'http://10.0.0.2/hook'], secret: 'a-hook-secret-of-16+' },
      timeoutMs: 120_000,
    });
    assert.equal(serverOptions(validateEnvironment({}), 'postgres://x@h/db', 'fallback-secret-0123456789').restoreHooks, undefined);
  });

  it('lists every bad variable at once', () => {
    const error = rejects({ PORT: 'abc', LOG_LEVEL: 'verbose', BACKUP_SCHEDULE: 'nope' }, 'PORT');
    assert.match(error.message, /LOG_LEVEL/);
    assert.match(error.message, /BACKUP_SCHEDULE/);
  });
});

describe('serverOptions', () => {
  const URL = 'postgres://backup:pw@db.internal:5432/shop';

  it('refuses to start without JWT_SECRET, JWT_PUBLIC_KEY or JWKS_URI and no fallback, naming JWT_SECRET', () => {
    assert.throws(
      () => serverOptions(new EnvironmentVariables(), URL),
      (error: unknown) => error instanceof InvalidEnvironmentError && /JWT_SECRET/.test(error.message),
    );
  });

  it('uses the fallback secret only when no verification key is configured', () => {
    assert.equal(serverOptions(new EnvironmentVariables(), URL, 'dev-fallback-secret-123').auth.secret, 'dev-fallback-secret-123');
    const withKey = serverOptions(
      Object.assign(new EnvironmentVariables(), { JWKS_URI: 'https://idp.example.com/jwks.json' }),
      URL,
      'dev-fallback-secret-123',
    );
    assert.equal(withKey.auth.secret, undefined, 'a JWKS-configured server does not also accept the fallback HS256 secret');
    assert.equal(withKey.auth.jwksUri, 'https://idp.example.com/jwks.json');
  });

  it('maps the environment to module options with its defaults', () => {
    const options = serverOptions(
      Object.assign(new EnvironmentVariables(), { JWT_SECRET: 'a-secret-of-at-least-16-chars', ADMIN_ROLES: ' admin , ops,' }),
      URL,
    );
    assert.equal(options.databaseUrl, URL);
    assert.equal(options.schema, 'backup_admin');
    assert.deepEqual(options.auth.adminRoles, ['admin', 'ops']);
    assert.equal(options.minFreeBytes, 100 * 1024 * 1024);
    assert.equal(options.restoreGraceMs, 10_000);
    assert.ok(options.backupDir.startsWith('/'), 'backup directory made absolute');
  });

  it('maps BACKUP_LOCK_WAIT_SECONDS to lockWaitTimeoutMs and rejects 0', () => {
    const vars = validateEnvironment({ BACKUP_LOCK_WAIT_SECONDS: '5' });
    assert.equal(serverOptions(Object.assign(vars, { JWT_SECRET: 'a-secret-of-at-least-16-chars' }), URL).lockWaitTimeoutMs, 5000);
    rejects({ BACKUP_LOCK_WAIT_SECONDS: '0' }, 'BACKUP_LOCK_WAIT_SECONDS');
  });

  it('maps OPERATOR_ROLES and VIEWER_ROLES, none by default', () => {
    const secret = { JWT_SECRET: 'a-secret-of-at-least-16-chars' };
    const none = serverOptions(validateEnvironment(secret), URL);
    assert.deepEqual([none.auth.operatorRoles, none.auth.viewerRoles], [[], []]);
    const set = serverOptions(validateEnvironment({ ...secret, OPERATOR_ROLES: 'backup-operator, ops:backup', VIEWER_ROLES: ' auditor ' }), URL);
    assert.deepEqual(set.auth.operatorRoles, ['backup-operator', 'ops:backup']);
    assert.deepEqual(set.auth.viewerRoles, ['auditor']);
  });

  it('rejects OPERATOR_ROLES and VIEWER_ROLES that are not lists of role names', () => {
    rejects({ OPERATOR_ROLES: 'ops; drop' }, 'OPERATOR_ROLES');
    rejects({ VIEWER_ROLES: 'a,,b' }, 'VIEWER_ROLES');
    rejects({ VIEWER_ROLES: 'read only' }, 'VIEWER_ROLES');
  });
});

describe('CORS_ORIGINS', () => {
  it('is empty by default: same origin only', () => {
    assert.deepEqual(corsOrigins(validateEnvironment({})), []);
  });

  it('accepts a comma-separated list of origins, with ports', () => {
    const vars = validateEnvironment({ CORS_ORIGINS: 'https://panel.example.com, http://localhost:4200 ,' });
    assert.deepEqual(corsOrigins(vars), ['https://panel.example.com', 'http://localhost:4200']);
  });

  const bad: [string, RegExp][] = [
    ['*', /not accepted/],
    ['null', /not accepted/],
    ['panel.example.com', /not an origin like/],
    ['https://panel.example.com/admin', /write it as https:\/\/panel\.example\.com/],
    ['https://panel.example.com/', /write it as https:\/\/panel\.example\.com \(/],
    ['https://Panel.Example.com', /write it as https:\/\/panel\.example\.com/],
    ['https://panel.example.com:443', /write it as https:\/\/panel\.example\.com/],
    ['https://user@panel.example.com', /not an origin/],
    ['https://panel.example.com?x=1', /not an origin/],
    ['ftp://panel.example.com', /http\(s\) origin/],
  ];
  for (const [entry, reason] of bad) {
    it(`rejects ${entry}, naming CORS_ORIGINS and why`, () => {
      const error = rejects({ CORS_ORIGINS: `https://ok.example.com,${entry}` }, 'CORS_ORIGINS');
      assert.match(error.message, reason);
    });
  }
});
