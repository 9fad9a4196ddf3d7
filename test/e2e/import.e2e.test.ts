import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { admin, startApp, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';


describe('disaster recovery: rebuilding the history from the backup directory', () => {
  let pg: TestPostgres;
  let server: TestApp;
  const backups: any[] = [];

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql('create table notes (id int primary key, body text); insert into notes select g, md5(g::text) from generate_series(1, 5000) g', 'app');
    server = await startApp(pg.url('app'));
    for (const notes of ['first', 'second', 'third']) {
      backups.push(await server.createBackup({ notes, tags: ['dr'] }));
    }
    await server.request('PATCH', `/backups/${backups[0].id}`, { token: admin, body: { pinned: true } });
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('registers every intact backup with its manifest, skips a tampered one, and restores from it', async () => {
    const tampered = join(server.backupDir, backups[2].filename);
    const bytes = readFileSync(tampered);
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(tampered, bytes);
    pg.psql('delete from backup_admin.backup_history; delete from backup_admin.restore_history;', 'app');
    assert.equal((await server.request('GET', '/backups', { token: admin })).json.total, 0);

    const r = await server.request('POST', '/backups/import', { token: admin });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.imported.sort(), [backups[0].filename, backups[1].filename].sort());
    assert.deepEqual(r.json.skipped, [{ file: join(server.backupDir, `${backups[2].filename}.json`), reason: 'SHA-256 differs from the manifest' }]);

    const listed = (await server.request('GET', '/backups', { token: admin })).json.items;
    const first = listed.find((b: any) => b.id === backups[0].id);
    assert.equal(first.notes, 'first');
    assert.equal(first.sha256, backups[0].sha256);
    assert.equal(first.pinned, true, 'manifests follow PATCH');
    assert.deepEqual(first.metadata.tables, backups[0].metadata.tables);

    pg.psql('truncate notes', 'app');
    const restore = await server.request('POST', `/backups/${backups[1].id}/restore`, { token: admin, body: { confirm: true } });
    assert.equal(restore.status, 202, restore.text);
    const restored = await server.waitDone(`/restores/${restore.json.id}`, admin);
    assert.equal(restored.status, 'completed', restored.error);
    assert.equal(pg.psql('select count(*) from notes', 'app'), '5000');

    const again = (await server.request('POST', '/backups/import', { token: admin })).json;
    assert.deepEqual(again.imported, []);
    assert.ok(again.skipped.some((s: any) => s.reason === 'already listed'));
  });
});
