import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import S3rver from 's3rver';
import { S3StorageOptions } from '../../src/pg-backup.options';
import { ZipRepository } from '../../src/infra/storage/zip.repository';
import { admin, startApp, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';

describe('a delete succeeds only when the bytes are gone', () => {
  let pg: TestPostgres;
  let s3server: S3rver;
  let s3: S3StorageOptions;
  let client: S3Client;
  let server: TestApp;
  const s3dir = mkdtempSync(join(tmpdir(), 'pgb-s3-'));
  let port = 0;

  async function startS3(): Promise<void> {
    s3server = new S3rver({ address: '127.0.0.1', port, silent: true, directory: s3dir, configureBuckets: [{ name: 'backups' }] });
    port = (await s3server.run()).port;
  }

  async function objectExists(key: string): Promise<boolean> {
    try {
      await client.send(new HeadObjectCommand({ Bucket: 'backups', Key: key }));
      return true;
    } catch {
      return false;
    }
  }

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql('create table t (id int primary key, body text); insert into t select g, md5(g::text) from generate_series(1, 2000) g', 'app');
    await startS3();
    s3 = { bucket: 'backups', prefix: 'p/', endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
    client = new S3Client({ ...s3, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    server = await startApp(pg.url('app'), { s3 });
  });

  after(async () => {
    await server?.close();
    client?.destroy();
    await s3server?.close().catch(() => undefined);
    pg?.stop();
  });

  it('with S3 down: 503 naming the copy left, the backup stays listed; deleted once S3 answers, and import brings nothing back', async () => {
    const backup = await server.createBackup();
    assert.equal(backup.copies.find((c: any) => c.storage === 's3')?.state, 'ok', JSON.stringify(backup.copies));
    await s3server.close();
    const refused = await server.request('DELETE', `/backups/${backup.id}`, { token: admin });
    assert.equal(refused.status, 503, refused.text);
    assert.match(refused.json.message, new RegExp(`s3://backups/p/${backup.filename.replace(/\./g, '\\.')}`));
    assert.equal((await server.request('GET', `/backups/${backup.id}`, { token: admin })).status, 200, 'the row stays');

    await startS3();
    assert.ok(await objectExists(`p/${backup.filename}`), 'the S3 copy survived the outage');
    const r = await server.request('DELETE', `/backups/${backup.id}`, { token: admin });
    assert.equal(r.status, 204, r.text);
    assert.equal(await objectExists(`p/${backup.filename}`), false);
    assert.equal(await objectExists(`p/${backup.filename}.json`), false);
    const imported = (await server.request('POST', '/backups/import', { token: admin })).json;
    assert.deepEqual(imported.imported, []);
    assert.equal((await server.request('GET', `/backups/${backup.id}`, { token: admin })).status, 404);
  });

  it('a leftover archived/<day>.zip.partial is swept and no longer blocks removing an archived backup', async () => {
    const backup = await server.createBackup();
    pg.psql(`update backup_admin.backup_history set created_at = '2026-11-01T10:00:00Z' where id = '${backup.id}'`, 'app');
    const put = await server.request('PUT', '/backups/config', {
      token: admin,
      body: { archiveAfterDays: 5, retention: { keepLast: 0, maxAgeDays: 0, daily: 0, weekly: 0, monthly: 0 } },
    });
    assert.equal(put.status, 200, put.text);
    assert.equal((await server.request('POST', '/backups/cleanup', { token: admin })).json.archived, 1);
    const zip = join(server.backupDir, 'archived', '2026-11-01.zip');
    assert.ok((await server.app.get(ZipRepository).entries(zip)).has(backup.filename));
    writeFileSync(`${zip}.partial`, 'left by a crash mid-rewrite');

    const r = await server.request('DELETE', `/backups/${backup.id}`, { token: admin });
    assert.equal(r.status, 204, r.text);
    assert.equal(existsSync(`${zip}.partial`), false, 'swept');
    assert.equal((await server.app.get(ZipRepository).entries(zip)).has(backup.filename), false, 'the bytes are gone from the ZIP');
    assert.deepEqual(readdirSync(join(server.backupDir, 'archived')), []);
  });
});
