import { Inject, Injectable, Logger, BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { OperationInProgressException } from '../common/exceptions';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { AdvisoryLockRepository, HeldAdvisoryLock } from './advisory-lock.repository';
import { advisoryLockKey, AdvisoryLockKey, LockPurpose, OPERATION_LOCK_ROW } from './lock.constants';
import { OperationLock, OperationType } from './operation-lock.entity';

const PROGRESS_WRITE_INTERVAL_MS = 1000;
const SHUTDOWN_WAIT_MS = 30_000;

export interface OperationHandle {
  readonly type: OperationType;
  readonly operationId: string;
  readonly startedBy: string;
  /** Aborted when the lock is lost or the server shuts down: the operation must stop. */
  readonly signal: AbortSignal;
  reportBytes(bytesDone: number): void;
}

/** What `acquire` returns: the caller must `runInBackground` it or `release` it. */
export interface HeldOperation extends OperationHandle {
  abort(reason: Error): void;
  release(): Promise<void>;
}

export interface CurrentOperation {
  locked: boolean;
  operation: { type: OperationType; id: string; startedBy: string; startedAt: Date; bytesDone: number } | null;
}

/** Runs with the lock held before a new operation starts: whatever is still marked running was interrupted. */
export type StaleOperationSweeper = () => Promise<void>;

/**
 * One backup or restore at a time across every instance: a session-level advisory lock on a
 * dedicated connection, plus an `operation_lock` row that shows who holds it.
 */
@Injectable()
export class LockService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LockService.name);
  private readonly key: AdvisoryLockKey;
  private readonly instanceId = randomUUID();
  private readonly sweepers: StaleOperationSweeper[] = [];
  private readonly running = new Map<HeldOperation, Promise<void>>();

  constructor(
    private readonly advisoryLocks: AdvisoryLockRepository,
    @InjectRepository(OperationLock, PG_BACKUP_CONNECTION) private readonly rows: Repository<OperationLock>,
    @Inject(PG_BACKUP_OPTIONS) options: PgBackupOptions,
  ) {
    this.key = advisoryLockKey(options.schema, LockPurpose.Operation);
  }

  registerStaleSweeper(sweeper: StaleOperationSweeper): void {
    this.sweepers.push(sweeper);
  }

  /** Clears what a crashed instance left, if no operation runs now. */
  async onApplicationBootstrap(): Promise<void> {
    const held = await this.advisoryLocks.tryAcquire(this.key);
    if (!held) return;
    try {
      await this.sweep();
    } catch (error) {
      this.logger.error(`clearing interrupted operations failed: ${(error as Error).message}`);
    } finally {
      await held.release();
    }
  }

  /**
   * Takes the lock for a new operation, or throws OperationInProgressException (409).
   * The caller must hand the handle to `runInBackground` or `release` it.
   */
  async acquire(type: OperationType, operationId: string, startedBy: string): Promise<HeldOperation> {
    const held = await this.advisoryLocks.tryAcquire(this.key);
    if (!held) throw new OperationInProgressException(await this.describeHolder());
    try {
      await this.sweep();
      const now = new Date();
      await this.rows.upsert(
        {
          name: OPERATION_LOCK_ROW,
          type,
          operationId,
          startedBy,
          startedAt: now,
          bytesDone: 0,
          holderPid: held.pid,
          instanceId: this.instanceId,
          updatedAt: now,
          irrevocable: false,
        },
        ['name'],
      );
    } catch (error) {
      await held.release();
      throw error;
    }
    return this.handle(type, operationId, startedBy, held);
  }

  /** Runs short `work` (a delete, a cleanup) under the lock, released however it ends. */
  async runExclusive<T>(type: OperationType, operationId: string, startedBy: string, work: () => Promise<T>): Promise<T> {
    const operation = await this.acquire(type, operationId, startedBy);
    try {
      return await work();
    } finally {
      await operation.release();
    }
  }

  /** Runs `work` after the response has gone; the lock is released however it ends. */
  runInBackground(operation: HeldOperation, work: () => Promise<void>): void {
    const done = work()
      .catch((error) => this.logger.error(`${operation.type} ${operation.operationId} failed: ${(error as Error).message}`))
      .finally(() => operation.release())
      .finally(() => this.running.delete(operation));
    this.running.set(operation, done);
  }

  async current(): Promise<CurrentOperation> {
    const pid = await this.advisoryLocks.holderPid(this.key);
    if (pid === null) return { locked: false, operation: null };
    const row = await this.rows.findOneBy({ name: OPERATION_LOCK_ROW });
    if (!row || row.holderPid !== pid) return { locked: true, operation: null };
    return {
      locked: true,
      operation: { type: row.type, id: row.operationId, startedBy: row.startedBy, startedAt: row.startedAt, bytesDone: row.bytesDone },
    };
  }

  /** Stops running operations (they record themselves failed) and waits for them, so no lock or partial file is left. */
  async beforeApplicationShutdown(): Promise<void> {
    const running = [...this.running];
    for (const [operation] of running) operation.abort(new Error('the server is shutting down'));
    const timeout = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_WAIT_MS).unref());
    await Promise.race([Promise.all(running.map(([, done]) => done)), timeout]);
  }

  private handle(type: OperationType, operationId: string, startedBy: string, held: HeldAdvisoryLock): HeldOperation {
    const abort = new AbortController();
    // the connection may have broken already, while the lock was being taken
    if (held.lost.aborted) abort.abort(held.lost.reason);
    else held.lost.addEventListener('abort', () => abort.abort(held.lost.reason), { once: true });
    let lastWrite = 0;
    let released = false;
    return {
      type,
      operationId,
      startedBy,
      signal: abort.signal,
      abort: (reason: Error) => abort.abort(reason),
      reportBytes: (bytesDone: number) => {
        const now = Date.now();
        if (now - lastWrite < PROGRESS_WRITE_INTERVAL_MS) return;
        lastWrite = now;
        this.rows
          .update({ name: OPERATION_LOCK_ROW, holderPid: held.pid }, { bytesDone, updatedAt: new Date(now) })
          .catch((error) => this.logger.warn(`progress not recorded: ${(error as Error).message}`));
      },
      release: async () => {
        if (released) return;
        released = true;
        try {
          await this.rows.delete({ name: OPERATION_LOCK_ROW, holderPid: held.pid });
        } catch (error) {
          this.logger.warn(`lock row not cleared: ${(error as Error).message}`);
        } finally {
          await held.release();
        }
      },
    };
  }

  private async sweep(): Promise<void> {
    for (const sweeper of this.sweepers) await sweeper();
    await this.rows.delete({ name: OPERATION_LOCK_ROW });
  }

  private async describeHolder(): Promise<string | undefined> {
    const current = await this.current().catch(() => null);
    const op = current?.operation;
    return op ? `${op.type} ${op.id} started by ${op.startedBy} at ${op.startedAt.toISOString()}` : undefined;
  }
}
