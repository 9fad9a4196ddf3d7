import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { admin, startApp, TestApp } from '../support/app';
import { fingerprint } from '../support/fingerprint';
import { until } from '../support/net';
import { startPostgres, TestPostgres } from '../support/postgres';
import { blockTable } from '../support/open-transaction';

describe('a backup behind a held table lock', () => {
  let pg: TestPostgres;
  let server: TestApp;

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql('create table items (id serial primary key, name text); insert into items (name) select md5(g::text) from generate_series(1, 1000) g', 'shop');
    server = await startApp(pg.url('shop'), { lockWaitTimeoutMs: 2000 });
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  const unlocked = async () => (await server.request('GET', '/operations/current', { token: admin })).json.locked === false;
  const ourSessions = () => pg.psql(`select count(*) from pg_stat_activity where application_name ~ '^nestjs-pg-backup:(dump|snapshot)'`, 'shop');

  it('fails within the bound, naming the blocking session, frees the lock; succeeds once the blocker commits', async () => {
    const blocker = await blockTable(pg.url('shop'), 'items', 'stuck-migration');
    try {
      const started = Date.now();
      const r = await server.request('POST', '/backups', { token: admin, body: {} });
      assert.equal(r.status, 202, r.text);
      const backup = await server.waitDone(`/backups/${r.json.id}`, admin, 30_000);
      const elapsed = Date.now() - started;
      assert.equal(backup.status, 'failed');
      assert.match(backup.error, new RegExp(`waited more than 2 s for a table lock held by session ${blocker.pid} \\(application_name "stuck-migration", idle in transaction, query started \\d{4}-`));
      assert.ok(elapsed >= 2000 && elapsed < 20_000, `failed after ${elapsed} ms`);
      await until(unlocked, 'the operation lock to be free');
      await until(() => ourSessions() === '0', "pg_dump's and the snapshot's sessions to end");
      assert.deepEqual(readdirSync(server.backupDir), [], 'no partial file is left');
      assert.equal(pg.psql(`select count(*) from pg_stat_activity where pid = ${blocker.pid}`, 'shop'), '1', 'a backup never terminates the blocker');
    } finally {
      await blocker.client.query('COMMIT');
      await blocker.client.end();
    }
    const second = await server.createBackup();
    assert.equal(second.status, 'completed', second.error);
    assert.equal(second.metadata.tables['public.items'], 1000);
  });

  it("bounds a restore's safety backup the same way: the restore fails and the database is untouched", async () => {
    const backup = await server.createBackup();
    pg.psql(`insert into items (name) values ('after the backup')`, 'shop');
    const before = fingerprint(pg, 'shop', ['public']);
    const blocker = await blockTable(pg.url('shop'), 'items', 'stuck-migration');
    try {
      const r = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true } });
      assert.equal(r.status, 202, r.text);
      const restore = await server.waitDone(`/restores/${r.json.id}`, admin, 30_000);
      assert.equal(restore.status, 'failed');
      assert.match(restore.error, new RegExp(`safety backup failed.*held by session ${blocker.pid} \\(application_name "stuck-migration"`));
      await until(unlocked, 'the operation lock to be free');
    } finally {
      await blocker.client.query('COMMIT');
      await blocker.client.end();
    }
    assert.deepEqual(fingerprint(pg, 'shop', ['public']), before, 'nothing was restored');
  });
});
