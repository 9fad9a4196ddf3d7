import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { admin, startApp, TEST_SECRET } from '../support/app';
import { freePort, until } from '../support/net';
import { startPostgres, TestPostgres } from '../support/postgres';
import { ServerProcess, startServerProcess } from '../support/server-process';
import { openTransaction } from '../support/open-transaction';

async function api(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (await res.json().catch(() => undefined)) as any };
}

describe('a restore past its point of no return', () => {
  let pg: TestPostgres;
  let env: Record<string, string>;
  let backupId: string;

  const sessionOf = (restoreId: string, where = 'true') =>
    pg.psql(`select count(*) from pg_stat_activity where application_name = 'nestjs-pg-backup:restore:${restoreId}' and ${where}`, 'shop');

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql(`create table items (id serial primary key, name text); insert into items (name) select md5(g::text) from generate_series(1, 1000) g`, 'shop');
    // a long grace period: the restore waits for the test's sessions instead of terminating them
    env = {
      DATABASE_URL: pg.url('shop'),
      PORT: String(await freePort()),
      BACKUP_DIR: mkdtempSync(join(tmpdir(), 'pgb-commit-')),
      JWT_SECRET: TEST_SECRET,
      RESTORE_GRACE_SECONDS: '600',
    };
    const server = await startServerProcess(env);
    try {
      const created = await api(server.base, 'POST', '/backups', {});
      await until(async () => (await api(server.base, 'GET', `/backups/${created.json.id}`)).json.status !== 'running', 'the backup', { timeoutMs: 60_000, pollMs: 100 });
      assert.equal((await api(server.base, 'GET', `/backups/${created.json.id}`)).json.status, 'completed');
      backupId = created.json.id;
    } finally {
      server.kill('SIGTERM');
      await server.exited();
    }
  });

  after(() => pg?.stop());

  const finishAudit = (restoreId: string) =>
    pg.psql(`select string_agg(outcome, ',') from backup_admin.audit_log where action = 'restore.finish' and detail->>'restoreId' = '${restoreId}'`, 'shop');

  /**
   * Starts a restore held at its last statement: the test's own uncommitted row with the
   * restore's id makes the restore's marker INSERT wait, after Node opened the way to COMMIT.
   */
  async function restoreHeldAtCommit(server: ServerProcess): Promise<{ restoreId: string; marker: { end(): Promise<void> } }> {
    pg.psql(`insert into items (name) values ('made after the backup')`, 'shop');
    // the wipe (it renames schema public) waits for this grant's transaction until the marker row below is in place
    const table = await openTransaction(pg.url('shop'), 'GRANT USAGE ON SCHEMA public TO PUBLIC');
    const started = await api(server.base, 'POST', `/backups/${backupId}/restore`, { confirm: true, safetyBackup: false });
    assert.equal(started.status, 202);
    const restoreId: string = started.json.id;
    const marker = await openTransaction(pg.url('shop'), 'INSERT INTO backup_admin.restore_commit (restore_id) VALUES ($1)', { params: [restoreId] });
    await table.end();
    await until(() => sessionOf(restoreId, `wait_event_type = 'Lock' and query like '%restore_commit%'`) === '1', 'the restore waiting at its marker', { timeoutMs: 60_000, pollMs: 50 });
    assert.equal(pg.psql(`select irrevocable from backup_admin.operation_lock`, 'shop'), 't', 'past the point of no return');
    return { restoreId, marker };
  }

  it('after a SIGKILL right after the point of no return, the next start records completed: the data was restored', async () => {
    const server = await startServerProcess(env);
    const { restoreId, marker } = await restoreHeldAtCommit(server);
    server.kill('SIGKILL');
    await server.exited();
    await marker.end();
    // orphaned, psql writes the marker and commits on its own
    await until(() => sessionOf(restoreId) === '0', 'the restore session to end', { timeoutMs: 30_000, pollMs: 50 });
    assert.equal(pg.psql('select count(*) from items', 'shop'), '1000', 'the backup content is in');

    const restarted = await startServerProcess(env);
    try {
      const entry = (await api(restarted.base, 'GET', `/restores/${restoreId}`)).json;
      assert.equal(entry.status, 'completed');
      assert.equal(entry.error, null);
      assert.equal((await api(restarted.base, 'GET', '/operations/current')).json.locked, false);
      assert.equal(finishAudit(restoreId), 'success', 'the restore that ended with the old process is audited');
    } finally {
      restarted.kill('SIGTERM');
      assert.equal(await restarted.exited(), 0);
    }
  });

  it('after a SIGKILL before its COMMIT, the next start records failed: rolled back', async () => {
    const server = await startServerProcess(env);
    pg.psql(`insert into items (name) values ('made after the backup')`, 'shop');
    // the wipe renames schema public: an open transaction that updated its catalog row (a grant) makes it wait
    const table = await openTransaction(pg.url('shop'), 'GRANT USAGE ON SCHEMA public TO PUBLIC');
    const started = await api(server.base, 'POST', `/backups/${backupId}/restore`, { confirm: true, safetyBackup: false });
    assert.equal(started.status, 202);
    const restoreId: string = started.json.id;
    await until(() => sessionOf(restoreId, `wait_event_type = 'Lock'`) === '1', 'the wipe waiting for schema public', { timeoutMs: 30_000, pollMs: 50 });
    server.kill('SIGKILL');
    await server.exited();
    await table.end();
    await until(() => sessionOf(restoreId) === '0', 'the restore session to end', { timeoutMs: 30_000, pollMs: 50 });
    assert.equal(pg.psql('select count(*) from items', 'shop'), '1001', 'nothing was restored');

    const restarted = await startServerProcess(env);
    try {
      const entry = (await api(restarted.base, 'GET', `/restores/${restoreId}`)).json;
      assert.equal(entry.status, 'failed');
      assert.match(entry.error, /rolled back/);
      assert.equal(finishAudit(restoreId), 'failure');
    } finally {
      restarted.kill('SIGTERM');
      assert.equal(await restarted.exited(), 0);
    }
    pg.psql(`delete from items where name = 'made after the backup'`, 'shop');
  });

  it('a SIGTERM past the point of no return lets the restore finish and record completed before the process exits', async () => {
    const server = await startServerProcess(env);
    const { restoreId, marker } = await restoreHeldAtCommit(server);
    server.kill('SIGTERM');
    await until(() => server.output().includes('past its point of no return'), 'the shutdown to meet the committing restore', { timeoutMs: 30_000, pollMs: 50 });
    assert.equal(server.child.exitCode, null, 'still running');
    await marker.end();
    assert.equal(await server.exited(), 0);

    assert.equal(pg.psql(`select status from backup_admin.restore_history where id = '${restoreId}'`, 'shop'), 'completed');
    assert.equal(pg.psql('select count(*) from items', 'shop'), '1000', 'the backup content is in');
    assert.equal(sessionOf(restoreId), '0');
  });
});

