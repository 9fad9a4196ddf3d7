import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { admin, startApp, TestApp } from '../support/app';
import { sleep } from '../support/net';
import { startPostgres, TestPostgres } from '../support/postgres';
import { blockTable } from '../support/open-transaction';

describe('cancelling the running operation', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let instanceB: TestApp;

  async function waitForOperation(type: string): Promise<any> {
    for (let i = 0; i < 100; i++) {
      const current = (await server.request('GET', '/operations/current', { token: admin })).json;
      if (current.operation?.type === type) return current.operation;
      await sleep(100);
    }
    throw new Error(`no ${type} started`);
  }

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql('create table items (id serial primary key, name text); insert into items (name) select md5(g::text) from generate_series(1, 5000) g', 'shop');
    // a long grace period: the restore waits on the blocking session instead of terminating it
    server = await startApp(pg.url('shop'), { restoreGraceMs: 600_000 });
    instanceB = await startApp(pg.url('shop'), { backupDir: server.backupDir, restoreGraceMs: 600_000 });
  });

  after(async () => {
    await instanceB?.close();
    await server?.close();
    pg?.stop();
  });

  it('409 when nothing runs', async () => {
    const r = await server.request('POST', '/operations/current/cancel', { token: admin });
    assert.equal(r.status, 409);
    assert.match(r.json.message, /no operation is running/);
  });

  it('stops a backup from another instance: child killed, no partial file, entry failed "cancelled", lock free', async () => {
    const blocker = await blockTable(pg.url('shop'), 'items');
    try {
      const started = await server.request('POST', '/backups', { token: admin });
      assert.equal(started.status, 202);
      await waitForOperation('backup');

      const r = await instanceB.request('POST', '/operations/current/cancel', { token: admin });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.stopped, true);
      assert.equal(r.json.operation.id, started.json.id);

      const backup = (await server.request('GET', `/backups/${started.json.id}`, { token: admin })).json;
      assert.equal(backup.status, 'failed');
      assert.equal(backup.error, 'cancelled');
      assert.deepEqual(readdirSync(server.backupDir), [], 'no partial or final file is left');
      assert.equal((await server.request('GET', '/operations/current', { token: admin })).json.locked, false);
      const dumpSessions = () => pg.psql(`select count(*) from pg_stat_activity where application_name like 'nestjs-pg-backup:dump%'`);
      for (let i = 0; i < 20 && dumpSessions() !== '0'; i++) await sleep(100);
      assert.equal(dumpSessions(), '0', "pg_dump's session is gone, not left waiting for the table lock");
    } finally {
      await blocker.end();
    }
    const audit = (await server.request('GET', '/audit?action=operation.cancel', { token: admin })).json;
    assert.equal(audit.items[0].outcome, 'success');
  });

  it('stops a restore before its point of no return and leaves the database as it was', async () => {
    const backup = await server.createBackup();
    pg.psql(`insert into items (name) values ('after the backup')`, 'shop');
    const blocker = await blockTable(pg.url('shop'), 'items');
    let restoreId: string;
    try {
      const r = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true } });
      assert.equal(r.status, 202, r.text);
      restoreId = r.json.id;
      await waitForOperation('restore');
      // past the safety backup (blocked too, then released by the cancel) or in the wipe: either way before COMMIT
      const cancel = await server.request('POST', '/operations/current/cancel', { token: admin });
      assert.equal(cancel.status, 200, cancel.text);
      assert.equal(cancel.json.stopped, true);
    } finally {
      await blocker.end();
    }
    const restore = (await server.request('GET', `/restores/${restoreId!}`, { token: admin })).json;
    assert.equal(restore.status, 'failed');
    assert.equal(restore.error, 'cancelled');
    assert.equal(pg.psql(`select count(*) from items`, 'shop'), '5001', 'nothing was restored');
  });

  it('refuses a restore past its point of no return, and operations too short to cancel', async () => {
    const blocker = await blockTable(pg.url('shop'), 'items');
    try {
      const started = await server.request('POST', '/backups', { token: admin });
      await waitForOperation('backup');
      pg.psql(`update backup_admin.operation_lock set type = 'restore', irrevocable = true`, 'shop');
      const r = await server.request('POST', '/operations/current/cancel', { token: admin });
      assert.equal(r.status, 409);
      assert.match(r.json.message, /past its point of no return/);
      pg.psql(`update backup_admin.operation_lock set type = 'cleanup', irrevocable = false`, 'shop');
      const short = await server.request('POST', '/operations/current/cancel', { token: admin });
      assert.equal(short.status, 409);
      assert.match(short.json.message, /a cleanup cannot be cancelled/);
      pg.psql(`update backup_admin.operation_lock set type = 'backup'`, 'shop');
      assert.equal((await server.request('POST', '/operations/current/cancel', { token: admin })).status, 200);
      assert.equal((await server.request('GET', `/backups/${started.json.id}`, { token: admin })).json.error, 'cancelled');
    } finally {
      await blocker.end();
    }
  });

  it('401 without a token', async () => {
    assert.equal((await server.request('POST', '/operations/current/cancel')).status, 401);
  });
});
