import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BackupEvents, BackupEventMap } from '../../src/events/backup-events';
import { admin, startApp, TestApp } from '../support/app';
import { RICH_FIXTURE } from '../support/fixture';
import { sleep } from '../support/net';
import { startPostgres, TestPostgres } from '../support/postgres';

describe('restore drills into a scratch database', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let backup: any;
  const failed: BackupEventMap['drill.failed'][] = [];

  /** POST /backups/:id/drill and wait for the result on the backup. */
  async function drill(id: string): Promise<any> {
    const before = (await server.request('GET', `/backups/${id}`, { token: admin })).json.drill?.at;
    const r = await server.request('POST', `/backups/${id}/drill`, { token: admin });
    assert.equal(r.status, 202, r.text);
    assert.match(r.json.database, /^shop_drill_[0-9a-f]{8}$/);
    for (let i = 0; i < 600; i++) {
      const current = (await server.request('GET', `/backups/${id}`, { token: admin })).json;
      const lock = (await server.request('GET', '/operations/current', { token: admin })).json;
      if (current.drill && current.drill.at !== before && !lock.locked) return current.drill;
      await sleep(100);
    }
    throw new Error('the drill did not finish');
  }

  const scratchDatabases = () => pg.psql(`select count(*) from pg_database where datname like '%\\_drill\\_%'`);

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql(RICH_FIXTURE, 'shop');
    server = await startApp(pg.url('shop'));
    server.app.get(BackupEvents).on('drill.failed', (e) => void failed.push(e));
    backup = await server.createBackup();
    assert.equal(backup.status, 'completed');
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('records exact row counts taken in the dump snapshot at backup time', () => {
    assert.equal(backup.metadata.tables['public.users'], 3000);
    assert.equal(backup.metadata.tables['app.orders'], 8000);
    assert.equal(backup.metadata.tables['Mixed Case.Events_2025'] + backup.metadata.tables['Mixed Case.Events_2026'], 2000);
    assert.deepEqual(backup.metadata.estimatedTables, []);
  });

  it('passes on a good backup: every table restored with its rows, the scratch database dropped, the result on the backup', async () => {
    const result = await drill(backup.id);
    assert.equal(result.ok, true, result.error);
    assert.ok(result.restoreMs > 0 && result.durationMs >= result.restoreMs);
    const users = result.tables.find((t: any) => t.name === 'public.users');
    assert.deepEqual(users, { name: 'public.users', expected: 3000, actual: 3000, exact: true, ok: true });
    assert.equal(result.tables.length, Object.keys(backup.metadata.tables).length);
    assert.equal(scratchDatabases(), '0');
    const stats = (await server.request('GET', '/backups/stats', { token: admin })).json;
    assert.equal(stats.lastDrill.backupId, backup.id);
    assert.equal(stats.lastDrill.ok, true);
    assert.equal(stats.lastDrill.restoreMs, result.restoreMs, 'stats show the restore time to expect');
    assert.equal(pg.psql('select count(*) from public.users', 'shop'), '3000', 'the live database is untouched');
  });

  it('fails when the recorded counts disagree, names the table, drops the scratch database and announces drill.failed', async () => {
    pg.psql(`update backup_admin.backup_history set metadata = jsonb_set(metadata, '{tables,app.orders}', '7999') where id = '${backup.id}'`, 'shop');
    const result = await drill(backup.id);
    assert.equal(result.ok, false);
    assert.match(result.error, /app\.orders expected 7999, found 8000/);
    assert.deepEqual(result.tables.find((t: any) => t.name === 'app.orders'), { name: 'app.orders', expected: 7999, actual: 8000, exact: true, ok: false });
    assert.equal(scratchDatabases(), '0');
    assert.equal(failed.length, 1);
    assert.equal(failed[0].backup.id, backup.id);
    const ready = await fetch(server.base.replace('/api/admin', '/health/ready'));
    assert.equal(ready.status, 503, 'a failed drill makes the server unready');
  });

  it('fails without creating anything when the file is damaged', async () => {
    appendFileSync(join(server.backupDir, backup.filename), 'x');
    const result = await drill(backup.id);
    assert.equal(result.ok, false);
    assert.match(result.error, /not intact/);
    assert.equal(result.restoreMs, null);
    assert.equal(scratchDatabases(), '0');
  });

  it('drops a scratch database an interrupted drill left, before the next operation starts', async () => {
    pg.psql('create database shop_drill_deadbeef');
    pg.psql('create database shop_drill_notmine');
    assert.equal((await server.request('POST', '/backups/cleanup', { token: admin })).status, 200);
    assert.equal(scratchDatabases(), '1');
    assert.equal(pg.psql(`select datname from pg_database where datname like 'shop\\_drill\\_%'`), 'shop_drill_notmine', 'only names of our exact pattern are dropped');
  });

  it('refuses a malformed or unknown id and a missing token', async () => {
    assert.equal((await server.request('POST', '/backups/not-a-uuid/drill', { token: admin })).status, 400);
    assert.equal((await server.request('POST', '/backups/00000000-0000-4000-8000-000000000000/drill', { token: admin })).status, 404);
    assert.equal((await server.request('POST', `/backups/${backup.id}/drill`)).status, 401);
  });
});
