import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { admin, startApp, TestApp } from '../support/app';
import { fingerprint } from '../support/fingerprint';
import { MUTATIONS, RICH_FIXTURE } from '../support/fixture';
import { startPostgres, TestPostgres } from '../support/postgres';

const SCHEMAS = ['public', 'app', 'Mixed Case', 'created_later'];

describe('backup and restore of a real database', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let backup: any;
  let original: Record<string, string>;

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql(RICH_FIXTURE, 'shop');
    server = await startApp(pg.url('shop'));
    original = fingerprint(pg, 'shop', SCHEMAS);
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('creates a completed backup: 202 at once, file 0600 in a 0700 directory, sha256 of the file', async () => {
    const r = await server.request('POST', '/backups', { token: admin, body: { notes: 'before changes', tags: ['e2e'] } });
    assert.equal(r.status, 202);
    assert.equal(r.json.status, 'running');
    backup = await server.waitDone(`/backups/${r.json.id}`, admin);
    assert.equal(backup.status, 'completed', JSON.stringify(backup));
    assert.equal(backup.compression, 'zstd', 'zstd by default');
    assert.match(backup.filename, /\.dump\.zst$/);
    const file = join(server.backupDir, backup.filename);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(server.backupDir).mode & 0o777, 0o700);
    assert.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), backup.sha256);
    assert.equal(statSync(file).size, backup.sizeBytes);
    assert.deepEqual(backup.tags, ['e2e']);
    assert.equal(backup.metadata.database, 'shop');
    assert.match(backup.metadata.pgDumpVersion, /pg_dump \(PostgreSQL\) \d+/);
    assert.ok('public.users' in backup.metadata.tables, 'per-table row estimates recorded');
    assert.equal(readdirSync(server.backupDir).filter((f) => f.endsWith('.partial')).length, 0);
    const manifest = JSON.parse(readFileSync(`${file}.json`, 'utf8'));
    assert.equal(manifest.sha256, backup.sha256);
  });

  it('leaves the module schema out of the dump', async () => {
    const list = pg.psql(`select count(*) from backup_admin.backup_history`, 'shop');
    assert.ok(Number(list) >= 1);
    const { execFileSync } = await import('node:child_process');
    // readable by the standard tools: zstd -dc file | pg_restore --list
    const toc = execFileSync('bash', ['-c', `zstd -dc '${join(server.backupDir, backup.filename)}' | pg_restore --list`], { encoding: 'utf8' });
    assert.doesNotMatch(toc, /backup_admin/);
    assert.match(toc, /TABLE DATA app orders/);
  });

  it('verifies the backup by name of each check', async () => {
    const r = await server.request('POST', `/backups/${backup.id}/verify`, { token: admin });
    assert.equal(r.status, 200);
    assert.equal(r.json.valid, true);
    assert.deepEqual(r.json.checks.map((c: any) => c.name), ['file', 'sha256', 'decompress', 'dump']);
    assert.ok(r.json.checks.every((c: any) => c.ok));
    assert.ok((await server.request('GET', `/backups/${backup.id}`, { token: admin })).json.verifiedAt);
  });

  it('restores exactly: content equals the backup, later objects gone, history kept, safety backup taken', async () => {
    pg.psql(MUTATIONS, 'shop');
    assert.notDeepEqual(fingerprint(pg, 'shop', SCHEMAS), original);
    const r = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true } });
    assert.equal(r.status, 202, r.text);
    const done = await server.waitDone(`/restores/${r.json.id}`, admin);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.deepEqual(fingerprint(pg, 'shop', SCHEMAS), original);

    const safety = (await server.request('GET', `/backups/${done.safetyBackupId}`, { token: admin })).json;
    assert.equal(safety.type, 'safety');
    assert.equal(safety.status, 'completed');
    const listed = (await server.request('GET', '/backups?limit=50', { token: admin })).json;
    assert.ok(listed.items.some((b: any) => b.id === backup.id), 'history survives the restore');
    const audit = (await server.request('GET', '/audit?action=restore.finish&outcome=success', { token: admin })).json;
    assert.ok(audit.items.some((e: any) => e.target === backup.id));
  });

  it('refuses a corrupt file (422) and changes nothing', async () => {
    const path = join(server.backupDir, backup.filename);
    const good = readFileSync(path);
    const bad = Buffer.from(good);
    bad[Math.floor(bad.length / 2)] ^= 0xff;
    writeFileSync(path, bad);
    try {
      pg.psql('create table app.sentinel (x int)', 'shop');
      const before = fingerprint(pg, 'shop', SCHEMAS);
      const r = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true } });
      assert.equal(r.status, 422, r.text);
      assert.match(r.json.message, /sha256/);
      assert.deepEqual(fingerprint(pg, 'shop', SCHEMAS), before);
      assert.equal((await server.request('GET', '/operations/current', { token: admin })).json.locked, false);
      const verify = (await server.request('POST', `/backups/${backup.id}/verify`, { token: admin })).json;
      assert.equal(verify.valid, false);
    } finally {
      writeFileSync(path, good);
      pg.psql('drop table app.sentinel', 'shop');
    }
  });

  it('refuses a truncated file (422) and a missing one', async () => {
    const path = join(server.backupDir, backup.filename);
    const good = readFileSync(path);
    writeFileSync(path, good.subarray(0, Math.floor(good.length / 3)));
    try {
      const r = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true } });
      assert.equal(r.status, 422);
    } finally {
      writeFileSync(path, good);
    }
    const { renameSync } = await import('node:fs');
    renameSync(path, `${path}.away`);
    try {
      const r = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true } });
      assert.equal(r.status, 422);
      assert.match(r.json.message, /missing/);
    } finally {
      renameSync(`${path}.away`, path);
    }
  });

  it('rolls back a restore whose dump fails half-way, even with a matching checksum', async () => {
    // A damaged dump recorded with its own checksum: the integrity check passes, pg_restore fails mid-stream.
    const path = join(server.backupDir, backup.filename);
    const good = readFileSync(path);
    const truncated = good.subarray(0, Math.floor(good.length * 0.6));
    writeFileSync(path, truncated);
    const sha = createHash('sha256').update(truncated).digest('hex');
    pg.psql(`update backup_admin.backup_history set sha256 = '${sha}', size_bytes = ${truncated.length} where id = '${backup.id}'`, 'shop');
    try {
      pg.psql('create table app.sentinel (x int); insert into app.sentinel values (42);', 'shop');
      const before = fingerprint(pg, 'shop', SCHEMAS);
      const r = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true } });
      assert.equal(r.status, 202, r.text);
      const done = await server.waitDone(`/restores/${r.json.id}`, admin);
      assert.equal(done.status, 'failed');
      assert.match(done.error, /zstd|pg_restore/);
      assert.deepEqual(fingerprint(pg, 'shop', SCHEMAS), before, 'database unchanged after a failed restore');
      assert.equal((await server.request('GET', '/operations/current', { token: admin })).json.locked, false);
    } finally {
      writeFileSync(path, good);
      pg.psql(`update backup_admin.backup_history set sha256 = '${backup.sha256}', size_bytes = ${good.length} where id = '${backup.id}'`, 'shop');
      pg.psql('drop table if exists app.sentinel', 'shop');
    }
  });

  it('terminates a session that blocks the restore after the grace period', async () => {
    const blocker = new Client({ connectionString: pg.url('shop'), application_name: 'idle-in-transaction' });
    blocker.on('error', () => undefined);
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT count(*) FROM app.orders');
    const started = Date.now();
    const r = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true } });
    assert.equal(r.status, 202);
    const done = await server.waitDone(`/restores/${r.json.id}`, admin, 60_000);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done.detail.terminatedPids.length, 1);
    assert.ok(Date.now() - started >= 1000, 'waited for the grace period');
    await assert.rejects(blocker.query('SELECT 1'));
    await blocker.end().catch(() => undefined);
    assert.deepEqual(fingerprint(pg, 'shop', SCHEMAS), original);
  });

  it('downloads the file as stored, with headers, and deletes it', async () => {
    const res = await fetch(`${server.base}/backups/${backup.id}/download`, { headers: { authorization: `Bearer ${admin}` } });
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(createHash('sha256').update(body).digest('hex'), backup.sha256);
    assert.equal(Number(res.headers.get('content-length')), body.length);
    assert.match(res.headers.get('content-disposition') ?? '', new RegExp(`attachment; filename="${backup.filename}"`));
    const del = await server.request('DELETE', `/backups/${backup.id}`, { token: admin });
    assert.equal(del.status, 204);
    assert.equal(existsSync(join(server.backupDir, backup.filename)), false);
    assert.equal(existsSync(join(server.backupDir, `${backup.filename}.json`)), false);
    assert.equal((await server.request('GET', `/backups/${backup.id}`, { token: admin })).status, 404);
    const restores = (await server.request('GET', '/restores', { token: admin })).json;
    assert.ok(restores.items.some((x: any) => x.backupId === backup.id), 'restore records outlive the backup');
  });
});
