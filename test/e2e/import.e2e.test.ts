import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { manifestText } from '../../src/backup/backup-manifest';
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
    assert.ok(listed.some((b: any) => b.id === backups[0].id));
    const first = (await server.request('GET', `/backups/${backups[0].id}`, { token: admin })).json;
    assert.equal(first.notes, 'first');
    assert.equal(first.sha256, backups[0].sha256);
    assert.equal(first.pinned, false, 'a pin is never taken from a manifest (it followed the PATCH there)');
    assert.equal(first.verifiedAt, null, 'nor a verification');
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

describe('import trusts the archive, not the manifest', () => {
  const KEY = 'manifest-key-0123456789';
  let pg: TestPostgres;
  let server: TestApp;
  let backup: any;

  /** A copy of the backup's file under a new name and id, with the manifest `edit` makes. */
  function plant(edit: (manifest: any) => object, sign = false): { id: string; filename: string } {
    const id = randomUUID();
    const filename = backup.filename.replace(/-[0-9a-f]{8}\.dump/, `-${id.slice(0, 8)}.dump`);
    copyFileSync(join(server.backupDir, backup.filename), join(server.backupDir, filename));
    const { signature: _signature, ...original } = JSON.parse(readFileSync(join(server.backupDir, `${backup.filename}.json`), 'utf8'));
    const manifest = edit({ ...original, id, filename });
    writeFileSync(join(server.backupDir, `${filename}.json`), sign ? manifestText(manifest, KEY) : JSON.stringify(manifest));
    return { id, filename };
  }

  async function importAll(): Promise<{ imported: string[]; skipped: { file: string; reason: string }[] }> {
    const r = await server.request('POST', '/backups/import', { token: admin });
    assert.equal(r.status, 200, r.text);
    return r.json;
  }

  const reasonFor = (result: { skipped: { file: string; reason: string }[] }, filename: string) =>
    result.skipped.find((s) => s.file.endsWith(`${filename}.json`))?.reason;

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql(`create table docs (id int primary key, blob oid); insert into docs values (1, lo_from_bytea(0, 'large object bytes'))`, 'app');
    server = await startApp(pg.url('app'), { manifestHmacKey: KEY });
    backup = await server.createBackup();
    assert.equal(backup.metadata.largeObjects, 1);
    await server.request('POST', `/backups/${backup.id}/verify`, { token: admin });
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('refuses a manifest dated in the future, and dates a far-off one by the archive', async () => {
    const future = plant((m) => ({ ...m, createdAt: new Date(Date.now() + 365 * 86_400_000).toISOString() }));
    const past = plant((m) => ({ ...m, createdAt: '2020-01-01T00:00:00.000Z', finishedAt: '2020-01-01T00:00:01.000Z' }));
    const result = await importAll();
    assert.match(reasonFor(result, future.filename) ?? '', /dated in the future/);
    assert.ok(result.imported.includes(past.filename), JSON.stringify(result));
    const imported = (await server.request('GET', `/backups/${past.id}`, { token: admin })).json;
    const off = Math.abs(new Date(imported.createdAt).getTime() - new Date(backup.createdAt).getTime());
    assert.ok(off < 60_000, `createdAt ${imported.createdAt} is the dump's time (${backup.createdAt})`);
    assert.equal(imported.finishedAt, null, 'a finish before the start is not taken');
  });

  it('takes large objects, database and versions from the table of contents; never a pin or a verification', async () => {
    const liar = plant((m) => ({
      ...m,
      pinned: true,
      verifiedAt: new Date().toISOString(),
      drill: { ok: true },
      metadata: { ...m.metadata, largeObjects: 0, database: 'elsewhere' },
    }));
    const result = await importAll();
    assert.ok(result.imported.includes(liar.filename), JSON.stringify(result));
    const imported = (await server.request('GET', `/backups/${liar.id}`, { token: admin })).json;
    assert.equal(imported.metadata.largeObjects, 1);
    assert.equal(imported.metadata.database, 'app');
    assert.equal(imported.pinned, false);
    assert.equal(imported.verifiedAt, null);
    assert.equal(imported.drill, null);
  });

  it('refuses a manifest larger than 1 MiB', async () => {
    const huge = plant((m) => ({ ...m, notes: 'x'.repeat(1024 * 1024) }));
    assert.match(reasonFor(await importAll(), huge.filename) ?? '', /more than 1048576/);
  });

  it('never hangs on a FIFO planted as a manifest or as a backup file', { timeout: 60_000 }, async () => {
    const fifoManifest = join(server.backupDir, `app-manual-20261101T000000Z-0f0f0f0f.dump.zst.json`);
    execFileSync('mkfifo', [fifoManifest]);
    const fifoFile = plant((m) => ({ ...m, sizeBytes: 0 }));
    rmSync(join(server.backupDir, fifoFile.filename));
    execFileSync('mkfifo', [join(server.backupDir, fifoFile.filename)]);
    const result = await importAll();
    assert.equal(reasonFor(result, 'app-manual-20261101T000000Z-0f0f0f0f.dump.zst'), 'not a regular file');
    assert.equal(reasonFor(result, fifoFile.filename), 'the backup file is empty');
    rmSync(fifoManifest);
    rmSync(join(server.backupDir, fifoFile.filename));
    rmSync(join(server.backupDir, `${fifoFile.filename}.json`));
  });

  it('signs what it writes; with a signature required, refuses unsigned and tampered manifests', async () => {
    const own = JSON.parse(readFileSync(join(server.backupDir, `${backup.filename}.json`), 'utf8'));
    assert.match(own.signature, /^hmac-sha256:[0-9a-f]{64}$/);
    const strict = await startApp(pg.url('app'), { backupDir: server.backupDir, manifestHmacKey: KEY, manifestRequireSignature: true });
    try {
      const signed = plant((m) => m, true);
      const unsigned = plant((m) => m);
      const tampered = plant((m) => m, true);
      const path = join(server.backupDir, `${tampered.filename}.json`);
      writeFileSync(path, readFileSync(path, 'utf8').replace(/"createdBy": "[^"]*"/, '"createdBy": "mallory"'));
      const r = await strict.request('POST', '/backups/import', { token: admin });
      assert.equal(r.status, 200, r.text);
      assert.ok(r.json.imported.includes(signed.filename), r.text);
      assert.equal(reasonFor(r.json, unsigned.filename), 'the manifest is not signed');
      assert.equal(reasonFor(r.json, tampered.filename), 'the manifest signature does not match its content');
    } finally {
      await strict.close();
    }
  });
});
