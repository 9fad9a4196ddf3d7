import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { admin, startApp, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';


describe('admin API: validation, paging, config, stats, cleanup', () => {
  let pg: TestPostgres;
  let server: TestApp;
  const ids: string[] = [];

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql('create table t (x int); insert into t select generate_series(1, 1000)', 'app');
    server = await startApp(pg.url('app'), { initialSchedule: '30 2 * * *' });
    for (let i = 0; i < 3; i++) {
      const backup = await server.createBackup({ notes: `n${i}` });
      assert.equal(backup.status, 'completed');
      ids.push(backup.id);
    }
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('refuses malformed input with 400 and the reason', async () => {
    const cases: [string, string, unknown, RegExp][] = [
      ['GET', '/backups/not-a-uuid', undefined, /uuid/],
      ['GET', '/backups?limit=201', undefined, /limit/],
      ['GET', '/backups?limit=0', undefined, /limit/],
      ['GET', '/backups?offset=-1', undefined, /offset/],
      ['GET', '/backups?status=done', undefined, /status/],
      ['POST', '/backups', { notes: 'x', owner: 'me' }, /owner should not exist/],
      ['POST', '/backups', { tags: 'not-an-array' }, /tags/],
      ['POST', '/backups', { tags: ['has space'] }, /tag/],
      ['POST', `/backups/${'0'.repeat(8)}-0000-4000-8000-000000000000/restore`, { confirm: 'yes' }, /confirm/],
      ['PUT', '/backups/config', { schedule: '61 * * * *' }, /cron/],
      ['PUT', '/backups/config', { schedule: '* * *' }, /5 or 6 fields/],
      ['PUT', '/backups/config', { retention: { keepLast: 3 } }, /maxAgeDays/],
      ['PUT', '/backups/config', { compression: 'lzma' }, /compression/],
      ['PUT', '/backups/config', { colour: 'red' }, /colour should not exist/],
      ['GET', '/audit?outcome=maybe', undefined, /outcome/],
    ];
    for (const [method, path, body, reason] of cases) {
      const r = await server.request(method, path, { token: admin, body });
      assert.equal(r.status, 400, `${method} ${path} ${JSON.stringify(body)} → ${r.status} ${r.text}`);
      assert.equal(r.json.error, 'Bad Request');
      assert.match(JSON.stringify(r.json.message), reason, `${method} ${path}`);
    }
  });

  it('404 for unknown ids everywhere', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const [method, path, body] of [
      ['GET', `/backups/${unknown}`],
      ['GET', `/backups/${unknown}/download`],
      ['POST', `/backups/${unknown}/verify`],
      ['DELETE', `/backups/${unknown}`],
      ['POST', `/backups/${unknown}/restore`, { confirm: true }],
      ['GET', `/restores/${unknown}`],
    ] as [string, string, unknown][]) {
      assert.equal((await server.request(method, path, { token: admin, body })).status, 404, `${method} ${path}`);
    }
  });

  it('lists newest first with paging and exact filters', async () => {
    const page1 = (await server.request('GET', '/backups?limit=2', { token: admin })).json;
    assert.equal(page1.total, 3);
    assert.deepEqual(page1.items.map((b: any) => b.id), [ids[2], ids[1]]);
    const page2 = (await server.request('GET', '/backups?limit=2&offset=2', { token: admin })).json;
    assert.deepEqual(page2.items.map((b: any) => b.id), [ids[0]]);
    assert.equal((await server.request('GET', '/backups?status=failed', { token: admin })).json.total, 0);
    assert.equal((await server.request('GET', '/backups?type=manual&status=completed', { token: admin })).json.total, 3);
  });

  it("lists each backup's metadata without what grows with the database; one backup has all of it", async () => {
    const [listed] = (await server.request('GET', '/backups?limit=1', { token: admin })).json.items;
    const full = (await server.request('GET', `/backups/${listed.id}`, { token: admin })).json;
    assert.ok(Object.keys(full.metadata.tables).length > 0, 'the backup recorded its tables');
    for (const key of ['tables', 'estimatedTables', 'tableBytes', 'contents', 'cluster']) assert.equal(key in listed.metadata, false, key);
    const { tables: _t, estimatedTables: _e, tableBytes: _b, cluster: _c, contents: _s, ...light } = full.metadata;
    assert.deepEqual(listed.metadata, light);
    assert.deepEqual({ ...listed, metadata: null }, { ...full, metadata: null }, 'every other field as GET /backups/:id gives it');
  });

  it('seeds the schedule from BACKUP_SCHEDULE, validates and persists config, reports nextRunAt', async () => {
    const cfg = (await server.request('GET', '/backups/config', { token: admin })).json;
    assert.equal(cfg.schedule, '30 2 * * *');
    assert.equal(cfg.enabled, true);
    assert.ok(new Date(cfg.nextRunAt).getTime() > Date.now());
    assert.equal(new Date(cfg.nextRunAt).getMinutes(), 30);
    const put = await server.request('PUT', '/backups/config', {
      token: admin,
      body: { schedule: '0 */6 * * *', retention: { keepLast: 2, maxAgeDays: 0, daily: 0, weekly: 0, monthly: 0 }, archiveAfterDays: null },
    });
    assert.equal(put.status, 200, put.text);
    const after = (await server.request('GET', '/backups/config', { token: admin })).json;
    assert.equal(after.schedule, '0 */6 * * *');
    assert.equal(after.retention.keepLast, 2);
    assert.equal(after.verifyAfterCreate, cfg.verifyAfterCreate, 'omitted fields keep their values');
    assert.equal(after.updatedBy, 'alice');
    const off = await server.request('PUT', '/backups/config', { token: admin, body: { enabled: false } });
    assert.equal(off.json.nextRunAt, null);
  });

  it('reports stats', async () => {
    const stats = (await server.request('GET', '/backups/stats', { token: admin })).json;
    assert.equal(stats.count, 3);
    assert.equal(stats.byStatus.completed, 3);
    assert.equal(stats.byType.manual, 3);
    assert.ok(stats.totalBytes > 0);
    assert.ok(stats.lastSuccessAt && stats.oldest && stats.newest);
  });

  it('pins a backup, previews cleanup with the rule that keeps each survivor', async () => {
    const patch = await server.request('PATCH', `/backups/${ids[0]}`, { token: admin, body: { pinned: true, notes: 'keep me', tags: ['gold'] } });
    assert.equal(patch.status, 200, patch.text);
    assert.equal(patch.json.pinned, true);
    assert.equal(patch.json.notes, 'keep me');
    assert.equal((await server.request('PATCH', `/backups/${ids[0]}`, { token: admin, body: { status: 'failed' } })).status, 400);
    await server.request('PUT', '/backups/config', { token: admin, body: { retention: { keepLast: 1, maxAgeDays: 0, daily: 0, weekly: 0, monthly: 0 } } });
    const preview = await server.request('POST', '/backups/cleanup?dryRun=true', { token: admin });
    assert.equal(preview.status, 200);
    assert.deepEqual(preview.json.delete.map((d: any) => d.id), [ids[1]]);
    const reasons = Object.fromEntries(preview.json.keep.map((k: any) => [k.id, k.reasons]));
    assert.deepEqual(reasons[ids[2]], ['newest', 'keepLast']);
    assert.deepEqual(reasons[ids[0]], ['pinned']);
    assert.equal((await server.request('GET', '/backups', { token: admin })).json.total, 3, 'a dry run deletes nothing');
    const unpin = await server.request('PATCH', `/backups/${ids[0]}`, { token: admin, body: { pinned: false } });
    assert.equal(unpin.json.notes, 'keep me', 'omitted fields keep their values');
    await server.request('PUT', '/backups/config', { token: admin, body: { retention: { keepLast: 2, maxAgeDays: 0, daily: 0, weekly: 0, monthly: 0 } } });
  });

  it('cleanup applies retention: keepLast 2 deletes the oldest', async () => {
    const r = await server.request('POST', '/backups/cleanup', { token: admin });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { deleted: 1, archived: 0 });
    const left = (await server.request('GET', '/backups', { token: admin })).json.items.map((b: any) => b.id);
    assert.deepEqual(left, [ids[2], ids[1]]);
  });

  it('verifies after create when configured, and refuses deletes while an operation runs', async () => {
    await server.request('PUT', '/backups/config', { token: admin, body: { verifyAfterCreate: true } });
    pg.psql('insert into t select generate_series(1, 2000000)', 'app');
    const r = await server.request('POST', '/backups', { token: admin, body: {} });
    assert.equal(r.status, 202);
    const busy = await server.request('DELETE', `/backups/${ids[2]}`, { token: admin });
    assert.equal(busy.status, 409, 'a delete waits for the running backup');
    const done = await server.waitDone(`/backups/${r.json.id}`, admin);
    assert.equal(done.status, 'completed');
    assert.ok(done.verifiedAt, 'verified right after it was written');
    assert.equal((await server.request('DELETE', `/backups/${r.json.id}`, { token: admin })).status, 204);
    await server.request('PUT', '/backups/config', { token: admin, body: { verifyAfterCreate: false } });
  });

  it('fails clearly when pg_dump is older than the server, without taking a backup', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'pgb-oldbin-'));
    writeFileSync(join(bin, 'pg_dump'), '#!/bin/sh\necho "pg_dump (PostgreSQL) 9.6.24"\n');
    chmodSync(join(bin, 'pg_dump'), 0o755);
    const old = await startApp(pg.url('app'), { pgBinDir: bin, backupDir: server.backupDir });
    try {
      const r = await old.request('POST', '/backups', { token: admin, body: {} });
      assert.equal(r.status, 500);
      assert.match(r.json.message, /pg_dump is version 9 but the server is PostgreSQL \d+/);
      assert.equal((await old.request('GET', '/operations/current', { token: admin })).json.locked, false);
    } finally {
      await old.close();
    }
  });

  it('refuses with 507 when the backup directory lacks free space', async () => {
    const tight = await startApp(pg.url('app'), { minFreeBytes: Number.MAX_SAFE_INTEGER, backupDir: server.backupDir });
    try {
      const r = await tight.request('POST', '/backups', { token: admin, body: {} });
      assert.equal(r.status, 507);
      assert.match(r.json.message, /free/);
      assert.equal((await tight.request('GET', '/operations/current', { token: admin })).json.locked, false);
    } finally {
      await tight.close();
    }
  });
});