describe('a cancelled restore', () => {
  let pg: TestPostgres;

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    // more script than a pipe holds: pg_restore is still writing while psql waits in the wipe, before the point of no return
    pg.psql(`create table items (id serial primary key, name text); insert into items (name) select md5(g::text) from generate_series(1, 100000) g`, 'shop');
  });

  after(() => pg?.stop());

  it('leaves no session of its own behind, still waiting in the wipe', async () => {
    const server = await startApp(pg.url('shop'), { restoreGraceMs: 600_000 });
    try {
      const backup = await server.createBackup();
      assert.equal(backup.status, 'completed');
      // the wipe renames schema public: an open transaction that updated its catalog row (a grant) makes it wait
      const table = await openTransaction(pg.url('shop'), 'GRANT USAGE ON SCHEMA public TO PUBLIC');
      let restoreId: string;
      try {
        const started = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true, safetyBackup: false } });
        assert.equal(started.status, 202, started.text);
        restoreId = started.json.id;
        const waiting = () =>
          pg.psql(`select count(*) from pg_stat_activity where application_name = 'nestjs-pg-backup:restore:${restoreId}' and wait_event_type = 'Lock'`, 'shop');
        await until(() => waiting() === '1', 'the wipe waiting for schema public', { timeoutMs: 30_000, pollMs: 50 });
        const cancel = await server.request('POST', '/operations/current/cancel', { token: admin });
        assert.equal(cancel.status, 200, cancel.text);
        assert.equal(cancel.json.stopped, true);
        // still holding schema public's row: a session left waiting would be there now
        const sessions = () => pg.psql(`select count(*) from pg_stat_activity where application_name = 'nestjs-pg-backup:restore:${restoreId}'`, 'shop');
        await until(() => sessions() === '0', 'the restore session to end', { timeoutMs: 10_000, pollMs: 50 });
      } finally {
        await table.end();
      }
      assert.equal(pg.psql(`set lock_timeout = '5s'; select count(*) from items`, 'shop'), '100000', 'the table is there and free');
      const restore = (await server.request('GET', `/restores/${restoreId!}`, { token: admin })).json;
      assert.equal(restore.status, 'failed');
      assert.equal(restore.error, 'cancelled');
    } finally {
      await server.close();
    }
  });
});

describe('a backup file swapped after the integrity check', () => {
  let pg: TestPostgres;

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql(`create table items (id serial primary key, name text); insert into items (name) select md5(g::text) from generate_series(1, 1000) g`, 'shop');
  });

  after(() => pg?.stop());

  it('is not restored: the bytes decoded are hashed, and do not match the recorded SHA-256', async () => {
    const server = await startApp(pg.url('shop'), { restoreGraceMs: 600_000 });
    try {
      const first = await server.createBackup();
      pg.psql(`insert into items (name) values ('in the second backup only')`, 'shop');
      const second = await server.createBackup();
      assert.equal(first.status, 'completed');
      assert.equal(second.status, 'completed');
      pg.psql(`insert into items (name) values ('in neither backup')`, 'shop');

      // the safety backup waits for this lock: the integrity check is done, the restore's decoding not started
      const table = await openTransaction(pg.url('shop'), 'LOCK TABLE items IN ACCESS EXCLUSIVE MODE');
      let restoreId: string;
      try {
        const started = await server.request('POST', `/backups/${first.id}/restore`, { token: admin, body: { confirm: true } });
        assert.equal(started.status, 202, started.text);
        restoreId = started.json.id;
        const dumping = () => pg.psql(`select count(*) from pg_stat_activity where application_name like 'nestjs-pg-backup:dump%' and wait_event_type = 'Lock'`, 'shop');
        await until(() => dumping() === '1', 'the safety backup waiting for the table', { timeoutMs: 30_000, pollMs: 50 });
        const swapIn = join(server.backupDir, 'swap.tmp');
        copyFileSync(join(server.backupDir, second.filename), swapIn);
        renameSync(swapIn, join(server.backupDir, first.filename));
      } finally {
        await table.end();
      }
      const restore = await server.waitDone(`/restores/${restoreId!}`, admin);
      assert.equal(restore.status, 'failed');
      assert.match(restore.error, /changed after its integrity check/);
      assert.equal(pg.psql('select count(*) from items', 'shop'), '1002', 'the database is unchanged');
    } finally {
      await server.close();
    }
  });
});
