import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { admin, startApp, TestApp } from '../support/app';
import { sleep } from '../support/net';
import { startPostgres, TestPostgres } from '../support/postgres';


describe('one operation at a time across instances', () => {
  let pg: TestPostgres;
  let a: TestApp;
  let b: TestApp;

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shared');
    pg.psql(`create table big (id bigint primary key, payload text);
      insert into big select g, md5(g::text) || md5((g * 7)::text) from generate_series(1, 600000) g;`, 'shared');
    a = await startApp(pg.url('shared'));
    b = await startApp(pg.url('shared'), { backupDir: a.backupDir });
  });

  after(async () => {
    await a?.close();
    await b?.close();
    pg?.stop();
  });

  it('runs exactly one of two backups started at once on two instances; the other gets 409', async () => {
    const [ra, rb] = await Promise.all([
      a.request('POST', '/backups', { token: admin, body: {} }),
      b.request('POST', '/backups', { token: admin, body: {} }),
    ]);
    assert.deepEqual([ra.status, rb.status].sort(), [202, 409]);
    const [winner, loserApp] = ra.status === 202 ? [ra, b] : [rb, a];
    const loser = ra.status === 202 ? rb : ra;
    assert.match(loser.json.message, /another backup or restore is running/);

    const seen = (await loserApp.request('GET', '/operations/current', { token: admin })).json;
    assert.equal(seen.locked, true);
    assert.equal(seen.operation.id, winner.json.id);
    assert.equal(seen.operation.type, 'backup');
    assert.equal(seen.operation.startedBy, 'alice');
    assert.equal((await loserApp.request('POST', '/backups', { token: admin, body: {} })).status, 409);

    const done = await a.waitDone(`/backups/${winner.json.id}`, admin);
    assert.equal(done.status, 'completed');
    assert.equal((await b.request('GET', '/operations/current', { token: admin })).json.locked, false);
    const restore = await loserApp.request('POST', `/backups/${winner.json.id}/restore`, { token: admin, body: { confirm: true } });
    assert.equal(restore.status, 202);
    assert.equal((await a.request('POST', '/backups', { token: admin, body: {} })).status, 409, 'a restore on one instance blocks backups on the other');
    assert.equal((await a.waitDone(`/restores/${restore.json.id}`, admin)).status, 'completed');
    const all = (await a.request('GET', '/backups?limit=200', { token: admin })).json;
    assert.equal(all.items.filter((x: any) => x.type === 'manual').length, 1, 'exactly one manual backup was made');
  });

  it('ignores a lock row left by a crashed instance', async () => {
    pg.psql(`insert into backup_admin.operation_lock (name, type, operation_id, started_by, started_at, holder_pid, instance_id, updated_at)
      values ('operation', 'backup', gen_random_uuid(), 'ghost', now() - interval '1 hour', 999999, 'gone', now())`, 'shared');
    assert.deepEqual((await a.request('GET', '/operations/current', { token: admin })).json, { locked: false, operation: null });
    assert.equal((await a.createBackup()).status, 'completed');
  });

  it('fails a backup whose lock connection is lost, and leaves no file and no lock', async () => {
    const r = await a.request('POST', '/backups', { token: admin, body: {} });
    assert.equal(r.status, 202);
    pg.psql(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'nestjs-pg-backup:lock'`, 'shared');
    const done = await a.waitDone(`/backups/${r.json.id}`, admin);
    assert.equal(done.status, 'failed');
    assert.match(done.error, /lost the connection holding the operation lock/);
    assert.ok(!readdirSync(a.backupDir).some((f) => f.includes(r.json.id.slice(0, 8))), 'no file of the failed backup');
    await sleep(100);
    assert.equal((await b.request('GET', '/operations/current', { token: admin })).json.locked, false);
  });
});
