import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import S3rver from 's3rver';
import { S3StorageOptions } from '../../src/pg-backup.options';
import { admin, startApp, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';


describe('S3-compatible storage (a real S3 server on 127.0.0.1)', () => {
  let pg: TestPostgres;
  let s3server: S3rver;
  let s3: S3StorageOptions;
  let client: S3Client;
  let server: TestApp;

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql('create table t (id int primary key, body text); insert into t select g, md5(g::text) from generate_series(1, 30000) g', 'app');
    s3server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: mkdtempSync(join(tmpdir(), 'pgb-s3-')), configureBuckets: [{ name: 'backups' }] });
    const { port } = await s3server.run();
    s3 = { bucket: 'backups', prefix: 'prod/app/', endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
    client = new S3Client({ ...s3, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    server = await startApp(pg.url('app'), { s3 });
  });

  after(async () => {
    await server?.close();
    client?.destroy();
    await s3server?.close().catch(() => undefined);
    pg?.stop();
  });

  async function objectSha(key: string): Promise<string> {
    const object = await client.send(new GetObjectCommand({ Bucket: 'backups', Key: key }));
    return createHash('sha256').update(await object.Body!.transformToByteArray()).digest('hex');
  }

  it('uploads a verified copy; with the local file gone, download, verify, restore and import use S3', async () => {
    const backup = await server.createBackup();
    assert.equal(backup.status, 'completed', JSON.stringify(backup));
    const copy = backup.copies.find((c: any) => c.storage === 's3');
    assert.equal(copy.state, 'ok', JSON.stringify(copy));
    assert.equal(copy.location, `s3://backups/prod/app/${backup.filename}`);
    assert.equal(await objectSha(`prod/app/${backup.filename}`), backup.sha256, 'the object holds the bytes, not SDK framing');
    await client.send(new HeadObjectCommand({ Bucket: 'backups', Key: `prod/app/${backup.filename}.json` }));

    rmSync(join(server.backupDir, backup.filename));
    const verify = (await server.request('POST', `/backups/${backup.id}/verify`, { token: admin })).json;
    assert.equal(verify.valid, true, JSON.stringify(verify));
    assert.match(verify.checks[0].detail, /s3:\/\/backups\/prod\/app\//);
    const res = await fetch(`${server.base}/backups/${backup.id}/download`, { headers: { authorization: `Bearer ${admin}` } });
    assert.equal(res.status, 200);
    assert.equal(createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex'), backup.sha256);

    pg.psql('delete from t where id > 10', 'app');
    const restore = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true } });
    assert.equal(restore.status, 202, restore.text);
    assert.equal((await server.waitDone(`/restores/${restore.json.id}`, admin)).status, 'completed');
    assert.equal(pg.psql('select count(*) from t', 'app'), '30000');

    pg.psql('delete from backup_admin.backup_history', 'app');
    for (const f of readdirSync(server.backupDir)) rmSync(join(server.backupDir, f));
    const imported = (await server.request('POST', '/backups/import', { token: admin })).json;
    assert.ok(imported.imported.includes(backup.filename), JSON.stringify(imported));

    assert.equal((await server.request('DELETE', `/backups/${backup.id}`, { token: admin })).status, 204);
    await assert.rejects(client.send(new HeadObjectCommand({ Bucket: 'backups', Key: `prod/app/${backup.filename}` })));
  });

  it('with the S3 server down, the backup completes and its S3 copy is recorded failed', async () => {
    await s3server.close();
    const backup = await server.createBackup();
    assert.equal(backup.status, 'completed');
    const copy = backup.copies.find((c: any) => c.storage === 's3');
    assert.equal(copy.state, 'failed');
    assert.ok(copy.error);
    const verify = (await server.request('POST', `/backups/${backup.id}/verify`, { token: admin })).json;
    assert.equal(verify.valid, true, 'the local copy is intact');
    // nothing else depends on S3 being up
    assert.equal((await server.request('PATCH', `/backups/${backup.id}`, { token: admin, body: { notes: 'S3 was down' } })).status, 200);
    const imported = (await server.request('POST', '/backups/import', { token: admin })).json;
    assert.ok(imported.skipped.some((s: any) => s.file === 's3 storage' && /cannot list/.test(s.reason)), JSON.stringify(imported));
    assert.equal((await server.request('DELETE', `/backups/${backup.id}`, { token: admin })).status, 204);
    const next = await server.request('POST', '/backups', { token: admin, body: {} });
    assert.equal(next.status, 202, 'crash recovery and the lock do not need S3');
    assert.equal((await server.waitDone(`/backups/${next.json.id}`, admin)).status, 'completed');
  });
});
