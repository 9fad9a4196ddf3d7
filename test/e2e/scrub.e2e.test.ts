import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BackupScrubService } from '../../src/backup/backup-scrub.service';
import { admin, startApp, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';


describe('scrub: re-verifying every stored backup', () => {
  let pg: TestPostgres;
  let server: TestApp;
  const backups: any[] = [];

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql('create table t (id int primary key, body text); insert into t select g, md5(g::text) from generate_series(1, 5000) g', 'app');
    server = await startApp(pg.url('app'));
    for (let i = 0; i < 2; i++) {
      backups.push(await server.createBackup());
    }
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('marks a silently corrupted backup damaged and the intact one verified', async () => {
    const path = join(server.backupDir, backups[0].filename);
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 2)] ^= 0x40; // bit rot: same size, different bytes
    writeFileSync(path, bytes);
    const r = await server.request('POST', '/backups/scrub', { token: admin });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { checked: 2, damaged: [backups[0].id], unreadable: [] });
    const damaged = (await server.request('GET', `/backups/${backups[0].id}`, { token: admin })).json;
    assert.equal(damaged.damaged, true);
    assert.match(damaged.error, /scrub .*sha256/);
    const intact = (await server.request('GET', `/backups/${backups[1].id}`, { token: admin })).json;
    assert.equal(intact.damaged, false);
    assert.ok(intact.verifiedAt);
    assert.ok((await server.request('GET', '/backups/config', { token: admin })).json.lastScrubAt);
  });

  it('runs on its interval, once, however many instances check', async () => {
    await server.request('PUT', '/backups/config', { token: admin, body: { scrubIntervalHours: 24 } });
    const scrubber = server.app.get(BackupScrubService);
    assert.equal(await scrubber.runIfDue(), null, 'the scrub above was less than 24 h ago');
    pg.psql(`update backup_admin.backup_config set last_scrub_at = now() - interval '25 hours'`, 'app');
    const other = await startApp(pg.url('app'), { backupDir: server.backupDir });
    try {
      const results = await Promise.all([scrubber.runIfDue(), other.app.get(BackupScrubService).runIfDue()]);
      assert.equal(results.filter((r) => r !== null).length, 1, JSON.stringify(results));
      assert.equal(results.find((r) => r !== null)!.checked, 2);
    } finally {
      await other.close();
    }
    assert.equal((await server.request('PUT', '/backups/config', { token: admin, body: { scrubIntervalHours: 0 } })).status, 400);
  });
});
