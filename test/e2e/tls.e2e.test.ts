import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admin, startApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';

/**
 * A server that accepts TCP connections over TLS only (`hostssl` lines alone): node-pg and every
 * child (pg_dump, pg_restore, psql) must use the TLS settings the URL or PGSSL* give, with the
 * meaning libpq gives them.
 */
describe('TLS to the database, from the URL or PGSSL*', () => {
  let pg: TestPostgres;

  before(async () => {
    pg = await startPostgres({ ssl: true });
    pg.psql('create database shop');
    pg.psql('create table items (id serial primary key, name text); insert into items (name) select md5(g::text) from generate_series(1, 2000) g', 'shop');
  });

  after(() => pg?.stop());

  async function backupAndRestore(databaseUrl: string): Promise<void> {
    const server = await startApp(databaseUrl);
    try {
      const backup = await server.createBackup();
      assert.equal(backup.status, 'completed', backup.error);
      pg.psql(`insert into items (name) values ('after the backup')`, 'shop');
      const r = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true, safetyBackup: false } });
      assert.equal(r.status, 202, r.text);
      const restore = await server.waitDone(`/restores/${r.json.id}`, admin);
      assert.equal(restore.status, 'completed', restore.error);
      assert.equal(pg.psql('select count(*) from items', 'shop'), '2000');
      const clear = pg.psql(`select count(*) from pg_stat_ssl s join pg_stat_activity a using (pid) where a.datname = 'shop' and a.client_addr is not null and not s.ssl`);
      assert.equal(clear, '0', 'no TCP session in clear');
    } finally {
      await server.close();
    }
  }

  it('sslmode=require (encrypted, certificate not checked, as in libpq)', async () => {
    await backupAndRestore(`${pg.url('shop')}?sslmode=require`);
  });

  it('sslmode=verify-full with sslrootcert', async () => {
    await backupAndRestore(`${pg.url('shop')}?sslmode=verify-full&sslrootcert=${encodeURIComponent(pg.caFile!)}`);
  });

  it('PGSSLMODE=verify-full and PGSSLROOTCERT in the environment, nothing in the URL', async () => {
    process.env.PGSSLMODE = 'verify-full';
    process.env.PGSSLROOTCERT = pg.caFile;
    try {
      await backupAndRestore(pg.url('shop'));
    } finally {
      delete process.env.PGSSLMODE;
      delete process.env.PGSSLROOTCERT;
    }
  });
});
