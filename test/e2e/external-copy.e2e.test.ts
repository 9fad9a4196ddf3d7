import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { admin, startApp, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';


describe('copies in BACKUP_EXTERNAL_DIR', () => {
  let pg: TestPostgres;
  let server: TestApp;
  const externalDir = join(mkdtempSync(join(tmpdir(), 'pgb-nas-')), 'backups');

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql('create table t (id int primary key, body text); insert into t select g, md5(g::text) from generate_series(1, 20000) g', 'app');
    server = await startApp(pg.url('app'), { externalDir });
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('writes a verified private copy, and serves download, verify, restore and import from it when the primary is gone', async () => {
    const backup = await server.createBackup();
    assert.equal(backup.status, 'completed');
    assert.equal(backup.copies.length, 1);
    assert.equal(backup.copies[0].state, 'ok');
    const copy = join(externalDir, backup.filename);
    assert.equal(backup.copies[0].location, copy);
    assert.equal(createHash('sha256').update(readFileSync(copy)).digest('hex'), backup.sha256);
    assert.equal(statSync(copy).mode & 0o777, 0o600);
    assert.equal(statSync(externalDir).mode & 0o777, 0o700);
    assert.ok(existsSync(`${copy}.json`), 'manifest beside the copy');

    rmSync(join(server.backupDir, backup.filename));
    const res = await fetch(`${server.base}/backups/${backup.id}/download`, { headers: { authorization: `Bearer ${admin}` } });
    assert.equal(res.status, 200);
    assert.equal(createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex'), backup.sha256);
    const verify = (await server.request('POST', `/backups/${backup.id}/verify`, { token: admin })).json;
    assert.equal(verify.valid, true);
    assert.match(verify.checks[0].detail, new RegExp(externalDir));

    pg.psql('delete from t where id > 100', 'app');
    const restore = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true } });
    assert.equal(restore.status, 202, restore.text);
    assert.equal((await server.waitDone(`/restores/${restore.json.id}`, admin)).status, 'completed');
    assert.equal(pg.psql('select count(*) from t', 'app'), '20000');

    // a damaged primary with the right size: the intact copy is used instead
    const safetyId = (await server.request('GET', '/restores', { token: admin })).json.items[0].safetyBackupId;
    const safety = (await server.request('GET', `/backups/${safetyId}`, { token: admin })).json;
    const primary = join(server.backupDir, safety.filename);
    const bytes = readFileSync(primary);
    bytes[100] ^= 1;
    writeFileSync(primary, bytes);
    const check = (await server.request('POST', `/backups/${safetyId}/verify`, { token: admin })).json;
    assert.equal(check.valid, true, JSON.stringify(check));
    assert.match(check.checks[0].detail, new RegExp(externalDir));

    // the machine and its history are lost; only the NAS is left
    pg.psql('delete from backup_admin.backup_history', 'app');
    for (const f of readdirSync(server.backupDir)) rmSync(join(server.backupDir, f));
    const imported = (await server.request('POST', '/backups/import', { token: admin })).json;
    assert.deepEqual(imported.imported.sort(), [backup.filename, safety.filename].sort());
    const listed = (await server.request('GET', `/backups/${backup.id}`, { token: admin })).json;
    assert.equal(listed.copies[0].state, 'ok');

    const del = await server.request('DELETE', `/backups/${backup.id}`, { token: admin });
    assert.equal(del.status, 204);
    assert.equal(existsSync(copy), false, 'delete removes every copy');
  });

  it('records a failed copy without failing the backup', async () => {
    const blocked = join(mkdtempSync(join(tmpdir(), 'pgb-nas-')), 'not-a-dir');
    writeFileSync(blocked, 'a file where the directory should be');
    const other = await startApp(pg.url('app'), { externalDir: blocked, backupDir: server.backupDir });
    try {
      const backup = await other.createBackup();
      assert.equal(backup.status, 'completed');
      assert.equal(backup.copies[0].state, 'failed');
      assert.match(backup.copies[0].error, /EEXIST|ENOTDIR/);
      assert.ok(existsSync(join(server.backupDir, backup.filename)));
    } finally {
      await other.close();
    }
  });
});
