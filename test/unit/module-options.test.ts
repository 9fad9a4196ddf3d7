import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import { DEFAULT_MIN_FREE_BYTES, DEFAULT_RESTORE_GRACE_MS, InvalidModuleOptionsError, validateModuleOptions } from '../../src/config/module-options';
import { PgBackupModule } from '../../src/pg-backup.module';
import type { PgBackupModuleOptions } from '../../src/pg-backup.options';

const VALID: PgBackupModuleOptions = {
  databaseUrl: 'postgres://backup:pw@127.0.0.1:5432/shop',
  schema: 'backup_admin',
  backupDir: '/var/backups/shop',
  auth: { secret: 'a-secret-of-at-least-16-chars', adminRoles: ['admin'] },
};

/** What a JavaScript host may pass: anything. */
function rejects(options: unknown, option: string): string {
  try {
    validateModuleOptions(options as PgBackupModuleOptions);
  } catch (error) {
    assert.ok(error instanceof InvalidModuleOptionsError, `expected InvalidModuleOptionsError, got ${String(error)}`);
    assert.match(error.message, new RegExp(`(^|\\s)${option.replace('.', '\\.')}\\b`), `the message names ${option}: ${error.message}`);
    return error.message;
  }
  assert.fail(`validateModuleOptions accepted a bad ${option}`);
}

describe('validateModuleOptions', () => {
  it('accepts the README\'s minimal options and fills in the promised defaults', () => {
    const options = validateModuleOptions(VALID);
    assert.equal(options.minFreeBytes, DEFAULT_MIN_FREE_BYTES);
    assert.equal(options.restoreGraceMs, DEFAULT_RESTORE_GRACE_MS);
    assert.equal(options.schema, 'backup_admin');
    assert.deepEqual(options.auth, VALID.auth);
  });

  it('keeps the values given, hooks and all', () => {
    const beforeRestore = () => undefined;
    const options = validateModuleOptions({ ...VALID, minFreeBytes: 0, restoreGraceMs: 5, restoreHooks: { beforeRestore } });
    assert.equal(options.minFreeBytes, 0);
    assert.equal(options.restoreGraceMs, 5);
    assert.equal(options.restoreHooks?.beforeRestore, beforeRestore);
  });

  it('names each missing or bad option', () => {
    const { schema: _schema, ...withoutSchema } = VALID;
    rejects(withoutSchema, 'schema');
    const { databaseUrl: _url, ...withoutUrl } = VALID;
    rejects(withoutUrl, 'databaseUrl');
    rejects({ ...VALID, databaseUrl: 'mysql://x@y/z' }, 'databaseUrl');
    rejects({ ...VALID, schema: 'Backup Admin' }, 'schema');
    rejects({ ...VALID, schema: 'public' }, 'schema');
    rejects({ ...VALID, backupDir: '' }, 'backupDir');
    rejects({ ...VALID, auth: undefined }, 'auth');
    rejects({ ...VALID, auth: { secret: 'short', adminRoles: ['admin'] } }, 'auth.secret');
    rejects({ ...VALID, auth: { secret: VALID.auth.secret, adminRoles: [] } }, 'auth.adminRoles');
    rejects({ ...VALID, auth: { adminRoles: ['admin'] } }, 'auth');
    rejects({ ...VALID, minFreeBytes: '100MB' }, 'minFreeBytes');
    rejects({ ...VALID, restoreGraceMs: -1 }, 'restoreGraceMs');
    rejects({ ...VALID, compressionLevel: 30 }, 'compressionLevel');
    rejects(undefined, 'useFactory');
  });

  it('lists every problem at once', () => {
    const message = rejects({ backupDir: '/b', auth: { secret: VALID.auth.secret, adminRoles: ['admin'] } }, 'schema');
    assert.match(message, /databaseUrl/);
  });
});

describe('PgBackupModule.forRootAsync with a bad option', () => {
  it('fails at start, naming the option, before any connection attempt', async () => {
    const { schema: _schema, ...withoutSchema } = VALID;
    @Module({ imports: [PgBackupModule.forRootAsync({ useFactory: async () => withoutSchema as PgBackupModuleOptions })] })
    class HostModule {}
    const started = Date.now();
    await assert.rejects(NestFactory.create(HostModule, { logger: false, abortOnError: false }), (error: Error) => {
      assert.ok(error instanceof InvalidModuleOptionsError, String(error));
      assert.match(error.message, /\bschema\b/);
      return true;
    });
    assert.ok(Date.now() - started < 5000, `failed after ${Date.now() - started} ms, not at once`);
  });
});
