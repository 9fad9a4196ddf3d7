import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { partSizeFor, S3Repository } from '../../src/infra/storage/s3.repository';
import { PgBackupOptions } from '../../src/pg-backup.options';

describe('S3Repository', () => {
  it('sizes parts so that any object fits in S3s 10,000 parts, and never below 8 MiB', () => {
    assert.equal(partSizeFor(1024), 8 * 1024 * 1024);
    for (const size of [48 * 1024 ** 3, 200 * 1024 ** 3, 5 * 1024 ** 4]) {
      assert.ok(Math.ceil(size / partSizeFor(size)) <= 10_000, `${size} bytes`);
    }
  });

  it('is disabled without a bucket, and says so instead of calling out', async () => {
    const s3 = new S3Repository({} as PgBackupOptions);
    assert.equal(s3.enabled, false);
    await assert.rejects(s3.size('x.dump'), /S3 storage is not configured/);
  });

  it('aborts the multipart upload (removing its parts) when the operation is aborted', async () => {
    const s3 = new S3Repository({ s3: { bucket: 'b', endpoint: 'http://127.0.0.1:1' } } as PgBackupOptions);
    let aborted = 0;
    let release: () => void = () => undefined;
    class FakeUpload {
      constructor(readonly params: { partSize: number; leavePartsOnError: boolean }) {
        assert.equal(params.leavePartsOnError, false);
      }
      done = () => new Promise<void>((resolve) => (release = resolve));
      abort = async () => {
        aborted++;
        release();
      };
    }
    (s3 as unknown as { sdk: { storage: { Upload: unknown } } }).sdk.storage.Upload = FakeUpload;
    const controller = new AbortController();
    const uploading = s3.upload('x.dump', Readable.from(['data']), 4, controller.signal);
    controller.abort(new Error('shutting down'));
    await uploading;
    assert.equal(aborted, 1);
    s3.onModuleDestroy();
  });

  it('names objects under the prefix', () => {
    const s3 = new S3Repository({ s3: { bucket: 'b', prefix: 'prod/db/', endpoint: 'http://127.0.0.1:1' } } as PgBackupOptions);
    assert.equal(s3.location('a.dump.zst'), 's3://b/prod/db/a.dump.zst');
    s3.onModuleDestroy();
  });
});
