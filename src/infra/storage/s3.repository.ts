import type { S3Client } from '@aws-sdk/client-s3';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { PassThrough, Readable } from 'node:stream';
import { PG_BACKUP_OPTIONS, PgBackupOptions, S3StorageOptions } from '../../pg-backup.options';

type ClientS3 = typeof import('@aws-sdk/client-s3');
type LibStorage = typeof import('@aws-sdk/lib-storage');

/** S3 allows 10,000 parts; 9,000 leaves room, and parts are at least 8 MiB. */
const MAX_PARTS = 9000;
const MIN_PART_BYTES = 8 * 1024 * 1024;

export function partSizeFor(totalBytes: number): number {
  return Math.max(MIN_PART_BYTES, Math.ceil(totalBytes / MAX_PARTS));
}

/** Objects in one S3-compatible bucket under a prefix; every S3 call goes through here. */
@Injectable()
export class S3Repository implements OnModuleDestroy {
  private readonly client: S3Client | null;
  private readonly config: S3StorageOptions | undefined;
  /** The AWS SDK is loaded only when S3 is configured (it adds ~20 MB to every process). */
  private readonly sdk: { s3: ClientS3; storage: LibStorage } | null;

  constructor(@Inject(PG_BACKUP_OPTIONS) options: PgBackupOptions) {
    this.config = options.s3;
    this.sdk = this.config
      ? { s3: require('@aws-sdk/client-s3') as ClientS3, storage: require('@aws-sdk/lib-storage') as LibStorage }
      : null;
    this.client = this.sdk
      ? new this.sdk.s3.S3Client({
          region: this.config!.region ?? 'us-east-1',
          endpoint: this.config!.endpoint,
          forcePathStyle: this.config!.forcePathStyle ?? Boolean(this.config!.endpoint),
          credentials:
            this.config!.accessKeyId && this.config!.secretAccessKey
              ? { accessKeyId: this.config!.accessKeyId, secretAccessKey: this.config!.secretAccessKey }
              : undefined,
          // streamed uploads must store the bytes themselves, not the SDK's checksum framing
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        })
      : null;
  }

  get enabled(): boolean {
    return this.client !== null;
  }

  location(name: string): string {
    return `s3://${this.config!.bucket}/${this.key(name)}`;
  }

  /** Multipart upload from a stream, never buffered whole; aborted (parts removed) on failure. */
  async upload(name: string, body: Readable, totalBytes: number, signal: AbortSignal): Promise<void> {
    const upload = new this.sdk!.storage.Upload({
      client: this.s3(),
      params: { Bucket: this.config!.bucket, Key: this.key(name), Body: body },
      partSize: partSizeFor(totalBytes),
      queueSize: 2,
      leavePartsOnError: false,
    });
    const abort = () => void upload.abort().catch(() => undefined);
    signal.addEventListener('abort', abort, { once: true });
    try {
      await upload.done();
    } finally {
      signal.removeEventListener('abort', abort);
    }
  }

  async writeText(name: string, content: string): Promise<void> {
    await this.s3().send(new this.sdk!.s3.PutObjectCommand({ Bucket: this.config!.bucket, Key: this.key(name), Body: content }));
  }

  async readText(name: string): Promise<string> {
    const response = await this.s3().send(new this.sdk!.s3.GetObjectCommand({ Bucket: this.config!.bucket, Key: this.key(name) }));
    return response.Body!.transformToString('utf8');
  }

  /** The object's size, or null when there is none. */
  async size(name: string): Promise<number | null> {
    try {
      const head = await this.s3().send(new this.sdk!.s3.HeadObjectCommand({ Bucket: this.config!.bucket, Key: this.key(name) }));
      return head.ContentLength ?? null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** A stream of the object's bytes (the request starts at once; errors arrive on the stream). */
  openRead(name: string): Readable {
    const out = new PassThrough();
    this.s3()
      .send(new this.sdk!.s3.GetObjectCommand({ Bucket: this.config!.bucket, Key: this.key(name) }))
      .then((response) => {
        const body = response.Body as Readable;
        body.on('error', (error) => out.destroy(error));
        body.pipe(out);
      })
      .catch((error: Error) => out.destroy(error));
    return out;
  }

  async remove(name: string): Promise<void> {
    await this.s3().send(new this.sdk!.s3.DeleteObjectCommand({ Bucket: this.config!.bucket, Key: this.key(name) }));
  }

  /** Names (without the prefix) of the objects under the prefix. */
  async list(): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3().send(
        new this.sdk!.s3.ListObjectsV2Command({ Bucket: this.config!.bucket, Prefix: this.config!.prefix ?? '', ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key) names.push(object.Key.slice((this.config!.prefix ?? '').length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return names;
  }

  onModuleDestroy(): void {
    this.client?.destroy();
  }

  private key(name: string): string {
    return `${this.config!.prefix ?? ''}${name}`;
  }

  private s3(): S3Client {
    if (!this.client) throw new Error('S3 storage is not configured');
    return this.client;
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}
