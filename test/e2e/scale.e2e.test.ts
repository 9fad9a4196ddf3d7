import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admin, startApp, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';

/**
 * `count` tables `t1`… in `schema`, each with a serial primary key (so a sequence) and one row;
 * `perTransaction` at a time, as one transaction cannot lock them all.
 */
function manyTables(schema: string, count: number, perTransaction: number): string {
  const batches: string[] = [];
  for (let from = 1; from <= count; from += perTransaction) {
    batches.push(`DO $$ BEGIN
  FOR i IN ${from}..${Math.min(from + perTransaction - 1, count)} LOOP
    EXECUTE format('CREATE TABLE %I.t%s (id serial PRIMARY KEY, v text)', '${schema}', i);
    EXECUTE format('INSERT INTO %I.t%s (v) VALUES (%L)', '${schema}', i, 'row of ' || i);
  END LOOP;
END $$;`);
  }
  return batches.join('\n');
}

describe('many tables on a default server (max_locks_per_transaction 64, max_connections 100)', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let app2k: TestApp;

  before(async () => {
    pg = await startPostgres();
    assert.equal(pg.psql('show max_locks_per_transaction'), '64');
    pg.psql('create database wide');
    pg.psql(manyTables('public', 4000, 500), 'wide');
    pg.psql('create database wide2k');
    pg.psql(manyTables('public', 2000, 500), 'wide2k');
    server = await startApp(pg.url('wide'));
    app2k = await startApp(pg.url('wide2k'));
  });

  after(async () => {
    await server?.close();
    await app2k?.close();
    pg?.stop();
  });

  it('backs up 4,000 tables with exact row counts: the counts hold no lock beside pg_dump’s', async () => {
    const backup = await server.createBackup();
    assert.equal(backup.status, 'completed', backup.error);
    const tables = Object.entries(backup.metadata.tables);
    assert.equal(tables.length, 4000);
    assert.ok(tables.every(([, rows]) => rows === 1), 'every table counted exactly (one row each)');
    assert.deepEqual(backup.metadata.estimatedTables, []);
  });

  it('restores 2,000 tables with their sequences in one transaction: the wipe renames schemas instead of dropping every object', async () => {
    const backup = await app2k.createBackup();
    assert.equal(backup.status, 'completed', backup.error);
    pg.psql(`insert into t1 (v) values ('after the backup'); create table extra (x int); create schema other; create table other.y (x int)`, 'wide2k');
    const r = await app2k.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true } });
    assert.equal(r.status, 202, r.text);
    const restore = await app2k.waitDone(`/restores/${r.json.id}`, admin, 300_000);
    assert.equal(restore.status, 'completed', restore.error);
    const content = `select (select count(*) from pg_tables where schemaname = 'public') || ':' || (select count(*) from pg_sequences where schemaname = 'public')
      || ':' || (select count(*) from t1) || ':' || (select last_value from t1_id_seq) || ':' || (select count(*) from t2000)
      || ':' || (select string_agg(nspname, ',' order by nspname) from pg_namespace where nspname not like 'pg\\_%' and nspname <> 'information_schema')`;
    assert.equal(pg.psql(content, 'wide2k'), '2000:2000:1:1:1:backup_admin,public', 'the backup content, nothing newer, no trash left');
  });
});

describe('a restore that cannot fit in the lock table (max_locks_per_transaction 10)', () => {
  let pg: TestPostgres;
  let server: TestApp;

  before(async () => {
    pg = await startPostgres({ settings: { max_locks_per_transaction: 10 } });
    pg.psql('create database tight');
    pg.psql(manyTables('public', 700, 100), 'tight');
    server = await startApp(pg.url('tight'));
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('is refused up front (422) naming max_locks_per_transaction and the value needed; nothing changes, no safety backup', async () => {
    const backup = await server.createBackup();
    assert.equal(backup.status, 'completed', backup.error);
    pg.psql(`insert into t1 (v) values ('after the backup')`, 'tight');
    const r = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true } });
    assert.equal(r.status, 422, r.text);
    // 700 tables × (table, TOAST table and index, sequence, primary key) + public, plpgsql + 200 for catalogs
    assert.match(r.json.message, /takes about 3702 locks in one transaction, and this server's shared lock table holds about 1708 \(max_locks_per_transaction = 10\); set max_locks_per_transaction to at least 38 .*nothing was changed/);
    assert.equal(pg.psql('select count(*) from t1', 'tight'), '2', 'the database is unchanged');
    assert.equal(pg.psql(`select count(*) from pg_namespace where nspname like 'pgb%'`, 'tight'), '0');
    assert.equal((await server.request('GET', '/backups', { token: admin })).json.total, 1, 'no safety backup was taken');
    assert.equal((await server.request('GET', '/operations/current', { token: admin })).json.locked, false);

    const preview = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { dryRun: true } });
    assert.equal(preview.status, 200, preview.text);
    assert.deepEqual(preview.json.locks, { needed: 3702, available: 1708, maxLocksPerTransaction: 10, requiredMaxLocksPerTransaction: 38, enough: false }, 'the dry run shows the same numbers');
    assert.deepEqual(preview.json.tables.find((t: any) => t.name === 'public.t1'), { name: 'public.t1', current: 2, backup: 1, estimated: false });
  });
});
