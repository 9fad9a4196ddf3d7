import { backupRow } from './support/fixtures';
import { describe, it, beforeEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '@nestjs/common';
import { BackupHistory } from '../../src/backup/backup-history.entity';
import { BackupIntegrityService } from '../../src/backup/backup-integrity.service';
import { BackupRunner, DumpContext } from '../../src/backup/backup-runner.service';
import { BackupArchiveService } from '../../src/backup/backup-archive.service';
import { BackupLocations } from '../../src/backup/backup-locations';
import { S3Repository } from '../../src/infra/storage/s3.repository';
import { ZipRepository } from '../../src/infra/storage/zip.repository';
import { BackupService } from '../../src/backup/backup.service';
import { BackupStatus, BackupType } from '../../src/backup/backup.types';
import {
  BackupCopiesRemainException,
  BackupNotFoundException,
  BackupStateException,
  InsufficientStorageException,
  OperationInProgressException,
} from '../../src/common/exceptions';
import { StorageRepository } from '../../src/infra/storage/storage.repository';
import { HeldOperation, LockService } from '../../src/lock/lock.service';
import { PgBackupOptions } from '../../src/pg-backup.options';
import { Compression } from '../../src/pipeline/backup-format';
import { BackupConfig, SettingsService } from '../../src/settings/settings.service';
import { FakeRepository } from './support/fake-repository';

Logger.overrideLogger(false);

const BACKUP_DIR = '/var/backups/pg';

const options: PgBackupOptions = {
  databaseUrl: 'postgres://u:s3cret@h:5432/shop',
  schema: 'backup_admin',
  backupDir: BACKUP_DIR,
  auth: { secret: 'x'.repeat(32), adminRoles: ['admin'] },
  minFreeBytes: 0,
  restoreGraceMs: 10_000,
};

const context: DumpContext = {
  server: { database: 'shop', version: '16.4', major: 16 },
  tools: { binDir: null, pgDump: 'pg_dump', pgRestore: 'pg_restore', psql: 'psql', pgDumpVersion: 'pg_dump (PostgreSQL) 16.4', major: 16, restrict: false, restoreToolsVersion: '' },
  format: { compression: 'gzip', encrypted: false },
};

const config: BackupConfig = {
  enabled: false,
  schedule: null,
  intervalMinutes: null,
  timezone: null,
  drillSchedule: null,
  retention: { keepLast: 7, maxAgeDays: 0, daily: 0, weekly: 0, monthly: 0 },
  archiveAfterDays: null,
  scrubIntervalHours: null,
  lastScrubAt: null,
  compression: 'gzip',
  verifyAfterCreate: false,
  nextRunAt: null,
  nextRuns: [],
  lastTick: null,
  drillNextRunAt: null,
  lastDrillTick: null,
  updatedAt: new Date(),
  updatedBy: null,
};

function heldOperation(id = 'op') {
  const release = mock.fn(async () => undefined);
  const operation: HeldOperation = {
    type: 'backup',
    operationId: id,
    startedBy: 'alice',
    signal: new AbortController().signal,
    reportBytes: () => undefined,
    markIrrevocable: async () => undefined,
    abort: () => undefined,
    release,
  };
  return { operation, release };
}

function storedBackup(id: string, status: BackupStatus): BackupHistory {
  const completed = status === BackupStatus.Completed;
  return backupRow({
    id,
    status,
    filename: `shop-manual-20250601T120000Z-${id.slice(0, 8)}.dump`,
    sizeBytes: completed ? 1234 : 0,
    sha256: completed ? 'a'.repeat(64) : null,
    compression: 'gzip',
  });
}

function harness() {
  const backups = new FakeRepository<BackupHistory>('id');
  const { operation, release } = heldOperation();
  const lock = {
    acquire: mock.fn(async (_type: string, _id: string, _actor: string): Promise<HeldOperation> => operation),
    runInBackground: mock.fn((_operation: HeldOperation, _work: () => Promise<void>) => undefined),
    registerStaleSweeper: mock.fn(),
    runExclusive: mock.fn(async <T>(_type: string, _id: string, _actor: string, work: () => Promise<T>): Promise<T> => work()),
  };
  const runner = {
    prepare: mock.fn(async (compression: Compression): Promise<DumpContext> => ({ ...context, format: { compression, encrypted: false } })),
    run: mock.fn(async (row: BackupHistory) => row),
  };
  const storage = {
    remove: mock.fn(async (_path: string) => undefined),
    size: mock.fn(async (_path: string): Promise<number | null> => 1234),
    openRead: mock.fn(),
    list: mock.fn(async () => [] as string[]),
  };
  const settings = { get: mock.fn(async () => config) };
  const service = new BackupService(
    backups.asRepository(),
    options,
    lock as unknown as LockService,
    runner as unknown as BackupRunner,
    {} as unknown as BackupIntegrityService,
    storage as unknown as StorageRepository,
    settings as unknown as SettingsService,
    new BackupLocations(options, storage as unknown as StorageRepository, { enabled: false } as S3Repository, {} as ZipRepository),
    {} as BackupArchiveService, // archiving is off in these tests
  );
  return { service, backups, lock, runner, storage, settings, operation, release };
}

describe('BackupService.create', () => {
  let h: ReturnType<typeof harness>;

  beforeEach(() => {
    h = harness();
  });

  it('rejects with 409 and saves no row when another operation holds the lock', async () => {
    h.lock.acquire.mock.mockImplementation(async () => {
      throw new OperationInProgressException('restore 1234 started by bob');
    });

    await assert.rejects(h.service.create('alice', {}), (error: unknown) => {
      assert.ok(error instanceof OperationInProgressException);
      assert.equal(error.getStatus(), 409);
      return true;
    });
    assert.equal(h.backups.save.mock.callCount(), 0);
    assert.equal(h.runner.prepare.mock.callCount(), 0);
    assert.equal(h.lock.runInBackground.mock.callCount(), 0);
  });

  it('releases the lock and propagates the error when preparing fails after the lock was taken', async () => {
    const noRoom = new InsufficientStorageException(`backup directory ${BACKUP_DIR} has 1 MiB free; this backup needs about 100 MiB`);
    h.runner.prepare.mock.mockImplementation(async () => {
      throw noRoom;
    });

    await assert.rejects(h.service.create('alice', {}), (error: unknown) => error === noRoom);
    assert.equal(h.release.mock.callCount(), 1, 'lock released');
    assert.equal(h.backups.save.mock.callCount(), 0);
    assert.equal(h.lock.runInBackground.mock.callCount(), 0);
  });

  it('releases the lock when the running row cannot be saved', async () => {
    h.backups.save.mock.mockImplementation(async () => {
      throw new Error('relation "backup_history" does not exist');
    });

    await assert.rejects(h.service.create('alice', {}), /backup_history/);
    assert.equal(h.release.mock.callCount(), 1);
    assert.equal(h.lock.runInBackground.mock.callCount(), 0);
  });

  it('saves a running row, hands the dump to runInBackground and returns the row', async () => {
    const row = await h.service.create('alice', { notes: 'before migration', tags: ['pre-deploy'] });

    assert.equal(row.status, BackupStatus.Running);
    assert.equal(row.type, BackupType.Manual);
    assert.equal(row.createdBy, 'alice');
    assert.equal(row.notes, 'before migration');
    assert.deepEqual(row.tags, ['pre-deploy']);
    assert.equal(row.compression, 'gzip');
    assert.match(row.filename, new RegExp(`^shop-manual-\\d{8}T\\d{6}Z-${row.id.slice(0, 8)}\\.dump\\.gz$`));
    assert.equal(row.encrypted, false);
    assert.deepEqual(h.lock.acquire.mock.calls[0].arguments, ['backup', row.id, 'alice'], 'lock taken for this backup id');
    assert.equal(h.backups.rows.length, 1);
    assert.equal(h.backups.rows[0].status, BackupStatus.Running);

    assert.equal(h.lock.runInBackground.mock.callCount(), 1);
    const [operation, work] = h.lock.runInBackground.mock.calls[0].arguments;
    assert.equal(operation, h.operation);
    assert.equal(h.runner.run.mock.callCount(), 0, 'the dump starts in the background, not before the response');
    assert.equal(h.release.mock.callCount(), 0, 'the background work owns the lock now');

    await work();
    assert.equal(h.runner.run.mock.callCount(), 1);
    const [runRow, runContext, runOperation] = h.runner.run.mock.calls[0].arguments as unknown as [BackupHistory, DumpContext, HeldOperation];
    assert.equal(runRow, row);
    assert.deepEqual(runContext.format, { compression: 'gzip', encrypted: false });
    assert.equal(runOperation, h.operation);
  });

  it('dumps uncompressed when the configuration says none', async () => {
    h.settings.get.mock.mockImplementation(async () => ({ ...config, compression: 'none' }));
    const row = await h.service.create('alice', {});
    assert.deepEqual(h.runner.prepare.mock.calls[0].arguments, ['none']);
    assert.equal(row.compression, 'none');
    assert.match(row.filename, /\.dump$/);
  });

  it('records the format prepare chose: zstd by name, and encrypted with .age', async () => {
    h.settings.get.mock.mockImplementation(async () => ({ ...config, compression: 'zstd' }));
    h.runner.prepare.mock.mockImplementation(async (compression: Compression) => ({ ...context, format: { compression, encrypted: true } }));

    const row = await h.service.create('alice', {});

    assert.deepEqual(h.runner.prepare.mock.calls[0].arguments, ['zstd']);
    assert.equal(row.compression, 'zstd');
    assert.equal(row.encrypted, true);
    assert.match(row.filename, /^shop-manual-\d{8}T\d{6}Z-[0-9a-f]{8}\.dump\.zst\.age$/);
  });
});

describe('BackupService.remove', () => {
  it('refuses (409) to remove a running backup and removes nothing', async () => {
    const h = harness();
    h.backups.seed(storedBackup('11111111-aaaa-4000-8000-000000000000', BackupStatus.Running));

    await assert.rejects(h.service.remove('11111111-aaaa-4000-8000-000000000000', 'alice'), (error: unknown) => {
      assert.ok(error instanceof BackupStateException);
      assert.equal(error.getStatus(), 409);
      return true;
    });
    assert.equal(h.storage.remove.mock.callCount(), 0);
    assert.equal(h.backups.delete.mock.callCount(), 0);
    assert.equal(h.backups.rows.length, 1);
  });

  it('removes the file, its manifest and the row of a finished backup', async () => {
    const h = harness();
    const backup = storedBackup('22222222-aaaa-4000-8000-000000000000', BackupStatus.Failed);
    h.backups.seed(backup);
    h.storage.size.mock.mockImplementation(async () => null); // gone once removed

    await h.service.remove(backup.id, 'alice');

    assert.deepEqual(
      h.storage.remove.mock.calls.map((c) => c.arguments[0]),
      [
        `${BACKUP_DIR}/${backup.filename.replace('.dump', '.files.tar')}`, // a files part, if one was written
        `${BACKUP_DIR}/${backup.filename}`,
        `${BACKUP_DIR}/${backup.filename}.json`,
      ],
    );
    assert.equal(h.backups.rows.length, 0);
  });

  it('keeps the row and answers 503 naming the copy when a copy cannot be removed', async () => {
    const h = harness();
    const backup = storedBackup('33333333-bbbb-4000-8000-000000000000', BackupStatus.Completed);
    h.backups.seed(backup);
    h.storage.size.mock.mockImplementation(async () => null);
    h.storage.remove.mock.mockImplementation(async (path: string) => {
      if (path.endsWith('.dump')) throw new Error('EIO: i/o error');
    });

    await assert.rejects(h.service.remove(backup.id, 'alice'), (error: Error) => {
      assert.ok(error instanceof BackupCopiesRemainException);
      assert.equal((error as BackupCopiesRemainException).getStatus(), 503);
      assert.match(error.message, new RegExp(`${backup.filename}: EIO`));
      return true;
    });
    assert.equal(h.backups.rows.length, 1, 'the row stays');
  });

  it('answers 404 for an unknown backup', async () => {
    const h = harness();
    await assert.rejects(h.service.remove('33333333-aaaa-4000-8000-000000000000', 'alice'), BackupNotFoundException);
  });
});

describe('BackupService.download', () => {
  for (const status of [BackupStatus.Running, BackupStatus.Failed]) {
    it(`refuses (409) to download a ${status} backup`, async () => {
      const h = harness();
      h.backups.seed(storedBackup('44444444-aaaa-4000-8000-000000000000', status));

      await assert.rejects(h.service.download('44444444-aaaa-4000-8000-000000000000'), (error: unknown) => {
        assert.ok(error instanceof BackupStateException);
        assert.equal(error.getStatus(), 409);
        assert.match(error.message, new RegExp(`is ${status}`));
        return true;
      });
      assert.equal(h.storage.openRead.mock.callCount(), 0);
    });
  }

  it('refuses (409) when the file of a completed backup is missing', async () => {
    const h = harness();
    h.backups.seed(storedBackup('55555555-aaaa-4000-8000-000000000000', BackupStatus.Completed));
    h.storage.size.mock.mockImplementation(async () => null);

    await assert.rejects(h.service.download('55555555-aaaa-4000-8000-000000000000'), BackupStateException);
    assert.equal(h.storage.openRead.mock.callCount(), 0);
  });
});

describe('BackupService.update', () => {
  it('never writes back what the archiver changed between its read and its write', async () => {
    const h = harness();
    const backup = storedBackup('44444444-aaaa-4000-8000-000000000000', BackupStatus.Completed);
    h.backups.seed(backup);
    // the archiver moves the file into a ZIP right after the first read of the row
    const read = h.backups.findOneBy;
    let archivedBehindTheBack = false;
    const findOneBy = mock.fn(async (where: Partial<BackupHistory>) => {
      const row = await read(where);
      if (!archivedBehindTheBack) {
        archivedBehindTheBack = true;
        await h.backups.update({ id: backup.id }, { archived: true, archivePath: 'archived/2025-06-01.zip' });
      }
      return row;
    });
    Object.assign(h.backups, { findOneBy });

    const updated = await h.service.update(backup.id, { notes: 'before the upgrade', pinned: true });

    assert.ok(archivedBehindTheBack);
    assert.equal(h.backups.rows[0].archived, true, 'archived survives the PATCH');
    assert.equal(h.backups.rows[0].archivePath, 'archived/2025-06-01.zip');
    assert.equal(h.backups.rows[0].notes, 'before the upgrade');
    assert.equal(h.backups.rows[0].pinned, true);
    assert.equal(updated.notes, 'before the upgrade');
    assert.equal(h.backups.save.mock.callCount(), 0, 'no whole-entity save');
  });

  it('answers 404 for an unknown backup and writes nothing', async () => {
    const h = harness();
    await assert.rejects(h.service.update('55555555-aaaa-4000-8000-000000000000', { pinned: true }), BackupNotFoundException);
    assert.equal(h.backups.rows.length, 0);
  });
});
