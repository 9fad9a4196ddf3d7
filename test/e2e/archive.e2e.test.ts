import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { admin, startApp, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';


/** Lists a ZIP with Python's zipfile: a standard reader, not ours. */
function zipListing(path: string): Record<string, number> {
  const out = execFileSync('python3', ['-c', 'import json,sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); z.testzip(); print(json.dumps({i.filename: i.file_size for i in z.infolist()}))', path], { encoding: 'utf8' });
  return JSON.parse(out);
}

describe('archiving old backups into daily ZIPs', () => {
  let pg: TestPostgres;
  let server: TestApp;
  const ids: string[] = [];

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql('create table t (id int primary key, body text); insert into t select g, md5(g::text) from generate_series(1, 10000) g', 'app');
    server = await startApp(pg.url('app'));
    for (let i = 0; i < 3; i++) {
      const backup = await server.createBackup({ notes: `b${i}` });
      assert.equal(backup.status, 'completed');
      ids.push(backup.id);
    }
    // the first two were made ten days ago, on the same day
    pg.psql(`update backup_admin.backup_history set created_at = '2026-11-01T10:00:00Z' where id = '${ids[0]}';
      update backup_admin.backup_history set created_at = '2026-11-01T11:00:00Z' where id = '${ids[1]}';`, 'app');
    await server.request('PUT', '/backups/config', {
      token: admin,
      body: { archiveAfterDays: 5, retention: { keepLast: 0, maxAgeDays: 0, daily: 0, weekly: 0, monthly: 0 } },
    });
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('previews, then moves old backups into one ZIP per day; they stay downloadable, verifiable and restorable', async () => {
    const preview = (await server.request('POST', '/backups/cleanup?dryRun=true', { token: admin })).json;
    assert.deepEqual(preview.archive.map((a: any) => a.id).sort(), [ids[0], ids[1]].sort());
    const before = (await server.request('GET', `/backups/${ids[0]}`, { token: admin })).json;

    const r = await server.request('POST', '/backups/cleanup', { token: admin });
    assert.deepEqual(r.json, { deleted: 0, archived: 2 });
    const zip = join(server.backupDir, 'archived', '2026-11-01.zip');
    const listing = zipListing(zip);
    assert.equal(listing[before.filename], before.sizeBytes);
    assert.ok(`${before.filename}.json` in listing);
    assert.equal(Object.keys(listing).length, 4, 'two backups and their manifests');
    assert.ok(!existsSync(join(server.backupDir, before.filename)), 'the original left the backup directory');

    const archived = (await server.request('GET', `/backups/${ids[0]}`, { token: admin })).json;
    assert.equal(archived.archived, true);
    assert.equal(archived.archivePath, 'archived/2026-11-01.zip');
    const verify = (await server.request('POST', `/backups/${ids[0]}/verify`, { token: admin })).json;
    assert.equal(verify.valid, true, JSON.stringify(verify));
    assert.match(verify.checks[0].detail, /2026-11-01\.zip:/);
    const res = await fetch(`${server.base}/backups/${ids[0]}/download`, { headers: { authorization: `Bearer ${admin}` } });
    assert.equal(createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex'), before.sha256);

    pg.psql('delete from t where id > 5', 'app');
    const restore = await server.request('POST', `/backups/${ids[1]}/restore`, { token: admin, body: { confirm: true } });
    assert.equal(restore.status, 202, restore.text);
    assert.equal((await server.waitDone(`/restores/${restore.json.id}`, admin)).status, 'completed');
    assert.equal(pg.psql('select count(*) from t', 'app'), '10000');

    const again = (await server.request('POST', '/backups/cleanup', { token: admin })).json;
    assert.equal(again.archived, 0, 'archived backups are not archived twice');
  });

  it('deletes an archived backup out of its ZIP, and the ZIP once it is empty', async () => {
    const zip = join(server.backupDir, 'archived', '2026-11-01.zip');
    assert.equal((await server.request('DELETE', `/backups/${ids[0]}`, { token: admin })).status, 204);
    assert.equal(Object.keys(zipListing(zip)).length, 2);
    const patch = await server.request('PATCH', `/backups/${ids[1]}`, { token: admin, body: { notes: 'still here' } });
    assert.equal(patch.status, 200);
    const left = (await server.request('GET', `/backups/${ids[1]}`, { token: admin })).json;
    assert.equal((await server.request('POST', `/backups/${ids[1]}/verify`, { token: admin })).json.valid, true);
    assert.equal(Object.keys(zipListing(zip)).length, 2, 'the manifest was replaced, not added');
    assert.equal(left.notes, 'still here');
    assert.equal((await server.request('DELETE', `/backups/${ids[1]}`, { token: admin })).status, 204);
    assert.equal(existsSync(zip), false);
    assert.deepEqual(readdirSync(join(server.backupDir, 'archived')), []);
  });
});
