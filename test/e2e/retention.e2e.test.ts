import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Repository, SelectQueryBuilder } from 'typeorm';
import { BackupScrubService } from '../../src/backup/backup-scrub.service';
import { admin, startApp, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';

const ONLY_KEEP_LAST_1 = { keepLast: 1, maxAgeDays: 0, daily: 0, weekly: 0, monthly: 0 };

/** The most rows any one TypeORM read returned while `fn` ran. */
async function largestRead(fn: () => Promise<unknown>): Promise<number> {
  let largest = 0;
  const record = <T>(rows: T[]) => ((largest = Math.max(largest, rows.length)), rows);
  const originals = {
    find: Repository.prototype.find,
    getMany: SelectQueryBuilder.prototype.getMany,
    getRawMany: SelectQueryBuilder.prototype.getRawMany,
  };
  Repository.prototype.find = async function (this: Repository<any>, ...args: any[]) {
    return record(await originals.find.apply(this, args as never));
  } as typeof Repository.prototype.find;
  SelectQueryBuilder.prototype.getMany = async function (this: SelectQueryBuilder<any>) {
    return record(await originals.getMany.apply(this));
  };
  SelectQueryBuilder.prototype.getRawMany = async function (this: SelectQueryBuilder<any>) {
    return record(await originals.getRawMany.apply(this));
  } as typeof SelectQueryBuilder.prototype.getRawMany;
  try {
    await fn();
  } finally {
    Object.assign(Repository.prototype, { find: originals.find });
    Object.assign(SelectQueryBuilder.prototype, { getMany: originals.getMany, getRawMany: originals.getRawMany });
  }
  return largest;
}

describe('retention never deletes the newest intact backup', () => {
  let pg: TestPostgres;
  let server: TestApp;
  const backups: any[] = [];

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql('create table t (id int primary key, body text); insert into t select g, md5(g::text) from generate_series(1, 2000) g', 'app');
    server = await startApp(pg.url('app'));
    for (let i = 0; i < 4; i++) backups.push(await server.createBackup());
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('keepLast 1 keeps the newest intact backup when the newest ones are damaged', async () => {
    for (const damaged of backups.slice(2)) {
      const path = join(server.backupDir, damaged.filename);
      const bytes = readFileSync(path);
      bytes[Math.floor(bytes.length / 2)] ^= 0x40;
      writeFileSync(path, bytes);
      const verify = await server.request('POST', `/backups/${damaged.id}/verify`, { token: admin });
      assert.equal(verify.json.valid, false, verify.text);
      assert.equal((await server.request('GET', `/backups/${damaged.id}`, { token: admin })).json.damaged, true);
    }
    const put = await server.request('PUT', '/backups/config', { token: admin, body: { retention: ONLY_KEEP_LAST_1 } });
    assert.equal(put.status, 200, put.text);
    const preview = await server.request('POST', '/backups/cleanup?dryRun=true', { token: admin });
    assert.deepEqual(
      preview.json.keep.map((k: any) => [k.id, k.reasons]),
      [[backups[1].id, ['newest', 'keepLast']]],
    );
    const r = await server.request('POST', '/backups/cleanup', { token: admin });
    assert.equal(r.status, 200, r.text);
    const left = (await server.request('GET', '/backups', { token: admin })).json.items.map((b: any) => b.id);
    assert.deepEqual(left, [backups[1].id]);
    const check = await server.request('POST', `/backups/${backups[1].id}/verify`, { token: admin });
    assert.equal(check.json.valid, true, 'the survivor is restorable');
  });

  it('retention and the scrub read the history a page at a time, and see all of it', async () => {
    // 2,500 completed rows whose files are long gone, older than the real backup
    pg.psql(
      `insert into backup_admin.backup_history (id, status, type, filename, size_bytes, sha256, compression, created_by, created_at)
       select gen_random_uuid(), 'completed', 'manual', 'gone-' || g || '.dump', 10, repeat('0', 64), 'none', 'seed', now() - interval '1 day' - g * interval '1 second'
       from generate_series(1, 2500) g`,
      'app',
    );
    const read = await largestRead(async () => {
      const preview = await server.request('POST', '/backups/cleanup?dryRun=true', { token: admin });
      assert.equal(preview.json.delete.length, 2500, 'every row is seen');
    });
    assert.ok(read <= 1000, `retention read ${read} rows at once`);
    pg.psql(`delete from backup_admin.backup_history where id::text in (select id::text from backup_admin.backup_history where created_by = 'seed' offset 250)`, 'app');
    const scrubber = server.app.get(BackupScrubService);
    let result: any;
    const scrubRead = await largestRead(async () => (result = await scrubber.scrub('test')));
    assert.equal(result.checked, 251);
    assert.equal(result.damaged.length, 250);
    assert.ok(scrubRead <= 100, `the scrub read ${scrubRead} rows at once`);
  });
});
