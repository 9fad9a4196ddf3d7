import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { BackupIntegrityService } from '../../src/backup/backup-integrity.service';
import { StorageRepository } from '../../src/infra/storage/storage.repository';
import { AdvisoryLockRepository, HeldAdvisoryLock } from '../../src/lock/advisory-lock.repository';
import { admin, startApp, TestApp } from '../support/app';
import { until } from '../support/net';
import { startPostgres, TestPostgres } from '../support/postgres';

/**
 * Cleanup and scrub run under the operation lock: when its connection is lost (another instance
 * may take the lock at once) they must stop, not go on deleting files or recording verdicts.
 * The lock's connection is really terminated; the test only pauses the work at a chosen point.
 */
describe('cleanup and scrub stop when the operation lock is lost', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let held: HeldAdvisoryLock | undefined;
  const restores: (() => void)[] = [];

  /** Runs `pause` once, at the first call of `object[method]`, before the call goes on. */
  function pauseFirst<T extends object, K extends keyof T>(object: T, method: K, pause: () => Promise<void>): void {
    const original = object[method] as (...args: unknown[]) => Promise<unknown>;
    let paused = false;
    (object as Record<K, unknown>)[method] = async (...args: unknown[]) => {
      if (!paused) {
        paused = true;
        await pause();
      }
      return original.apply(object, args);
    };
    restores.push(() => ((object as Record<K, unknown>)[method] = original));
  }

  /** Ends the lock's connection from the server side and waits until the instance has noticed. */
  async function loseTheLock(): Promise<void> {
    assert.equal(pg.psql(`select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = 'nestjs-pg-backup:lock'`, 'shop'), '1');
    await until(() => held?.lost.aborted === true, 'the instance to notice the lost lock', { timeoutMs: 20_000 });
  }

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql('create table items (id serial primary key, name text); insert into items (name) select md5(g::text) from generate_series(1, 2000) g', 'shop');
    server = await startApp(pg.url('shop'));
    const locks = server.app.get(AdvisoryLockRepository);
    const tryAcquire = locks.tryAcquire.bind(locks);
    locks.tryAcquire = async (key) => {
      const lock = await tryAcquire(key);
      if (lock) held = lock;
      return lock;
    };
  });

  afterEach(() => {
    for (const restore of restores.splice(0)) restore();
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('a scrub records no verdict once the lock is gone', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await server.createBackup()).status, 'completed');
    pauseFirst(server.app.get(BackupIntegrityService), 'check', loseTheLock);

    const r = await server.request('POST', '/backups/scrub', { token: admin });
    assert.equal(r.status, 409, r.text);
    assert.match(r.json.message, /scrub stopped \(aborted: lost the connection holding the operation lock.*\) after checking 0 of 2/);
    assert.equal(pg.psql(`select count(*) from backup_admin.backup_history where verified_at is not null or damaged`, 'shop'), '0');
    assert.equal((await server.request('GET', '/operations/current', { token: admin })).json.locked, false);
  });

  it('a cleanup deletes nothing more once the lock is gone', async () => {
    assert.equal((await server.createBackup()).status, 'completed');
    const keepLastOne = { retention: { keepLast: 1, maxAgeDays: 0, daily: 0, weekly: 0, monthly: 0 } };
    assert.equal((await server.request('PUT', '/backups/config', { token: admin, body: keepLastOne })).status, 200);
    const preview = (await server.request('POST', '/backups/cleanup?dryRun=true', { token: admin })).json;
    assert.equal(preview.delete.length, 2, 'retention would delete the two older backups');
    pauseFirst(server.app.get(StorageRepository), 'remove', loseTheLock);

    const r = await server.request('POST', '/backups/cleanup', { token: admin });
    assert.equal(r.status, 409, r.text);
    assert.match(r.json.message, /cleanup stopped \(aborted: lost the connection holding the operation lock.*\) after deleting 1 of 2/);
    assert.equal(pg.psql(`select count(*) from backup_admin.backup_history`, 'shop'), '2', 'the delete under way finished; the next one never started');
  });
});
