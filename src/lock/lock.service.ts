import { Inject, Injectable, Logger, BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { OperationCancelledError, OperationInProgressException, OperationNotCancellableException } from '../common/exceptions';
import { DatabaseSignals } from '../database/database-signals';
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
  /** Aborted when the lock is lost, the server shuts down or an admin cancels: the operation must stop. */
  readonly signal: AbortSignal;
  reportBytes(bytesDone: number): void;
  /** From here on a cancel request is refused (a restore about to COMMIT). Throws if already aborted. */
  markIrrevocable(): Promise<void>;
}

/** What `acquire` returns: the caller must `runInBackground` it or `release` it. */
export interface HeldOperation extends OperationHandle {
  abort(reason: Error): void;
  release(): Promise<void>;
}

export interface CurrentOperation {
  locked: boolean;
  operation: { type: OperationType; id: string; startedBy: string; startedAt: Date; bytesDone: number; irrevocable: boolean } | null;
}

export interface CancelResult {
  operation: NonNullable<CurrentOperation['operation']>;
  /** The operation ended (and freed the lock) within the wait; false: it is still stopping. */
  stopped: boolean;
}

/** Operations long enough to be worth stopping; the others end on their own in moments. */
const CANCELLABLE: readonly OperationType[] = ['backup', 'restore', 'drill', 'scrub'];
const CANCEL_WAIT_MS = 15_000;

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
  private readonly running = new Map<HeldOperation, Promise<unknown>>();
  /** Operations this instance holds the lock for, by id: what a cancel signal can reach. */
  private readonly held = new Map<string, { cancel(): void }>();

  constructor(
    private readonly advisoryLocks: AdvisoryLockRepository,
    @InjectRepository(OperationLock, PG_BACKUP_CONNECTION) private readonly rows: Repository<OperationLock>,
    @Inject(PG_BACKUP_OPTIONS) options: PgBackupOptions,
    private readonly signals: DatabaseSignals,
  ) {
    this.key = advisoryLockKey(options.schema, LockPurpose.Operation);
    signals.onSignal((signal) => {
      if (signal.kind === 'cancel') void this.readCancelRequests();
    });
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
          cancelRequested: false,
        },
        ['name'],
      );
    } catch (error) {
      await held.release();
      throw error;
    }
    return this.handle(type, operationId, startedBy, held);
  }

  /** Runs `work` (a delete, a cleanup, a scrub) under the lock, released however it ends. */
  async runExclusive<T>(type: OperationType, operationId: string, startedBy: string, work: (operation: OperationHandle) => Promise<T>): Promise<T> {
    const operation = await this.acquire(type, operationId, startedBy);
    return this.runHeld(operation, () => work(operation));
  }

  /** Runs `work` with `operation`'s lock, released however it ends; shutdown waits for it. */
  async runHeld<T>(operation: HeldOperation, work: () => Promise<T>): Promise<T> {
    const done = (async () => {
      try {
        return await work();
      } finally {
        await operation.release();
      }
    })();
    this.running.set(operation, done.catch(() => undefined));
    try {
      return await done;
    } finally {
      this.running.delete(operation);
    }
  }

  /** Runs `work` after the response has gone; the lock is released however it ends. */
  runInBackground(operation: HeldOperation, work: () => Promise<void>): void {
    this.runHeld(operation, work).catch((error) => this.logger.error(`${operation.type} ${operation.operationId} failed: ${(error as Error).message}`));
  }

  /**
   * Stops the running operation on whichever instance runs it (a NOTIFY reaches them all) and
   * waits a while for it to free the lock. Refused (409) when nothing runs, for short operations,
   * and for a restore past its point of no return.
   */
  async cancel(): Promise<CancelResult> {
    const { operation } = await this.current();
    if (!operation) throw new OperationNotCancellableException('no operation is running');
    if (!CANCELLABLE.includes(operation.type)) {
      throw new OperationNotCancellableException(`a ${operation.type} cannot be cancelled; it ends on its own in moments`);
    }
    if (operation.irrevocable) {
      throw new OperationNotCancellableException(`${operation.type} ${operation.id} is committing, past its point of no return; it can no longer be cancelled`);
    }
    // the request is the row's flag (only this role can write it), set only before the point of no return
    const { affected } = await this.rows.update({ name: OPERATION_LOCK_ROW, operationId: operation.id, irrevocable: false }, { cancelRequested: true });
    if (!affected) {
      const now = (await this.current()).operation;
      if (now?.id === operation.id) {
        throw new OperationNotCancellableException(`${operation.type} ${operation.id} is committing, past its point of no return; it can no longer be cancelled`);
      }
      return { operation, stopped: true };
    }
    this.held.get(operation.id)?.cancel();
    await this.signals.send({ kind: 'cancel' });
    const deadline = Date.now() + CANCEL_WAIT_MS;
    while (Date.now() < deadline) {
      const now = await this.current();
      if (!now.locked || (now.operation && now.operation.id !== operation.id)) return { operation, stopped: true };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { operation, stopped: false };
  }

  async current(): Promise<CurrentOperation> {
    const pid = await this.advisoryLocks.holderPid(this.key);
    if (pid === null) return { locked: false, operation: null };
    const row = await this.rows.findOneBy({ name: OPERATION_LOCK_ROW });
    if (!row || row.holderPid !== pid) return { locked: true, operation: null };
    return {
      locked: true,
      operation: {
        type: row.type,
        id: row.operationId,
        startedBy: row.startedBy,
        startedAt: row.startedAt,
        bytesDone: row.bytesDone,
        irrevocable: row.irrevocable,
      },
    };
  }

  /** Stops running operations (they record themselves failed) and waits for them, so no lock or partial file is left. */
  async beforeApplicationShutdown(): Promise<void> {
    const running = [...this.running];
    for (const [operation] of running) operation.abort(new Error('the process is shutting down'));
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
    let irrevocable = false;
    this.held.set(operationId, {
      cancel: () => {
        // the request reaches the holder twice (directly and through NOTIFY): act once
        if (irrevocable || abort.signal.aborted) return;
        this.logger.warn(`${type} ${operationId} cancelled`);
        abort.abort(new OperationCancelledError());
      },
    });
    return {
      type,
      operationId,
      startedBy,
      signal: abort.signal,
      abort: (reason: Error) => abort.abort(reason),
      markIrrevocable: async () => {
        abort.signal.throwIfAborted();
        irrevocable = true;
        // atomic with `cancel()`'s update: whichever writes the row first wins
        const { affected } = await this.rows.update({ name: OPERATION_LOCK_ROW, holderPid: held.pid, cancelRequested: false }, { irrevocable: true });
        if (!affected) {
          irrevocable = false;
          if (!abort.signal.aborted) abort.abort(new OperationCancelledError());
          throw abort.signal.reason;
        }
      },
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
        this.held.delete(operationId);
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

  /** A cancel signal names nothing: the holder checks its own row for a request. */
  private async readCancelRequests(): Promise<void> {
    for (const [operationId, operation] of this.held) {
      try {
        if (await this.rows.findOneBy({ name: OPERATION_LOCK_ROW, operationId, cancelRequested: true })) operation.cancel();
      } catch (error) {
        this.logger.warn(`cancel request of ${operationId} not read: ${(error as Error).message}`);
      }
    }
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
