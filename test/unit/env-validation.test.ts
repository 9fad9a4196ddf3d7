import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EnvironmentVariables, InvalidEnvironmentError, validateEnvironment } from '../../src/config/env.validation';
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

  it('rejects a BACKUP_SCHEMA that is not a lower-case identifier', () => {
    rejects({ BACKUP_SCHEMA: 'Backup-Admin' }, 'BACKUP_SCHEMA');
    rejects({ BACKUP_SCHEMA: 'x"; DROP SCHEMA public; --' }, 'BACKUP_SCHEMA');
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
});
