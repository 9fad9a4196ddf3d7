import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { admin, startApp, TEST_SECRET, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';
import { hs256 } from '../support/tokens';


async function upload(app: TestApp, name: string, bytes: Buffer, token = admin) {
  const form = new FormData();
  form.append('file', new Blob([bytes]), name);
  const res = await fetch(`${app.base}/backups/upload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: res.status, json: (await res.json()) as any };
}

describe('POST /backups/upload', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let dump: Buffer;

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql('create table t (id int primary key, body text); insert into t select g, md5(g::text) from generate_series(1, 3000) g', 'app');
    // a backup made elsewhere, by the standard tools: pg_dump -Fc -Z0 | zstd
    dump = execFileSync('bash', ['-o', 'pipefail', '-c', `pg_dump -Fc -Z0 -h 127.0.0.1 -p ${pg.port} -U postgres app | zstd -q -c`], { maxBuffer: 1 << 26 });
    server = await startApp(pg.url('app'), { maxUploadBytes: 5 * 1024 * 1024 });
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('streams a .dump.zst to disk, lists it as type upload, and restores from it', async () => {
    const r = await upload(server, 'from-prod.dump.zst', dump);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal(r.json.type, 'upload');
    assert.equal(r.json.status, 'completed');
    assert.equal(r.json.compression, 'zstd');
    assert.equal(r.json.sha256, createHash('sha256').update(dump).digest('hex'));
    assert.equal(r.json.sizeBytes, dump.length);
    assert.match(r.json.notes, /from-prod\.dump\.zst/);
    pg.psql('truncate t', 'app');
    const restore = await server.request('POST', `/backups/${r.json.id}/restore`, { token: admin, body: { confirm: true } });
    assert.equal(restore.status, 202, restore.text);
    assert.equal((await server.waitDone(`/restores/${restore.json.id}`, admin)).status, 'completed');
    assert.equal(pg.psql('select count(*) from t', 'app'), '3000');
    const audit = (await server.request('GET', '/audit?action=backup.upload', { token: admin })).json;
    assert.equal(audit.items[0].outcome, 'success');
  });

  it('refuses what is not a readable backup, too large, misnamed or not multipart, leaving no file behind', async () => {
    const before = readdirSync(server.backupDir).sort();
    const total = (await server.request('GET', '/backups', { token: admin })).json.total;
    const junk = await upload(server, 'junk.dump', Buffer.from('this is not a dump at all'));
    assert.equal(junk.status, 422);
    assert.match(junk.json.message, /not a readable backup/);
    const wrongLayer = await upload(server, 'plain.dump.gz', dump);
    assert.equal(wrongLayer.status, 422, 'a zstd file named .gz does not decode');
    assert.equal((await upload(server, 'notes.txt', dump)).status, 400);
    assert.equal((await upload(server, 'big.dump.zst', Buffer.alloc(6 * 1024 * 1024, 1))).status, 413);
    assert.equal((await upload(server, 'x.dump', dump, hs256({ sub: 'm', roles: ['user'] }, TEST_SECRET))).status, 403);
    const raw = await fetch(`${server.base}/backups/upload`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/octet-stream' }, body: dump });
    assert.equal(raw.status, 400);
    assert.deepEqual(readdirSync(server.backupDir).sort(), before);
    assert.equal((await server.request('GET', '/backups', { token: admin })).json.total, total);
  });
});
