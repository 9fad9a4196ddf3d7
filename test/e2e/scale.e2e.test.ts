import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApp, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';

/**
 * `count` tables `t1`… in `schema`, each with a serial primary key (so a sequence) and one row;
 * 500 per transaction, as one transaction cannot lock them all on a default server.
 */
function manyTables(schema: string, count: number): string {
  const batches: string[] = [];
  for (let from = 1; from <= count; from += 500) {
    batches.push(`DO $$ BEGIN
  FOR i IN ${from}..${Math.min(from + 499, count)} LOOP
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

  before(async () => {
    pg = await startPostgres();
    assert.equal(pg.psql('show max_locks_per_transaction'), '64');
    pg.psql('create database wide');
    pg.psql(manyTables('public', 4000), 'wide');
    server = await startApp(pg.url('wide'));
  });

  after(async () => {
    await server?.close();
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
});
