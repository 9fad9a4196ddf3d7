import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { BackupHistory } from '../../src/backup/backup-history.entity';
import { BackupIntegrityService } from '../../src/backup/backup-integrity.service';
import { DatabaseInfoRepository } from '../../src/database/database-info.repository';
import { PgToolsRepository } from '../../src/infra/process/pg-tools.repository';
import { ProcessRepository, SpawnOptions } from '../../src/infra/process/process.repository';
import { StorageRepository } from '../../src/infra/storage/storage.repository';
import { PgBackupOptions } from '../../src/pg-backup.options';
import { FakeChild, fakeChild } from './support/fake-process';

const SHA = 'c'.repeat(64);
const FILENAME = 'shop-manual-20250601T120000Z-0a1b2c3d.dump';

function harness(listing: FakeChild) {
  const storage = {
    size: mock.fn(async (_path: string): Promise<number | null> => 2048),
    sha256: mock.fn(async (_path: string) => SHA),
  };
  const spawn = mock.fn((_command: string, _args: string[], _options: SpawnOptions) => listing);
  const service = new BackupIntegrityService(
    { backupDir: '/var/backups/pg' } as PgBackupOptions,
    storage as unknown as StorageRepository,
    { spawn } as unknown as ProcessRepository,
    { forServer: async () => ({ pgRestore: '/usr/lib/postgresql/16/bin/pg_restore' }) } as unknown as PgToolsRepository,
    { server: async () => ({ database: 'shop', version: '16.4', major: 16 }) } as unknown as DatabaseInfoRepository,
  );
  const backup = { id: 'b', filename: FILENAME, sizeBytes: 2048, sha256: SHA } as BackupHistory;
  return { service, storage, spawn, backup };
}

function listing(lines: string, code = 0, stderr = ''): FakeChild {
  const child = fakeChild({ name: 'pg_restore', stdout: Readable.from([Buffer.from(lines)]) });
  child.exit(code, stderr);
  return child;
}

describe('BackupIntegrityService.check', () => {
  it('is valid when size, hash and the dump listing are all good', async () => {
    const h = harness(listing(';\n; Archive created at 2025-06-01\n215; 1259 16386 TABLE public orders shop\n216; 0 16386 TABLE DATA public orders shop\n'));

    const report = await h.service.check(h.backup);

    assert.equal(report.valid, true);
    assert.deepEqual(report.checks.map((c) => [c.name, c.ok]), [['file', true], ['sha256', true], ['dump', true]]);
    assert.match(report.checks[2].detail!, /read 2 entries/);
    assert.deepEqual(h.spawn.mock.calls[0].arguments[1], ['--list', `/var/backups/pg/${FILENAME}`]);
  });

  it('reports a missing file and stops there', async () => {
    const h = harness(listing(''));
    h.storage.size.mock.mockImplementation(async () => null);

    const report = await h.service.check(h.backup);

    assert.equal(report.valid, false);
    assert.deepEqual(report.checks.map((c) => [c.name, c.ok]), [['file', false]]);
    assert.equal(h.storage.sha256.mock.callCount(), 0);
    assert.equal(h.spawn.mock.callCount(), 0);
  });

  it('reports a hash mismatch without running pg_restore', async () => {
    const h = harness(listing(''));
    h.storage.sha256.mock.mockImplementation(async () => 'd'.repeat(64));

    const report = await h.service.check(h.backup);

    assert.equal(report.valid, false);
    assert.equal(report.checks.find((c) => c.name === 'sha256')?.ok, false);
    assert.equal(h.spawn.mock.callCount(), 0);
  });

  it('is invalid when the size on disk differs from the recorded size', async () => {
    const h = harness(listing('1; 0 0 TABLE x\n'));
    h.storage.size.mock.mockImplementation(async () => 1024);

    const report = await h.service.check(h.backup);

    assert.equal(report.valid, false);
    assert.match(report.checks[0].detail!, /1024 bytes on disk, 2048 recorded/);
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
