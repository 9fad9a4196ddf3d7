import { createHash } from 'node:crypto';
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { BackupHistory } from '../../src/backup/backup-history.entity';
import { BackupLocations, sha256Of } from '../../src/backup/backup-locations';
import { S3Repository } from '../../src/infra/storage/s3.repository';
import { ZipRepository } from '../../src/infra/storage/zip.repository';
import { isDamaged, BackupIntegrityService } from '../../src/backup/backup-integrity.service';
import { DatabaseInfoRepository } from '../../src/database/database-info.repository';
import { PgToolsRepository } from '../../src/infra/process/pg-tools.repository';
import { ProcessFailedError, ProcessRepository, SpawnOptions } from '../../src/infra/process/process.repository';
import { StorageRepository } from '../../src/infra/storage/storage.repository';
import { PgBackupOptions } from '../../src/pg-backup.options';
import { EncryptionNotConfiguredException } from '../../src/pipeline/backup-pipeline.service';
import { fakePipeline, FakeStage, fakeStage, FakeStageOptions } from './support/fake-pipeline';
import { CollectingWritable, FakeChild, fakeChild } from './support/fake-process';

const FILENAME = 'shop-manual-20250601T120000Z-0a1b2c3d.dump';
/** The backup file, in several chunks so that stages are still busy when a later one fails. */
const FILE = Array.from({ length: 8 }, (_, i) => Buffer.alloc(256, i + 1));
const SHA = createHash('sha256').update(Buffer.concat(FILE)).digest('hex');

function harness(listing: FakeChild) {
  const storage = {
    size: mock.fn(async (_path: string): Promise<number | null> => 2048),
    openRead: mock.fn((_path: string) => Readable.from(FILE)),
    // like the real one, it reads the file (here: through openRead)
    sha256: async (path: string) => ({ sha256: await sha256Of(storage.openRead(path)), size: 2048 }),
  };
  const spawn = mock.fn((_command: string, _args: string[], _options: SpawnOptions) => listing);
  const pipeline = fakePipeline();
  const locations = new BackupLocations(
    { backupDir: '/var/backups/pg' } as PgBackupOptions,
    storage as unknown as StorageRepository,
    { enabled: false } as S3Repository,
    {} as ZipRepository,
  );
  const service = new BackupIntegrityService(
    locations,
    { spawn } as unknown as ProcessRepository,
    { forServer: async () => ({ pgRestore: '/usr/lib/postgresql/16/bin/pg_restore' }) } as unknown as PgToolsRepository,
    { server: async () => ({ database: 'shop', version: '16.4', major: 16 }) } as unknown as DatabaseInfoRepository,
    pipeline.asPipeline(),
  );
  const backup = { id: 'b', filename: FILENAME, sizeBytes: 2048, sha256: SHA, compression: 'none', encrypted: false } as BackupHistory;
  return { service, storage, spawn, pipeline, backup };
}

/** pg_restore --list: reads its stdin to the end, prints `lines` and exits with `code`. */
function listing(lines: string, code = 0, stderr = ''): FakeChild & { stdin: CollectingWritable } {
  const stdin = new CollectingWritable();
  const child = fakeChild({ name: 'pg_restore', stdout: Readable.from([Buffer.from(lines)]), stdin });
  stdin.on('finish', () => child.exit(code, stderr));
  stdin.on('close', () => child.exit(code, stderr));
  return child as FakeChild & { stdin: CollectingWritable };
}

