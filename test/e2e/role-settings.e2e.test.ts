import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admin, startApp, TestApp } from '../support/app';
import { until } from '../support/net';
import { startPostgres, TestPostgres } from '../support/postgres';
import { blockTable } from '../support/open-transaction';

/**
 * A DBA's `ALTER ROLE … SET` applies to every session of the module's role: the module's own
 * sessions (lock, pool, snapshot, commit gate, pg_dump, psql) must override it, or the lock is
 * lost after a second of idleness and a dump or a wipe waiting on a lock is cancelled.
 */
describe('role-level timeouts on the module’s login role', () => {
  let pg: TestPostgres;
  let server: TestApp;
  const count = (sql: string) => Number(pg.psql(`select count(*) from pg_stat_activity where ${sql}`, 'shop'));
  /** The session holding the operation lock, alive and older than the role's timeouts several times over. */
  const lockHeldLong = () => count(`application_name = 'nestjs-pg-backup:lock' and backend_start < now() - interval '3 s'`) === 1;

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql('create table items (id serial primary key, name text); insert into items (name) select md5(g::text) from generate_series(1, 5000) g', 'shop');
    pg.psql('create role pgb login superuser');
    for (const setting of ['idle_session_timeout', 'statement_timeout', 'idle_in_transaction_session_timeout']) {
      pg.psql(`alter role pgb set ${setting} = '1s'`);
    }
    server = await startApp(pg.url('shop', 'pgb'), { restoreGraceMs: 600_000 });
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('a backup that waits several seconds keeps its lock and completes', async () => {
    const blocker = await blockTable(pg.url('shop'), 'items');
    let id: string;
    try {
      const started = await server.request('POST', '/backups', { token: admin });
      assert.equal(started.status, 202, started.text);
      id = started.json.id;
      await until(() => count(`application_name like 'nestjs-pg-backup:dump%' and wait_event_type = 'Lock'`) === 1, 'pg_dump waiting on the table lock', {
        timeoutMs: 20_000,
        pollMs: 100,
      });
      await until(lockHeldLong, 'the lock connection to outlive the role’s idle_session_timeout', { timeoutMs: 20_000, pollMs: 200 });
      assert.equal((await server.request('GET', `/backups/${id}`, { token: admin })).json.status, 'running');
    } finally {
      await blocker.end();
    }
    const backup = await server.waitDone(`/backups/${id!}`, admin);
    assert.equal(backup.status, 'completed', backup.error);
  });

  it('a restore whose wipe waits several seconds on a lock completes, lock held throughout', async () => {
    const backups = (await server.request('GET', '/backups', { token: admin })).json;
    const backup = backups.items.find((b: any) => b.status === 'completed');
    assert.ok(backup, 'the backup of the previous test');
    pg.psql(`insert into items (name) values ('after the backup')`, 'shop');
    const blocker = await blockTable(pg.url('shop'), 'items');
    let restoreId: string;
    try {
      const r = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true, safetyBackup: false } });
      assert.equal(r.status, 202, r.text);
      restoreId = r.json.id;
      await until(
        () => count(`application_name like 'nestjs-pg-backup:restore:%' and wait_event_type = 'Lock' and now() - query_start > interval '3 s'`) === 1,
        'the restore’s wipe to wait longer than the role’s statement_timeout',
        { timeoutMs: 20_000, pollMs: 200 },
      );
      assert.ok(lockHeldLong(), 'the operation lock is still held');
      assert.equal(count(`application_name = 'nestjs-pg-backup:commit-gate'`), 1, 'the idle commit gate is still there');
    } finally {
      await blocker.end();
    }
    const restore = await server.waitDone(`/restores/${restoreId!}`, admin);
    assert.equal(restore.status, 'completed', restore.error);
    assert.equal(pg.psql('select count(*) from items', 'shop'), '5000', 'the row added after the backup is gone');
    // the pool's sessions sat idle far longer than a second in between: it still answers
    assert.equal((await server.request('GET', '/operations/current', { token: admin })).status, 200);
  });
});
