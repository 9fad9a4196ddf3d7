import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { admin, startApp, TestApp } from '../support/app';
import { pgBinDir, startPostgres, TestPostgres } from '../support/postgres';

/** The table of contents of a `.dump.zst` backup file. */
function listDump(path: string): string {
  const dump = execFileSync('zstd', ['-q', '-d', '-c', path]);
  return execFileSync(join(pgBinDir(), 'pg_restore'), ['--list'], { input: dump, encoding: 'utf8' });
}

describe('two installations in one database (schemas inst_a and inst_b)', () => {
  let pg: TestPostgres;
  let a: TestApp;
  let b: TestApp;

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql(`create table items (id serial primary key, name text); insert into items (name) select md5(g::text) from generate_series(1, 1000) g`, 'shop');
    a = await startApp(pg.url('shop'), { schema: 'inst_a' });
    b = await startApp(pg.url('shop'), { schema: 'inst_b' });
  });

  after(async () => {
    await a?.close();
    await b?.close();
    pg?.stop();
  });

  it("back up without each other's schema, and a restore through one leaves the other's history intact", async () => {
    assert.equal((await b.createBackup()).status, 'completed');
    const backup = await a.createBackup();
    assert.equal(backup.status, 'completed');
    const contents = listDump(join(a.backupDir, backup.filename));
    assert.match(contents, /TABLE public items/, 'the data is in');
    assert.doesNotMatch(contents, /inst_b/, "b's schema is not");
    assert.doesNotMatch(contents, /inst_a/, "nor a's own");
    assert.deepEqual(Object.keys(backup.metadata.tables), ['public.items'], "only the data's tables are counted");

    assert.equal((await b.createBackup()).status, 'completed'); // after a's backup: only in the live history
    pg.psql(`insert into items (name) values ('after the backup')`, 'shop');

    const started = await a.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true, safetyBackup: false } });
    assert.equal(started.status, 202, started.text);
    const restore = await a.waitDone(`/restores/${started.json.id}`, admin);
    assert.equal(restore.status, 'completed', restore.error);
    assert.equal(pg.psql('select count(*) from items', 'shop'), '1000', 'the data is restored');

    const history = await b.request('GET', '/backups', { token: admin });
    assert.equal(history.status, 200);
    assert.equal(history.json.total, 2, "b's history is as it was, both backups");
    assert.equal(pg.psql('select count(*) from inst_b.backup_history', 'shop'), '2');
  });
});