describe('BackupIntegrityService.check', () => {
  it('is valid when size, hash and the dump listing are all good', async () => {
    const child = listing(';\n; Archive created at 2025-06-01\n215; 1259 16386 TABLE public orders shop\n216; 0 16386 TABLE DATA public orders shop\n');
    const h = harness(child);

    const report = await h.service.check(h.backup);

    assert.equal(report.valid, true);
    assert.deepEqual(report.checks.map((c) => [c.name, c.ok]), [['file', true], ['sha256', true], ['dump', true]]);
    assert.match(report.checks[2].detail!, /read 2 entries/);
    const [, args, spawnOptions] = h.spawn.mock.calls[0].arguments;
    assert.deepEqual(args, ['--list'], 'pg_restore reads the dump from stdin');
    assert.equal(spawnOptions.stdin, true);
    assert.deepEqual(h.storage.openRead.mock.calls.map((c) => c.arguments[0]), Array(2).fill(`/var/backups/pg/${FILENAME}`), 'hashed, then listed');
    assert.deepEqual(child.stdin.bytes, Buffer.concat(FILE), 'an unencoded file reaches pg_restore as it is');
  });

  it('counts an entry whose line is split across stdout chunks once', async () => {
    const stdin = new CollectingWritable();
    const stdout = Readable.from(['215; 1259 16386 TABLE pub', 'lic orders shop\n216', '; 0 16386 TABLE DATA public orders shop\n'].map((t) => Buffer.from(t)));
    const child = fakeChild({ name: 'pg_restore', stdout, stdin });
    stdin.on('finish', () => child.exit(0));
    const h = harness(child);

    const report = await h.service.check(h.backup);

    assert.deepEqual(report.checks.at(-1), { name: 'dump', ok: true, detail: 'pg_restore --list read 2 entries' });
  });

  it('reports a missing file and stops there', async () => {
    const h = harness(listing(''));
    h.storage.size.mock.mockImplementation(async () => null);

    const report = await h.service.check(h.backup);

    assert.equal(report.valid, false);
    assert.deepEqual(report.checks.map((c) => [c.name, c.ok]), [['file', false]]);
    assert.equal(h.storage.openRead.mock.callCount(), 0);
    assert.equal(h.spawn.mock.callCount(), 0);
  });

  it('reports a hash mismatch without running pg_restore', async () => {
    const h = harness(listing(''));
    const report = await h.service.check({ ...h.backup, sha256: 'd'.repeat(64) } as BackupHistory);

    assert.equal(report.valid, false);
    assert.equal(report.checks.find((c) => c.name === 'sha256')?.ok, false);
    assert.equal(h.spawn.mock.callCount(), 0);
  });

  it('is invalid when the size on disk differs from the recorded size', async () => {
    const h = harness(listing('1; 0 0 TABLE x\n'));
    h.storage.size.mock.mockImplementation(async () => 1024);

    const report = await h.service.check(h.backup);

    assert.equal(report.valid, false);
    assert.match(report.checks[0].detail!, /1024 bytes at \/var\/backups\/pg\/\S+, 2048 recorded/);
  });

  it('is invalid when pg_restore cannot read the dump, with its stderr as detail', async () => {
    const h = harness(listing('', 1, 'pg_restore: error: input file does not appear to be a valid archive'));

    const report = await h.service.check(h.backup);

    assert.equal(report.valid, false);
    const dump = report.checks.find((c) => c.name === 'dump')!;
    assert.equal(dump.ok, false);
    assert.match(dump.detail!, /not appear to be a valid archive/);
  });
});

