import { backupRow } from './support/fixtures';
import { describe, it, beforeEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '@nestjs/common';
import { AuditRecord, AuditService } from '../../src/audit/audit.service';
import { AuditOutcome } from '../../src/audit/audit-log.entity';
import { BackupHistory } from '../../src/backup/backup-history.entity';
import { BackupIntegrityService, IntegrityReport } from '../../src/backup/backup-integrity.service';
import { BackupService } from '../../src/backup/backup.service';
import { BackupStatus, BackupType } from '../../src/backup/backup.types';
import { BackupNotFoundException, BackupNotRestorableException, OperationInProgressException } from '../../src/common/exceptions';
import { HeldOperation, LockService } from '../../src/lock/lock.service';
import { RestoreHistory, RestoreStatus } from '../../src/restore/restore-history.entity';
import { RestoreOutcome, RestoreRunner } from '../../src/restore/restore-runner.service';
import { FilesRestoreService } from '../../src/restore/files-restore.service';
import { BackupEvents } from '../../src/events/backup-events';
import { RolePreflight } from '../../src/restore/role-preflight';
import { TargetDatabases } from '../../src/restore/target-database';
import { RestoreService } from '../../src/restore/restore.service';
import { RestoreHooksRunner } from '../../src/restore/restore-hooks';
import { CurrentRowCounts, DatabaseInfoRepository } from '../../src/database/database-info.repository';
import { PgBackupOptions } from '../../src/pg-backup.options';
import { FakeRepository } from './support/fake-repository';

Logger.overrideLogger(false);

const BACKUP_ID = '0a1b2c3d-0000-4000-8000-00000000000b';

function backup(status: BackupStatus, id = BACKUP_ID): BackupHistory {
  return backupRow({
    id,
    status,
    filename: `shop-manual-20250601T120000Z-${id.slice(0, 8)}.dump`,
    sizeBytes: 2048,
    sha256: 'a'.repeat(64),
    compression: 'gzip',
    finishedAt: new Date('2025-06-01T12:00:09Z'),
    durationMs: 9000,
    error: status === BackupStatus.Failed ? 'pg_dump exited with code 1' : null,
  });
}

const VALID: IntegrityReport = {
  valid: true,
  checks: [
    { name: 'file', ok: true, detail: '2048 bytes' },
    { name: 'sha256', ok: true, detail: 'a'.repeat(64) },
    { name: 'dump', ok: true, detail: 'pg_restore --list read 12 entries' },
  ],
};

function harness() {
  const restores = new FakeRepository<RestoreHistory>('id');
  const abort = new AbortController();
  const release = mock.fn(async () => undefined);
  const operation: HeldOperation = {
    type: 'restore',
    operationId: 'op',
    startedBy: 'alice',
    signal: abort.signal,
    reportBytes: () => undefined,
    markIrrevocable: async () => undefined,
    abort: (reason: Error) => abort.abort(reason),
    release,
  };
  const backups = {
    get: mock.fn(async (id: string): Promise<BackupHistory> => backup(BackupStatus.Completed, id)),
    createUnderLock: mock.fn(
      async (_actor: string, _dto: unknown, type: BackupType, _operation: unknown): Promise<BackupHistory> => ({
        ...backup(BackupStatus.Completed, '5afe0000-0000-4000-8000-000000000000'),
        type,
      }),
    ),
  };
  const integrity = { check: mock.fn(async (_backup: BackupHistory, _options?: { full: boolean }): Promise<IntegrityReport> => VALID) };
  const lock = {
    acquire: mock.fn(async (_type: string, _id: string, _actor: string): Promise<HeldOperation> => operation),
    runInBackground: mock.fn((_operation: HeldOperation, _work: () => Promise<void>) => undefined),
    registerStaleSweeper: mock.fn(),
  };
  const runner = {
    run: mock.fn(async (_id: string, _backup: BackupHistory, _op: unknown): Promise<RestoreOutcome> => ({ terminatedPids: [] })),
    checkLockCapacity: mock.fn(async () => undefined),
  };
  const audit = { record: mock.fn(async (_entry: AuditRecord) => undefined) };
  const hooks = {
    before: mock.fn(async (_context: unknown, _signal: AbortSignal) => undefined),
    after: mock.fn(async (_context: unknown): Promise<string | null> => null),
  };
  const database = {
    currentRowCounts: mock.fn(async (tables: string[]): Promise<CurrentRowCounts> => ({ tables: Object.fromEntries(tables.map((t) => [t, 1])), estimated: [] })),
  };
  const service = new RestoreService(
    restores.asRepository(),
    backups as unknown as BackupService,
    integrity as unknown as BackupIntegrityService,
    lock as unknown as LockService,
    runner as unknown as RestoreRunner,
    audit as unknown as AuditService,
    {} as FilesRestoreService, // files: true is covered end to end
    new BackupEvents(),
    { plan: async () => ({ sql: '', noOwner: false, noTablespaces: false, detail: {} }) } as unknown as RolePreflight,
    hooks as unknown as RestoreHooksRunner,
    {} as TargetDatabases, // target.database is covered end to end
    database as unknown as DatabaseInfoRepository,
    {} as PgBackupOptions,
  );
  return { service, restores, backups, integrity, lock, runner, audit, hooks, database, operation, release, abort };
}

/** Runs what start() handed to runInBackground, as the lock service would after the response. */
async function runBackgroundWork(h: ReturnType<typeof harness>): Promise<void> {
  assert.equal(h.lock.runInBackground.mock.callCount(), 1, 'the restore was handed to runInBackground');
  const [, work] = h.lock.runInBackground.mock.calls[0].arguments;
  await work();
}

describe('RestoreService.start', () => {
  let h: ReturnType<typeof harness>;

  beforeEach(() => {
    h = harness();
  });

  for (const status of [BackupStatus.Running, BackupStatus.Failed]) {
    it(`refuses (422) a ${status} backup without taking the lock`, async () => {
      h.backups.get.mock.mockImplementation(async (id: string) => backup(status, id));

      await assert.rejects(h.service.start('alice', BACKUP_ID), (error: unknown) => {
        assert.ok(error instanceof BackupNotRestorableException);
        assert.equal(error.getStatus(), 422);
        assert.match(error.message, new RegExp(`is ${status}`));
        return true;
      });
      assert.equal(h.lock.acquire.mock.callCount(), 0);
      assert.equal(h.integrity.check.mock.callCount(), 0);
      assert.equal(h.restores.save.mock.callCount(), 0);
    });
  }

  it('answers 404 for an unknown backup without taking the lock', async () => {
    h.backups.get.mock.mockImplementation(async (id: string) => {
      throw new BackupNotFoundException(id);
    });
    await assert.rejects(h.service.start('alice', BACKUP_ID), BackupNotFoundException);
    assert.equal(h.lock.acquire.mock.callCount(), 0);
  });

  it('refuses (422) a backup whose file fails the integrity check, releasing the lock and recording nothing', async () => {
    h.integrity.check.mock.mockImplementation(async () => ({
      valid: false,
      checks: [
        { name: 'file', ok: true, detail: '2048 bytes' },
        { name: 'sha256', ok: false, detail: `file hashes to ${'b'.repeat(64)}, ${'a'.repeat(64)} recorded` },
      ],
    }));

    await assert.rejects(h.service.start('alice', BACKUP_ID), (error: unknown) => {
      assert.ok(error instanceof BackupNotRestorableException);
      assert.equal(error.getStatus(), 422);
      assert.match(error.message, /sha256: file hashes to b+/);
      assert.match(error.message, /nothing was changed/);
      return true;
    });
    assert.equal(h.lock.acquire.mock.callCount(), 1, 'the check runs under the lock');
    assert.equal(h.release.mock.callCount(), 1, 'lock released');
    assert.equal(h.restores.save.mock.callCount(), 0);
    assert.equal(h.lock.runInBackground.mock.callCount(), 0);
    assert.equal(h.runner.run.mock.callCount(), 0);
  });

  it('releases the lock when the integrity check itself throws', async () => {
    h.integrity.check.mock.mockImplementation(async () => {
      throw new Error('pg_restore not found');
    });

    await assert.rejects(h.service.start('alice', BACKUP_ID), /pg_restore not found/);
    assert.equal(h.release.mock.callCount(), 1);
  });

  it('rejects with 409 when another operation holds the lock, checking nothing', async () => {
    h.lock.acquire.mock.mockImplementation(async () => {
      throw new OperationInProgressException();
    });

    await assert.rejects(h.service.start('alice', BACKUP_ID), (error: unknown) => {
      assert.ok(error instanceof OperationInProgressException);
      assert.equal(error.getStatus(), 409);
      return true;
    });
    assert.equal(h.integrity.check.mock.callCount(), 0);
    assert.equal(h.restores.save.mock.callCount(), 0);
  });

  it('records a running restore and leaves the work to runInBackground', async () => {
    const restore = await h.service.start('alice', BACKUP_ID);

    assert.equal(restore.status, RestoreStatus.Running);
    assert.equal(restore.backupId, BACKUP_ID);
    assert.equal(restore.startedBy, 'alice');
    assert.deepEqual(h.lock.acquire.mock.calls[0].arguments, ['restore', restore.id, 'alice']);
    assert.equal(h.restores.rows[0].status, RestoreStatus.Running);
    assert.equal(h.release.mock.callCount(), 0);
    assert.equal(h.lock.runInBackground.mock.calls[0].arguments[0], h.operation);
    assert.equal(h.backups.createUnderLock.mock.callCount(), 0, 'nothing heavy before the response');
    const [checked, checkOptions] = h.integrity.check.mock.calls[0].arguments;
    assert.equal(checked.id, BACKUP_ID);
    assert.deepEqual(checkOptions, { full: false }, 'no full decoding pass before the response: the restore transaction covers it');
  });
});

describe('RestoreService background run', () => {
  it('takes a safety backup under the same lock, restores, and records success', async () => {
    const h = harness();
    h.runner.run.mock.mockImplementation(async () => ({ terminatedPids: [3141] }));
    const restore = await h.service.start('alice', BACKUP_ID);

    await runBackgroundWork(h);

    const [actor, , type, operation] = h.backups.createUnderLock.mock.calls[0].arguments;
    assert.equal(actor, 'alice');
    assert.equal(type, BackupType.Safety);
    assert.equal(operation, h.operation);
    assert.equal(h.runner.run.mock.callCount(), 1);
    const stored = h.restores.rows.find((r) => r.id === restore.id)!;
    assert.equal(stored.status, RestoreStatus.Completed);
    assert.equal(stored.safetyBackupId, '5afe0000-0000-4000-8000-000000000000');
    assert.deepEqual(stored.detail, { scope: { tables: [], schemas: [] }, terminatedPids: [3141], rowCounts: { before: {}, after: {} } });
    assert.equal(h.audit.record.mock.calls[0].arguments[0].outcome, AuditOutcome.Success);
  });

  it('skips the safety backup only when asked to', async () => {
    const h = harness();
    const restore = await h.service.start('alice', BACKUP_ID, { files: false, safetyBackup: false });

    await runBackgroundWork(h);

    assert.equal(h.backups.createUnderLock.mock.callCount(), 0);
    assert.equal(h.runner.run.mock.callCount(), 1);
    const stored = h.restores.rows.find((r) => r.id === restore.id)!;
    assert.equal(stored.status, RestoreStatus.Completed);
    assert.equal(stored.safetyBackupId, null);
  });

  it('does not touch the database when the safety backup failed', async () => {
    const h = harness();
    h.backups.createUnderLock.mock.mockImplementation(async () => ({
      ...backup(BackupStatus.Failed, '5afe0000-0000-4000-8000-000000000000'),
      error: 'ENOSPC: no space left on device, write',
    }));
    const restore = await h.service.start('alice', BACKUP_ID);

    await runBackgroundWork(h);

    assert.equal(h.runner.run.mock.callCount(), 0, 'no restore without a safety backup');
    const stored = h.restores.rows.find((r) => r.id === restore.id)!;
    assert.equal(stored.status, RestoreStatus.Failed);
    assert.match(stored.error!, /safety backup failed/);
    assert.match(stored.error!, /ENOSPC/);
    assert.equal(stored.safetyBackupId, '5afe0000-0000-4000-8000-000000000000');
    const entry = h.audit.record.mock.calls[0].arguments[0];
    assert.equal(entry.outcome, AuditOutcome.Failure);
    assert.equal(entry.action, 'restore.finish');
  });

  it('calls no hook when the safety backup failed: the app was never told to stop', async () => {
    const h = harness();
    h.backups.createUnderLock.mock.mockImplementation(async () => ({ ...backup(BackupStatus.Failed, '5afe0000-0000-4000-8000-000000000000'), error: 'ENOSPC' }));
    await h.service.start('alice', BACKUP_ID);

    await runBackgroundWork(h);

    assert.equal(h.hooks.before.mock.callCount(), 0);
    assert.equal(h.hooks.after.mock.callCount(), 0);
  });

  it('a failing before hook fails the restore before anything is counted or restored, and the after hook is told', async () => {
    const h = harness();
    h.hooks.before.mock.mockImplementation(async () => {
      throw new Error('the beforeRestore hook failed: maintenance mode unavailable');
    });
    const restore = await h.service.start('alice', BACKUP_ID);

    await runBackgroundWork(h);

    assert.equal(h.runner.run.mock.callCount(), 0);
    assert.equal(h.database.currentRowCounts.mock.callCount(), 0);
    const stored = h.restores.rows.find((r) => r.id === restore.id)!;
    assert.equal(stored.status, RestoreStatus.Failed);
    assert.equal(stored.error, 'the beforeRestore hook failed: maintenance mode unavailable; the database was not touched');
    const [context] = h.hooks.after.mock.calls[0].arguments as [{ outcome: string; error: string; restoreId: string }];
    assert.equal(context.outcome, 'failed');
    assert.equal(context.restoreId, restore.id);
    assert.match(context.error, /maintenance mode unavailable/);
  });

  it('runs before hook, count, restore, count, after hook in that order; an after hook failure is recorded and the restore stands', async () => {
    const h = harness();
    const order: string[] = [];
    h.hooks.before.mock.mockImplementation(async () => void order.push('before'));
    h.database.currentRowCounts.mock.mockImplementation(async () => {
      order.push('count');
      return { tables: { 'public.t': order.length }, estimated: ['public.t'] };
    });
    h.runner.run.mock.mockImplementation(async () => {
      order.push('restore');
      return { terminatedPids: [] };
    });
    h.hooks.after.mock.mockImplementation(async () => {
      order.push('after');
      return 'the afterRestore hook failed: migrations failed';
    });
    const restore = await h.service.start('alice', BACKUP_ID);

    await runBackgroundWork(h);

    assert.deepEqual(order, ['before', 'count', 'restore', 'count', 'after']);
    const stored = h.restores.rows.find((r) => r.id === restore.id)!;
    assert.equal(stored.status, RestoreStatus.Completed);
    assert.equal(stored.detail!.afterRestoreHookError, 'the afterRestore hook failed: migrations failed');
    assert.deepEqual(stored.detail!.rowCounts, { before: { 'public.t': 2 }, after: { 'public.t': 4 }, estimated: ['public.t'] });
  });

  it('records "aborted: <reason>" when the operation was aborted during the restore', async () => {
    const h = harness();
    h.runner.run.mock.mockImplementation(async () => {
      h.abort.abort(new Error('the process is shutting down'));
      throw new Error('The operation was aborted');
    });
    const restore = await h.service.start('alice', BACKUP_ID);

    await runBackgroundWork(h);

    const stored = h.restores.rows.find((r) => r.id === restore.id)!;
    assert.equal(stored.status, RestoreStatus.Failed);
    assert.equal(stored.error, 'aborted: the process is shutting down');
  });
});
