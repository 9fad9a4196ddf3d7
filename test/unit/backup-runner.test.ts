import { backupRow, PG16_TOOLS } from './support/fixtures';
import { describe, it, beforeEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { BackupHistory } from '../../src/backup/backup-history.entity';
import { BackupIntegrityService } from '../../src/backup/backup-integrity.service';
import { S3Repository } from '../../src/infra/storage/s3.repository';
import { BackupEvents } from '../../src/events/backup-events';
import { BackupRunner, DumpContext } from '../../src/backup/backup-runner.service';
import { BackupStatus } from '../../src/backup/backup.types';
import { InsufficientStorageException, PgToolsException } from '../../src/common/exceptions';
import { DatabaseInfoRepository } from '../../src/database/database-info.repository';
import { PgToolsRepository } from '../../src/infra/process/pg-tools.repository';
import { ProcessFailedError, ProcessRepository, SpawnOptions } from '../../src/infra/process/process.repository';
import { PartialFile, StorageRepository } from '../../src/infra/storage/storage.repository';
import { OperationHandle } from '../../src/lock/lock.service';
import { PgBackupOptions } from '../../src/pg-backup.options';
import { EncryptionNotConfiguredException, PipelineStage } from '../../src/pipeline/backup-pipeline.service';
import { PRODUCT_VERSION } from '../../src/product-version';
import { fakePipeline, fakeStage } from './support/fake-pipeline';
import { CollectingWritable, FakeChild, fakeChild, within } from './support/fake-process';
import { FakeRepository } from './support/fake-repository';

Logger.overrideLogger(false);

const BACKUP_DIR = '/var/backups/pg';
const FILENAME = 'shop-manual-20250601T120000Z-0a1b2c3d.dump';
const FINAL_PATH = `${BACKUP_DIR}/${FILENAME}`;
const PARTIAL_PATH = `${FINAL_PATH}.partial`;
const CLUSTER = {
  roles: [{ name: 'shop_owner', login: false, inherit: true, createdb: false, createrole: false, replication: false, bypassrls: false, connectionLimit: -1, validUntil: null, inPolicy: false }],
  memberships: [],
  tablespaces: [],
  settings: ['work_mem=64MB'],
};

const options: PgBackupOptions = {
  databaseUrl: 'postgres://u:s3cret@h:5432/db',
  schema: 'backup_admin',
  backupDir: BACKUP_DIR,
  auth: { secret: 'x'.repeat(32), adminRoles: ['admin'] },
  minFreeBytes: 100 * 1024 * 1024,
  restoreGraceMs: 10_000,
};

const context: DumpContext = {
  server: { database: 'shop', version: '16.4', major: 16 },
  tools: PG16_TOOLS,
  // the fake pipeline has no stages: pg_dump's bytes reach the file as they are
  format: { compression: 'none', encrypted: false },
};

function runningRow(): BackupHistory {
  return backupRow({ filename: FILENAME, createdAt: new Date(Date.now() - 5_000) });
}

function fakePartial(path: string, log: string[], failWrites?: Error) {
  const stream = new CollectingWritable(failWrites);
  return {
    path,
    stream,
    fd: 99,
    commit: mock.fn(async () => {
      log.push('commit');
    }),
    discard: mock.fn(async () => {
      log.push('discard');
      stream.destroy();
    }),
  };
}

type Harness = ReturnType<typeof harness>;

function harness(setup: { failWrites?: Error; child?: FakeChild; stages?: PipelineStage[]; s3?: Partial<S3Repository> } = {}) {
  const log: string[] = [];
  // the row POST /backups inserted before the runner starts
  const backups = new FakeRepository<BackupHistory>('id').seed(runningRow());
  const partial = fakePartial(PARTIAL_PATH, log, setup.failWrites);
  const child = setup.child ?? fakeChild({ name: 'pg_dump' });
  const snapshotClose = mock.fn(async () => undefined);
  const database = {
    server: mock.fn(async () => context.server),
    terminateSessions: mock.fn(async (_applicationName: string) => undefined),
    openSnapshot: mock.fn(async () => ({
      id: '00000003-0000001B-1',
      rowCounts: async (_exactMaxBytes: number) => ({ tables: { 'public.orders': 1200, 'public.customers': 80 }, estimated: ['public.orders'], largeObjects: 0 }),
      clusterObjects: async () => CLUSTER,
      close: snapshotClose,
    })),
    userDataBytes: mock.fn(async () => 10 * 1024 * 1024),
    installationSchemas: mock.fn(async () => ['backup_admin']),
  };
  const pgTools = { forServer: mock.fn(async (_major: number) => context.tools) };
  const spawn = mock.fn((_command: string, _args: string[], _options: SpawnOptions) => {
    log.push('spawn');
    return child;
  });
  const storage = {
    ensurePrivateDir: mock.fn(async (_dir: string) => undefined),
    freeBytes: mock.fn(async (_dir: string) => 10 * 1024 * 1024 * 1024),
    createPartial: mock.fn(async (_path: string): Promise<PartialFile> => partial),
    renameDurably: mock.fn(async (_from: string, _to: string) => {
      log.push('rename');
    }),
    writeFileAtomically: mock.fn(async (_path: string, _content: string) => {
      log.push('manifest');
    }),
    remove: mock.fn(async (_path: string) => undefined),
    // the partial file is the collected stream
    size: mock.fn(async (_path: string) => partial.stream.bytes.length),
    sha256: mock.fn(async (_path: string) => ({ sha256: createHash('sha256').update(partial.stream.bytes).digest('hex'), size: partial.stream.bytes.length })),
  };
  const pipeline = fakePipeline();
  if (setup.stages) pipeline.encoders.mock.mockImplementation(() => setup.stages!);
  const events = new BackupEvents();
  const runner = new BackupRunner(
    backups.asRepository(),
    options,
    database as unknown as DatabaseInfoRepository,
    pgTools as unknown as PgToolsRepository,
    { spawn } as unknown as ProcessRepository,
    storage as unknown as StorageRepository,
    pipeline.asPipeline(),
    {} as BackupIntegrityService, // verify-after-create is off by default
    (setup.s3 ?? { enabled: false }) as S3Repository,
    events,
  );
  return { runner, backups, database, pgTools, spawn, storage, pipeline, partial, child, log, events, snapshotClose };
}

function operation(signal: AbortSignal = new AbortController().signal) {
  const reportBytes = mock.fn((_bytes: number) => undefined);
  const handle: OperationHandle = { type: 'backup', operationId: 'op-1', startedBy: 'alice', signal, reportBytes, markIrrevocable: async () => undefined };
  return { handle, reportBytes };
}

/** The fake pg_dump writes `chunks` to stdout, closes it and exits with `code`. */
function dump(child: FakeChild, chunks: Buffer[], code = 0, stderr = ''): void {
  const stdout = child.stdout as PassThrough;
  for (const chunk of chunks) stdout.write(chunk);
  stdout.end();
  child.exit(code, stderr);
}

function assertFailed(h: Harness, row: BackupHistory): void {
  assert.equal(row.status, BackupStatus.Failed);
  assert.equal(row.sha256, null);
  assert.equal(row.sizeBytes, 0);
  assert.ok(row.finishedAt instanceof Date, 'finishedAt set');
  assert.equal(h.backups.update.mock.callCount(), 1, 'the failure is recorded once');
  assert.equal(h.backups.rows[0].status, BackupStatus.Failed, 'the saved row says failed');
  assert.equal(h.backups.rows[0].error, row.error);
}

describe('BackupRunner.run', { timeout: 10_000 }, () => {
  let h: Harness;

  beforeEach(() => {
    h = harness();
  });

  it('records an S3 copy failed (and removes the object) when S3 refuses the upload; the backup stays completed', async () => {
    const s3 = {
      enabled: true,
      location: (name: string) => `s3://b/${name}`,
      upload: mock.fn(async () => {
        throw Object.assign(new Error('The request signature we calculated does not match the signature you provided'), { name: 'SignatureDoesNotMatch' });
      }),
      remove: mock.fn(async (_name: string) => undefined),
      writeText: mock.fn(async () => undefined),
    };
    const s3h = harness({ s3: s3 as unknown as Partial<S3Repository> });
    s3h.storage.writeFileAtomically.mock.mockImplementation(async () => undefined);
    (s3h.storage as unknown as { openRead: unknown }).openRead = mock.fn(() => new PassThrough().end('x'));
    dump(s3h.child, [Buffer.from('PGDMP')]);

    const row = await s3h.runner.run(runningRow(), context, operation().handle);

    assert.equal(row.status, BackupStatus.Completed);
    assert.equal(row.copies.length, 1);
    assert.equal(row.copies[0].storage, 's3');
    assert.equal(row.copies[0].state, 'failed');
    assert.match(row.copies[0].error!, /signature/);
    assert.deepEqual(s3.remove.mock.calls.map((c) => c.arguments[0]), [row.filename], 'no partial object is left');
    assert.equal(s3.writeText.mock.callCount(), 0, 'no manifest beside a failed copy');
  });

  it('records a completed backup whose sha256 and size are those of the bytes pg_dump wrote', async () => {
    const chunks = [Buffer.from('PGDMP\x01\x0e\x00'), Buffer.alloc(70_000, 7), Buffer.from('trailer')];
    dump(h.child, chunks);
    const { handle, reportBytes } = operation();

    const row = await h.runner.run(runningRow(), context, handle);

    const all = Buffer.concat(chunks);
    assert.equal(row.status, BackupStatus.Completed);
    assert.equal(row.error, null);
    assert.equal(row.sha256, createHash('sha256').update(all).digest('hex'));
    assert.equal(row.sizeBytes, all.length);
    assert.ok(row.durationMs !== null && row.durationMs >= 5_000, 'duration measured from createdAt');
    assert.deepEqual(row.metadata, {
      database: 'shop',
      serverVersion: '16.4',
      pgDumpVersion: 'pg_dump (PostgreSQL) 16.4',
      productVersion: PRODUCT_VERSION,
      tables: { 'public.orders': 1200, 'public.customers': 80 },
      estimatedTables: ['public.orders'],
      largeObjects: 0,
      cluster: CLUSTER,
      encryption: undefined,
    });
    assert.equal(h.snapshotClose.mock.callCount(), 1, "the dump's snapshot transaction is closed");
    assert.deepEqual(h.pipeline.encoders.mock.calls[0].arguments[0], context.format, 'the stages are those of the context format');
    assert.deepEqual(h.pipeline.describeEncryption.mock.calls[0].arguments, [context.format]);
    assert.deepEqual(h.partial.stream.bytes, all, 'the partial file received exactly the dump');
    assert.equal(reportBytes.mock.calls.at(-1)?.arguments[0], all.length, 'progress reaches the total');

    assert.deepEqual(h.storage.renameDurably.mock.calls[0].arguments, [PARTIAL_PATH, FINAL_PATH]);
    const [manifestPath, manifest] = h.storage.writeFileAtomically.mock.calls[0].arguments;
    assert.equal(manifestPath, `${FINAL_PATH}.json`);
    const parsed = JSON.parse(manifest) as BackupHistory;
    assert.equal(parsed.sha256, row.sha256);
    assert.equal(parsed.status, BackupStatus.Completed);
    assert.deepEqual(h.log, ['spawn', 'commit', 'rename', 'manifest'], 'fsync before rename, manifest after');
    assert.equal(h.partial.discard.mock.callCount(), 0);
    assert.equal(h.backups.rows[0].status, BackupStatus.Completed);
  });

  it('keeps the notes, tags and pin a PATCH set while it ran, in the row and in the manifest', async () => {
    dump(h.child, [Buffer.from('PGDMP whole dump')]);
    // the admin edits the running backup while pg_dump writes
    Object.assign(h.backups.rows[0], { notes: 'before the migration', tags: ['keep'], pinned: true });

    const row = await h.runner.run(runningRow(), context, operation().handle);

    assert.equal(row.status, BackupStatus.Completed, row.error ?? '');
    assert.equal(h.backups.save.mock.callCount(), 0, 'no stale entity written back');
    assert.deepEqual([h.backups.rows[0].notes, h.backups.rows[0].tags, h.backups.rows[0].pinned], ['before the migration', ['keep'], true]);
    assert.equal(h.backups.rows[0].status, BackupStatus.Completed);
    const manifest = JSON.parse(h.storage.writeFileAtomically.mock.calls[0].arguments[1]) as BackupHistory;
    assert.deepEqual([manifest.notes, manifest.tags, manifest.pinned], ['before the migration', ['keep'], true]);
  });

  it('marks the backup failed with the stderr tail when pg_dump exits non-zero, and discards the partial file', async () => {
    dump(h.child, [Buffer.from('PGDMP partial')], 1, 'pg_dump: error: query failed: ERROR:  permission denied for table secrets\n');

    const row = await h.runner.run(runningRow(), context, operation().handle);

    assertFailed(h, row);
    assert.match(row.error!, /pg_dump exited with code 1/);
    assert.match(row.error!, /permission denied for table secrets/);
    assert.equal(h.partial.discard.mock.callCount(), 1);
    assert.equal(h.partial.commit.mock.callCount(), 0);
    assert.equal(h.storage.renameDurably.mock.callCount(), 0);
    assert.equal(h.storage.writeFileAtomically.mock.callCount(), 0);
    const removed = h.storage.remove.mock.calls.map((c) => c.arguments[0]);
    assert.ok(removed.includes(FINAL_PATH) && removed.includes(`${FINAL_PATH}.json`), 'no final file or manifest left');
  });

  it('fails, kills pg_dump and discards the partial file when writing it fails with ENOSPC', async () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    h = harness({ failWrites: enospc });
    (h.child.stdout as PassThrough).write(Buffer.alloc(1024, 1)); // pg_dump keeps running

    const row = await h.runner.run(runningRow(), context, operation().handle);

    assertFailed(h, row);
    assert.match(row.error!, /ENOSPC/);
    assert.equal(h.child.kill.mock.callCount() >= 1, true, 'pg_dump killed');
    assert.equal(h.partial.discard.mock.callCount(), 1);
    assert.equal(h.storage.renameDurably.mock.callCount(), 0);
  });

  it('fails, kills pg_dump and discards when an error is emitted on the partial file stream', async () => {
    (h.child.stdout as PassThrough).write(Buffer.from('some dump bytes'));
    const { handle, reportBytes } = operation();
    reportBytes.mock.mockImplementation(() => {
      setImmediate(() => h.partial.stream.emit('error', Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' })));
    });

    const row = await h.runner.run(runningRow(), context, handle);

    assertFailed(h, row);
    assert.match(row.error!, /EIO/);
    assert.ok(h.child.kill.mock.callCount() >= 1, 'pg_dump killed');
    assert.equal(h.partial.discard.mock.callCount(), 1);
    assert.equal(h.storage.renameDurably.mock.callCount(), 0);
  });

  it('fails and discards the partial file when the durable rename fails', async () => {
    dump(h.child, [Buffer.from('PGDMP complete dump')]);
    h.storage.renameDurably.mock.mockImplementation(async () => {
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    });

    const row = await h.runner.run(runningRow(), context, operation().handle);

    assertFailed(h, row);
    assert.match(row.error!, /EIO: i\/o error, fsync/);
    assert.equal(h.partial.discard.mock.callCount(), 1);
    assert.equal(h.storage.writeFileAtomically.mock.callCount(), 0, 'no manifest for a failed backup');
  });

  it('fails without spawning pg_dump when the partial file cannot be created', async () => {
    h.storage.createPartial.mock.mockImplementation(async (path: string) => {
      throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' });
    });

    const row = await h.runner.run(runningRow(), context, operation().handle);

    assertFailed(h, row);
    assert.match(row.error!, /EACCES/);
    assert.equal(h.spawn.mock.callCount(), 0, 'no pg_dump started');
    assert.equal(h.partial.discard.mock.callCount(), 0, 'nothing was created to discard');
    assert.equal(h.storage.renameDurably.mock.callCount(), 0);
  });

  it('fails with "aborted: <reason>" and kills pg_dump when the operation is aborted mid-dump', async () => {
    const abort = new AbortController();
    const { handle, reportBytes } = operation(abort.signal);
    reportBytes.mock.mockImplementation(() => {
      if (!abort.signal.aborted) setImmediate(() => abort.abort(new Error('the process is shutting down')));
    });
    (h.child.stdout as PassThrough).write(Buffer.alloc(4096, 3)); // then pg_dump stalls, still running

    const row = await h.runner.run(runningRow(), context, handle);

    assertFailed(h, row);
    assert.ok(row.error!.startsWith('aborted:'), row.error!);
    assert.match(row.error!, /the process is shutting down/);
    assert.ok(h.child.kill.mock.callCount() >= 1, 'pg_dump killed');
    assert.equal(h.child.exited, true);
    assert.equal(h.partial.discard.mock.callCount(), 1);
    assert.equal(h.storage.renameDurably.mock.callCount(), 0);
  });

  it('returns the failed row even when recording the failure fails', async () => {
    dump(h.child, [], 1, 'pg_dump: error: connection refused');
    h.backups.update.mock.mockImplementation(async () => {
      throw new Error('connection terminated');
    });

    const row = await h.runner.run(runningRow(), context, operation().handle);

    assert.equal(row.status, BackupStatus.Failed);
    assert.match(row.error!, /connection refused/);
  });

  it('passes the password to pg_dump in its environment only, never in argv', async () => {
    dump(h.child, [Buffer.from('x')]);

    await h.runner.run(runningRow(), context, operation().handle);

    assert.equal(h.spawn.mock.callCount(), 1);
    const [command, args, spawnOptions] = h.spawn.mock.calls[0].arguments;
    assert.equal(command, context.tools.pgDump);
    assert.ok(args.length > 0);
    for (const arg of [command, ...args]) assert.ok(!arg.includes('s3cret'), `argument leaks the password: ${arg}`);
    assert.ok(args.includes('--exclude-schema=backup_admin'), 'the module schema is not dumped');
    assert.ok(args.includes('--snapshot=00000003-0000001B-1'), 'pg_dump shares the snapshot the row counts were taken in');
    assert.ok(args.some((a) => a.startsWith('--dbname=postgres://u@h:5432/db')), args.join(' '));
    assert.equal(spawnOptions.env.PGPASSWORD, 's3cret');
  });

  it('always has pg_dump write an uncompressed custom-format dump: compression happens in the stream', async () => {
    for (const compression of ['zstd', 'gzip', 'none'] as const) {
      const child = fakeChild({ name: 'pg_dump' });
      h = harness({ child });
      dump(child, [Buffer.from('x')]);

      await h.runner.run({ ...runningRow(), compression }, { ...context, format: { compression, encrypted: false } }, operation().handle);

      const args = h.spawn.mock.calls[0].arguments[1];
      assert.ok(args.includes('--format=custom'), args.join(' '));
      assert.ok(args.includes('--compress=0'), `${compression}: ${args.join(' ')}`);
      assert.equal(args.filter((a) => a.startsWith('--compress') || a.startsWith('-Z')).length, 1, args.join(' '));
    }
  });
});

describe('BackupRunner.run through encoder stages', { timeout: 10_000 }, () => {
  /** A length-changing stand-in for compression: each byte becomes two hex digits. */
  const hex = (chunk: Buffer) => Buffer.from(chunk.toString('hex'));

  it('pipes pg_dump through the stage and records the sha256 and size of what the stage wrote', async () => {
    const stage = fakeStage('compress', { transform: hex });
    const h = harness({ stages: [stage] });
    const chunks = [Buffer.from('PGDMP\x01\x0e\x00'), Buffer.alloc(70_000, 7), Buffer.from('trailer')];
    dump(h.child, chunks);
    const { handle, reportBytes } = operation();
    const format = { compression: 'gzip', encrypted: false } as const;

    const row = await h.runner.run(runningRow(), { ...context, format }, handle);

    const input = Buffer.concat(chunks);
    const output = hex(input);
    assert.equal(row.status, BackupStatus.Completed, row.error ?? '');
    assert.deepEqual(Buffer.concat(stage.received), input, 'the stage got every byte pg_dump wrote, in order');
    assert.deepEqual(h.partial.stream.bytes, output, 'the file holds what the stage wrote');
    assert.equal(row.sha256, createHash('sha256').update(output).digest('hex'), 'the hash is of the file, not of the dump');
    assert.notEqual(row.sha256, createHash('sha256').update(input).digest('hex'));
    assert.equal(row.sizeBytes, output.length);
    assert.equal(reportBytes.mock.calls.at(-1)?.arguments[0], output.length, 'progress counts bytes written to the file');
    assert.deepEqual(h.pipeline.encoders.mock.calls[0].arguments[0], format);
    assert.equal(stage.kill.mock.callCount(), 0, 'a stage that succeeded is not killed');
    assert.deepEqual(h.log, ['spawn', 'commit', 'rename', 'manifest']);
  });

  it('waits for the stage to complete (its process to exit 0) before committing the file', async () => {
    const stage = fakeStage('compress', { completion: 'pending' });
    const h = harness({ stages: [stage] });
    dump(h.child, [Buffer.from('PGDMP whole dump')]);

    const running = h.runner.run(runningRow(), context, operation().handle);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(h.partial.commit.mock.callCount(), 0, 'not committed while the stage may still fail');
    assert.equal(h.backups.update.mock.callCount(), 0);

    stage.settle();
    const row = await within(running, 2000, 'the backup to finish');
    assert.equal(row.status, BackupStatus.Completed, row.error ?? '');
    assert.equal(h.partial.commit.mock.callCount(), 1);
  });

  it('fails, kills pg_dump and every stage and discards the file when a stage completion rejects', async () => {
    const compress = fakeStage('compress', { completion: 'pending' });
    const encrypt = fakeStage('encrypt');
    const h = harness({ stages: [compress, encrypt] });
    (h.child.stdout as PassThrough).write(Buffer.alloc(4096, 5)); // pg_dump still running
    const { handle, reportBytes } = operation();
    reportBytes.mock.mockImplementation(() => {
      setImmediate(() => compress.settle(new ProcessFailedError('zstd', 1, null, 'zstd: error 70 : Write error : cannot write block')));
    });

    const row = await h.runner.run(runningRow(), context, handle);

    assertFailed(h, row);
    assert.match(row.error!, /zstd exited with code 1/);
    assert.match(row.error!, /cannot write block/);
    assert.ok(compress.kill.mock.callCount() >= 1, 'the failed stage killed');
    assert.ok(encrypt.kill.mock.callCount() >= 1, 'the other stage killed');
    assert.ok(h.child.kill.mock.callCount() >= 1, 'pg_dump killed');
    assert.equal(h.partial.discard.mock.callCount(), 1);
    assert.equal(h.partial.commit.mock.callCount(), 0);
    assert.equal(h.storage.renameDurably.mock.callCount(), 0);
    assert.equal(h.storage.writeFileAtomically.mock.callCount(), 0);
  });

  it('fails and kills every stage when a stage stream errors after pg_dump exited 0', async () => {
    const compress = fakeStage('compress');
    const encrypt = fakeStage('encrypt', { streamError: new Error('a passphrase must be the only recipient') });
    const h = harness({ stages: [compress, encrypt] });
    dump(h.child, [Buffer.from('PGDMP whole dump')]);

    const row = await h.runner.run(runningRow(), context, operation().handle);

    assertFailed(h, row);
    assert.match(row.error!, /a passphrase must be the only recipient/);
    assert.ok(compress.kill.mock.callCount() >= 1 && encrypt.kill.mock.callCount() >= 1, 'every stage killed');
    assert.equal(h.partial.discard.mock.callCount(), 1);
    assert.equal(h.storage.renameDurably.mock.callCount(), 0);
  });

  it('fails without starting pg_dump when the stages cannot be built (encryption not configured)', async () => {
    const h = harness();
    h.pipeline.encoders.mock.mockImplementation(() => {
      throw new EncryptionNotConfiguredException('encryption is not configured');
    });

    const row = await h.runner.run(runningRow(), { ...context, format: { compression: 'zstd', encrypted: true } }, operation().handle);

    assertFailed(h, row);
    assert.match(row.error!, /encryption is not configured/);
    assert.equal(h.spawn.mock.callCount(), 0, 'no pg_dump started');
    assert.equal(h.partial.discard.mock.callCount(), 1);
  });
});

describe('BackupRunner.prepare', () => {
  it('refuses with 507 naming the backup directory when free space is below what the backup needs', async () => {
    const h = harness();
    h.storage.freeBytes.mock.mockImplementation(async () => 50 * 1024 * 1024); // below minFreeBytes (100 MiB)

    await assert.rejects(h.runner.prepare('gzip'), (error: unknown) => {
      assert.ok(error instanceof InsufficientStorageException);
      assert.equal(error.getStatus(), 507);
      assert.match(error.message, new RegExp(BACKUP_DIR.replace(/\//g, '\\/')));
      return true;
    });
    assert.deepEqual(h.storage.freeBytes.mock.calls[0].arguments, [BACKUP_DIR]);
  });

  it('asks for room for the whole uncompressed data when compression is none', async () => {
    const h = harness();
    h.database.userDataBytes.mock.mockImplementation(async () => 1000 * 1024 * 1024);
    h.storage.freeBytes.mock.mockImplementation(async () => 600 * 1024 * 1024);

    assert.equal((await h.runner.prepare('gzip')).format.compression, 'gzip', '600 MiB is enough for ~500 MiB compressed');
    assert.equal((await h.runner.prepare('zstd')).format.compression, 'zstd', 'zstd is compressed too');
    await assert.rejects(h.runner.prepare('none'), InsufficientStorageException);
  });

  it('propagates PgToolsException from the tool lookup and checks no space', async () => {
    const h = harness();
    h.pgTools.forServer.mock.mockImplementation(async () => {
      throw new PgToolsException('pg_dump not found on PATH; install the PostgreSQL 16 client');
    });

    await assert.rejects(h.runner.prepare('gzip'), (error: unknown) => {
      assert.ok(error instanceof PgToolsException);
      assert.match(error.message, /pg_dump not found/);
      return true;
    });
    assert.equal(h.pgTools.forServer.mock.calls[0].arguments[0], 16, 'tools looked up for the server major');
    assert.equal(h.storage.freeBytes.mock.callCount(), 0);
  });

  it('returns the server, tools and the format the pipeline chose for the compression when there is room', async () => {
    const h = harness();
    h.pipeline.formatFor.mock.mockImplementation((compression) => ({ compression, encrypted: true }));
    const prepared = await h.runner.prepare('none');
    assert.deepEqual(prepared, { server: context.server, tools: context.tools, format: { compression: 'none', encrypted: true } });
    assert.deepEqual(h.pipeline.formatFor.mock.calls[0].arguments, ['none']);
    assert.deepEqual(h.storage.ensurePrivateDir.mock.calls[0].arguments, [BACKUP_DIR]);
  });
});