describe('BackupIntegrityService.check through decoder stages', { timeout: 10_000 }, () => {
  const ENCRYPTED_GZIP = { compression: 'gzip', encrypted: true } as const;
  const unmask = (chunk: Buffer) => Buffer.from(chunk.map((b) => b ^ 0x55));
  const LISTED = '215; 1259 16386 TABLE public orders shop\n';

  /** decoders() builds fresh stages on every call (the full pass and the pg_restore feed each get their own). */
  function withDecoders(h: ReturnType<typeof harness>, specs: [FakeStage['name'], FakeStageOptions][]): FakeStage[][] {
    const built: FakeStage[][] = [];
    h.pipeline.decoders.mock.mockImplementation(() => {
      const stages = specs.map(([name, options]) => fakeStage(name, options));
      built.push(stages);
      return stages;
    });
    return built;
  }

  function encryptedBackup(h: ReturnType<typeof harness>): BackupHistory {
    return { ...h.backup, filename: FILENAME.replace(/\.dump$/, '.dump.gz.age'), ...ENCRYPTED_GZIP };
  }

  it('decodes every byte in full mode, naming each stage, then lists the decoded dump', async () => {
    const child = listing(LISTED);
    const h = harness(child);
    const built = withDecoders(h, [['decrypt', { transform: unmask }], ['decompress', {}]]);

    const report = await h.service.check(encryptedBackup(h), { full: true });

    const decoded = unmask(Buffer.concat(FILE));
    assert.equal(report.valid, true, JSON.stringify(report.checks));
    assert.deepEqual(report.checks.map((c) => [c.name, c.ok]), [['file', true], ['sha256', true], ['decrypt', true], ['decompress', true], ['dump', true]]);
    assert.equal(report.checks[3].detail, `${decoded.length} bytes of dump`, 'the last stage reports the decoded size');
    assert.equal(built.length, 2, 'one decoding pass over the file, one feed to pg_restore');
    for (const call of h.pipeline.decoders.mock.calls) assert.deepEqual(call.arguments, [ENCRYPTED_GZIP]);
    assert.deepEqual(h.storage.openRead.mock.calls.map((c) => c.arguments[0]), Array(3).fill(`/var/backups/pg/${FILENAME}.gz.age`));
    assert.deepEqual(Buffer.concat(built[0][0].received), Buffer.concat(FILE), 'decryption saw the file');
    assert.deepEqual(child.stdin.bytes, decoded, 'pg_restore reads the decoded dump on stdin');
    for (const stage of built.flat()) assert.ok(stage.kill.mock.callCount() >= 1, `${stage.name} stopped when done`);
  });

  it('is the default: check(backup) is a full check', async () => {
    const h = harness(listing(LISTED));
    withDecoders(h, [['decrypt', {}], ['decompress', {}]]);

    const report = await h.service.check(encryptedBackup(h));

    assert.deepEqual(report.checks.map((c) => c.name), ['file', 'sha256', 'decrypt', 'decompress', 'dump']);
  });

  it('names decrypt when decryption fails, reports decompress as not checked, and does not run pg_restore', async () => {
    const h = harness(listing(LISTED));
    const built = withDecoders(h, [
      ['decrypt', { streamError: new Error('no identity matches this file (wrong key or passphrase)') }],
      ['decompress', {}],
    ]);

    const report = await h.service.check(encryptedBackup(h), { full: true });

    assert.equal(report.valid, false);
    assert.deepEqual(report.checks.map((c) => [c.name, c.ok]), [['file', true], ['sha256', true], ['decrypt', false], ['decompress', false]]);
    assert.deepEqual(report.checks.slice(2), [
      { name: 'decrypt', ok: false, detail: 'no identity matches this file (wrong key or passphrase)' },
      { name: 'decompress', ok: false, detail: 'not checked: decrypt failed' },
    ]);
    assert.equal(h.spawn.mock.callCount(), 0, 'no pg_restore on a backup that does not decode');
    assert.equal(built.length, 1);
    for (const stage of built[0]) assert.ok(stage.kill.mock.callCount() >= 1, `${stage.name} killed`);
  });

  it('names decompress, not decrypt, when decryption succeeded and decompression fails in the stream', async () => {
    const h = harness(listing(LISTED));
    withDecoders(h, [['decrypt', {}], ['decompress', { streamError: new Error('incorrect header check') }]]);

    const report = await h.service.check(encryptedBackup(h), { full: true });

    assert.equal(report.valid, false);
    assert.deepEqual(report.checks.slice(2), [
      { name: 'decrypt', ok: true },
      { name: 'decompress', ok: false, detail: 'incorrect header check' },
    ]);
    assert.equal(h.spawn.mock.callCount(), 0);
  });

  it('names decompress when its process exits non-zero, with its stderr', async () => {
    const h = harness(listing(LISTED));
    const built = withDecoders(h, [['decrypt', {}], ['decompress', { completion: 'pending' }]]);
    h.storage.openRead.mock.mockImplementation(() => {
      const file = Readable.from(FILE);
      // the first read only hashes the file; the decoders exist from the second read on
      file.once('end', () => built.at(-1)?.[1].settle(new ProcessFailedError('zstd', 1, null, 'zstd: /*stdin*\\: unsupported format')));
      return file;
    });

    const report = await h.service.check(encryptedBackup(h), { full: true });

    assert.equal(report.valid, false);
    assert.deepEqual(report.checks.map((c) => [c.name, c.ok]), [['file', true], ['sha256', true], ['decrypt', true], ['decompress', false]]);
    assert.match(report.checks[3].detail!, /zstd exited with code 1: zstd: .*unsupported format/);
  });

  it('reports decrypt not ok with the reason when the backup is encrypted and no identity is configured', async () => {
    const h = harness(listing(LISTED));
    h.pipeline.decoders.mock.mockImplementation(() => {
      throw new EncryptionNotConfiguredException('this backup is encrypted and no identity is configured');
    });

    const full = await h.service.check(encryptedBackup(h), { full: true });
    assert.equal(full.valid, false);
    assert.deepEqual(full.checks.at(-1), { name: 'decrypt', ok: false, detail: 'this backup is encrypted and no identity is configured', keyProblem: true });
    assert.equal(isDamaged(full), false, 'a missing key is not damage');

    const quick = await h.service.check(encryptedBackup(h), { full: false });
    assert.equal(quick.valid, false);
    assert.deepEqual(quick.checks.at(-1), { name: 'dump', ok: false, detail: 'this backup is encrypted and no identity is configured' });
    assert.equal(h.spawn.mock.callCount(), 0);
  });

  it('names the failing stage in the dump check when pg_restore fails on a stream that did not decode (full: false)', async () => {
    const h = harness(listing('', 1, 'pg_restore: error: did not find magic string in file header'));
    withDecoders(h, [['decrypt', { streamError: new Error('no identity matches this file (wrong key or passphrase)') }], ['decompress', {}]]);

    const report = await h.service.check(encryptedBackup(h), { full: false });

    assert.equal(report.valid, false);
    assert.deepEqual(report.checks.at(-1), { name: 'dump', ok: false, detail: 'decrypt: no identity matches this file (wrong key or passphrase)' });
  });

  it('with full: false runs no decoding pass: file, sha256, then pg_restore --list on the decoded stream', async () => {
    const child = listing(LISTED);
    const h = harness(child);
    const built = withDecoders(h, [['decrypt', { transform: unmask }], ['decompress', {}]]);

    const report = await h.service.check(encryptedBackup(h), { full: false });

    assert.equal(report.valid, true, JSON.stringify(report.checks));
    assert.deepEqual(report.checks.map((c) => c.name), ['file', 'sha256', 'dump']);
    assert.equal(built.length, 1, 'decoders built once, for the pg_restore feed only');
    assert.equal(h.storage.openRead.mock.callCount(), 2, 'the file is read twice: to hash it, and to feed pg_restore');
    assert.deepEqual(child.stdin.bytes, unmask(Buffer.concat(FILE)));
  });
});
