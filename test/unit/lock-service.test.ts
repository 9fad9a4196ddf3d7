import { describe, it, beforeEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '@nestjs/common';
import { OperationCancelledError, OperationInProgressException } from '../../src/common/exceptions';
import { AdvisoryLockRepository, HeldAdvisoryLock } from '../../src/lock/advisory-lock.repository';
import { advisoryLockKey, AdvisoryLockKey, LockPurpose, OPERATION_LOCK_ROW } from '../../src/lock/lock.constants';
import { DatabaseSignals } from '../../src/database/database-signals';
import { LockService } from '../../src/lock/lock.service';
import { OperationLock } from '../../src/lock/operation-lock.entity';
import { PgBackupOptions } from '../../src/pg-backup.options';
import { deferred, within } from './support/fake-process';
import { FakeRepository } from './support/fake-repository';

Logger.overrideLogger(false);

const options = { schema: 'backup_admin' } as PgBackupOptions;
const KEY = advisoryLockKey('backup_admin', LockPurpose.Operation);
const OP_ID = '6f1c1c2e-0000-4000-8000-000000000001';

function fakeHeld(pid: number, log: string[] = []) {
  const lost = new AbortController();
  const release = mock.fn(async () => {
    log.push('advisory-release');
  });
  const held: HeldAdvisoryLock = { pid, lost: lost.signal, release };
  return { held, lost, release };
}

function lockRow(holderPid: number): OperationLock {
  return {
    name: OPERATION_LOCK_ROW,
    type: 'backup',
    operationId: OP_ID,
    startedBy: 'alice',
    startedAt: new Date('2025-06-01T12:00:00Z'),
    bytesDone: 4096,
    irrevocable: false,
    cancelRequested: false,
    holderPid,
    instanceId: 'another-instance',
    updatedAt: new Date('2025-06-01T12:00:05Z'),
  };
}

function harness() {
  const log: string[] = [];
  const lock = fakeHeld(101, log);
  const rows = new FakeRepository<OperationLock>('name');
  rows.upsert.mock.mockImplementation(async (entity: OperationLock) => {
    log.push('upsert');
    rows.rows.splice(0, rows.rows.length, { ...entity });
  });
  const advisory = {
    tryAcquire: mock.fn(async (_key: AdvisoryLockKey): Promise<HeldAdvisoryLock | null> => lock.held),
    holderPid: mock.fn(async (_key: AdvisoryLockKey): Promise<number | null> => null),
  };
  const signals = { onSignal: mock.fn(), send: mock.fn(async () => undefined) };
  const service = new LockService(advisory as unknown as AdvisoryLockRepository, rows.asRepository(), options, signals as unknown as DatabaseSignals);
  return { service, advisory, rows, lock, log, signals };
}

describe('LockService.acquire', () => {
  let h: ReturnType<typeof harness>;

  beforeEach(() => {
    h = harness();
  });

  it('throws OperationInProgressException (409) when the advisory lock is taken, and writes no row', async () => {
    h.advisory.tryAcquire.mock.mockImplementation(async () => null);
    h.advisory.holderPid.mock.mockImplementation(async () => 777);
    h.rows.seed(lockRow(777));

    await assert.rejects(h.service.acquire('restore', OP_ID, 'bob'), (error: unknown) => {
      assert.ok(error instanceof OperationInProgressException);
      assert.equal(error.getStatus(), 409);
      assert.match(error.message, new RegExp(`backup ${OP_ID} started by alice`), 'names the holder');
      return true;
    });
    assert.equal(h.rows.upsert.mock.callCount(), 0);
    assert.equal(h.rows.delete.mock.callCount(), 0, 'the holder row is left alone');
  });

  it('takes the advisory lock for the schema-derived key', async () => {
    await h.service.acquire('backup', OP_ID, 'alice');
    assert.deepEqual(h.advisory.tryAcquire.mock.calls[0].arguments[0], KEY);
  });

  it('runs the registered stale sweepers, then clears the old row, before writing its own row', async () => {
    h.service.registerStaleSweeper(async () => {
      h.log.push('sweeper-1');
    });
    h.service.registerStaleSweeper(async () => {
      h.log.push('sweeper-2');
    });
    h.rows.delete.mock.mockImplementation(async () => {
      h.log.push('delete-row');
      return { affected: 1 };
    });

    const operation = await h.service.acquire('backup', OP_ID, 'alice');

    assert.deepEqual(h.log, ['sweeper-1', 'sweeper-2', 'delete-row', 'upsert']);
    assert.equal(operation.operationId, OP_ID);
    assert.equal(operation.type, 'backup');
    assert.equal(operation.signal.aborted, false);
    const [row, conflict] = h.rows.upsert.mock.calls[0].arguments;
    assert.deepEqual(conflict, ['name']);
    assert.equal(row.name, OPERATION_LOCK_ROW);
    assert.equal(row.holderPid, 101, 'the row names the pid holding the advisory lock');
    assert.equal(row.operationId, OP_ID);
    assert.equal(row.startedBy, 'alice');
    assert.equal(h.lock.release.mock.callCount(), 0, 'the lock stays held');
  });

  it('releases the advisory lock when writing the row fails', async () => {
    h.rows.upsert.mock.mockImplementation(async () => {
      throw new Error('permission denied for table operation_lock');
    });

    await assert.rejects(h.service.acquire('backup', OP_ID, 'alice'), /permission denied/);
    assert.equal(h.lock.release.mock.callCount(), 1);
  });

  it('releases the advisory lock when a stale sweeper fails', async () => {
    h.service.registerStaleSweeper(async () => {
      throw new Error('sweeper exploded');
    });

    await assert.rejects(h.service.acquire('backup', OP_ID, 'alice'), /sweeper exploded/);
    assert.equal(h.lock.release.mock.callCount(), 1);
    assert.equal(h.rows.upsert.mock.callCount(), 0);
  });

  it('aborts the operation signal when the connection holding the lock is lost', async () => {
    const operation = await h.service.acquire('backup', OP_ID, 'alice');
    h.lock.lost.abort(new Error('lost the connection holding the operation lock'));
    assert.equal(operation.signal.aborted, true);
    assert.match((operation.signal.reason as Error).message, /lost the connection/);
  });

  it('hands back an aborted operation when the lock connection was lost while acquiring', async () => {
    h.service.registerStaleSweeper(async () => {
      h.lock.lost.abort(new Error('lost the connection holding the operation lock: Connection terminated'));
    });

    const operation = await h.service.acquire('backup', OP_ID, 'alice');

    assert.equal(operation.signal.aborted, true, 'the operation must not run without the lock');
    assert.match((operation.signal.reason as Error).message, /lost the connection/);
  });

  it('release() deletes its own row, then releases the advisory lock, once', async () => {
    const operation = await h.service.acquire('backup', OP_ID, 'alice');
    h.log.length = 0;
    h.rows.delete.mock.resetCalls();

    await operation.release();
    await operation.release();

    assert.equal(h.rows.delete.mock.callCount(), 1);
    assert.deepEqual(h.rows.delete.mock.calls[0].arguments[0], { name: OPERATION_LOCK_ROW, holderPid: 101 });
    assert.equal(h.rows.rows.length, 0);
    assert.equal(h.lock.release.mock.callCount(), 1);
  });

  it('release() still releases the advisory lock when deleting the row fails', async () => {
    const operation = await h.service.acquire('backup', OP_ID, 'alice');
    h.rows.delete.mock.mockImplementation(async () => {
      throw new Error('connection reset');
    });

    await operation.release();

    assert.equal(h.lock.release.mock.callCount(), 1);
  });

  it('reportBytes writes progress at most once a second, on its own row only', async () => {
    const operation = await h.service.acquire('backup', OP_ID, 'alice');

    operation.reportBytes(1000);
    operation.reportBytes(2000);
    operation.reportBytes(3000);

    assert.equal(h.rows.update.mock.callCount(), 1);
    const [where, changes] = h.rows.update.mock.calls[0].arguments;
    assert.deepEqual(where, { name: OPERATION_LOCK_ROW, holderPid: 101 });
    assert.equal(changes.bytesDone, 1000);
  });
});

describe('LockService cancel requests', () => {
  const settled = async () => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  it('a cancel signal (which any database role can send) acts only when the lock row carries the request', async () => {
    const h = harness();
    const onSignal = h.signals.onSignal.mock.calls[0].arguments[0] as (signal: { kind: string }) => void;
    const operation = await h.service.acquire('backup', OP_ID, 'alice');

    onSignal({ kind: 'cancel' });
    await settled();
    assert.equal(operation.signal.aborted, false, 'no request on the row: nothing happens');

    h.rows.rows[0].cancelRequested = true;
    onSignal({ kind: 'cancel' });
    await settled();
    assert.equal(operation.signal.aborted, true);
    assert.ok(operation.signal.reason instanceof OperationCancelledError);
  });

  it('markIrrevocable fails, cancelled, when the request reached the row first', async () => {
    const h = harness();
    const operation = await h.service.acquire('restore', OP_ID, 'alice');
    h.rows.rows[0].cancelRequested = true;
    await assert.rejects(operation.markIrrevocable(), OperationCancelledError);
    assert.equal(operation.signal.aborted, true);
    assert.equal(h.rows.rows[0].irrevocable, false);
  });
});

describe('LockService.current', () => {
  it('reports locked with no operation when the row was written by another holder', async () => {
    const h = harness();
    h.advisory.holderPid.mock.mockImplementation(async () => 4321);
    h.rows.seed(lockRow(1234));

    assert.deepEqual(await h.service.current(), { locked: true, operation: null });
  });

  it('reports locked with no operation when there is no row', async () => {
    const h = harness();
    h.advisory.holderPid.mock.mockImplementation(async () => 4321);

    assert.deepEqual(await h.service.current(), { locked: true, operation: null });
  });

  it('reports unlocked when nobody holds the advisory lock, even if a stale row exists', async () => {
    const h = harness();
    h.rows.seed(lockRow(1234));

    assert.deepEqual(await h.service.current(), { locked: false, operation: null });
    assert.deepEqual(h.advisory.holderPid.mock.calls[0].arguments[0], KEY);
  });

  it('describes the operation when the row belongs to the pid holding the lock', async () => {
    const h = harness();
    h.advisory.holderPid.mock.mockImplementation(async () => 1234);
    h.rows.seed(lockRow(1234));

    assert.deepEqual(await h.service.current(), {
      locked: true,
      operation: { type: 'backup', id: OP_ID, startedBy: 'alice', startedAt: new Date('2025-06-01T12:00:00Z'), bytesDone: 4096, irrevocable: false },
    });
  });
});

describe('LockService.runInBackground', () => {
  it('releases the lock when the work throws', async () => {
    const h = harness();
    const operation = await h.service.acquire('backup', OP_ID, 'alice');
    const released = deferred();
    h.lock.release.mock.mockImplementation(async () => released.resolve());

    h.service.runInBackground(operation, async () => {
      throw new Error('pg_dump exploded');
    });

    await within(released.promise, 2000, 'the lock release');
    assert.equal(h.lock.release.mock.callCount(), 1);
    assert.equal(h.rows.rows.length, 0, 'the lock row is cleared');
  });

  it('releases the lock when the work succeeds', async () => {
    const h = harness();
    const operation = await h.service.acquire('backup', OP_ID, 'alice');
    const released = deferred();
    h.lock.release.mock.mockImplementation(async () => released.resolve());
    let ran = false;

    h.service.runInBackground(operation, async () => {
      ran = true;
    });

    await within(released.promise, 2000, 'the lock release');
    assert.equal(ran, true);
  });
});

describe('LockService.beforeApplicationShutdown', { timeout: 10_000 }, () => {
  it('aborts the signals of running operations and waits for them to finish and release', async () => {
    const h = harness();
    const operation = await h.service.acquire('backup', OP_ID, 'alice');
    let sawAbort: unknown;
    h.service.runInBackground(
      operation,
      () =>
        new Promise<void>((_, reject) => {
          operation.signal.addEventListener('abort', () => {
            sawAbort = operation.signal.reason;
            setImmediate(() => reject(operation.signal.reason));
          });
        }),
    );
    assert.equal(operation.signal.aborted, false);

    await within(h.service.beforeApplicationShutdown(), 5000, 'the shutdown');

    assert.equal(operation.signal.aborted, true);
    assert.match((sawAbort as Error).message, /shutting down/);
    assert.equal(h.lock.release.mock.callCount(), 1, 'shutdown waited for the release');
  });

  it('returns at once when nothing runs', async () => {
    const h = harness();
    await within(h.service.beforeApplicationShutdown(), 1000, 'the shutdown');
  });
});

describe('LockService.onApplicationBootstrap', () => {
  it('runs the sweepers under the lock and releases it, even when a sweeper fails', async () => {
    const h = harness();
    h.service.registerStaleSweeper(async () => {
      throw new Error('cannot read backup_history');
    });

    await h.service.onApplicationBootstrap();

    assert.equal(h.lock.release.mock.callCount(), 1);
  });

  it('sweeps nothing when another instance holds the lock', async () => {
    const h = harness();
    h.advisory.tryAcquire.mock.mockImplementation(async () => null);
    const sweeper = mock.fn(async () => undefined);
    h.service.registerStaleSweeper(sweeper);
    h.rows.seed(lockRow(999));

    await h.service.onApplicationBootstrap();

    assert.equal(sweeper.mock.callCount(), 0);
    assert.equal(h.rows.rows.length, 1, "the running operation's row is kept");
  });
});
