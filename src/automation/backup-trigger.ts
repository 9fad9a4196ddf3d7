import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { BackupService } from '../backup/backup.service';
import { BackupType, TriggerSummary } from '../backup/backup.types';
import { OperationInProgressException } from '../common/exceptions';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';

export const DEFAULT_TRIGGER_EVENT = 'pg-backup.trigger';
const DEFAULT_DEBOUNCE_MS = 10_000;
const DEFAULT_MAX_WAIT_MS = 5 * 60_000;
/** How long a batch waits when another operation holds the lock. */
const BUSY_RETRY_MS = 30_000;
const KEPT_DETAILS = 20;

export interface BackupTriggerRequest {
  /** Why a backup is wanted, e.g. `role_creation`; counted in the backup's origin. */
  reason: string;
  detail?: unknown;
}

/**
 * Backups on the host app's own events (a new admin account, an import finished…). Requests
 * are coalesced: everything within `debounceMs` of the previous request becomes one backup
 * (`type: "event"`), started `debounceMs` after the last request, or `maxWaitMs` after the first
 * under a steady stream. `request` returns at once and never throws.
 */
@Injectable()
export class BackupTrigger implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(BackupTrigger.name);
  private readonly debounceMs: number;
  private readonly maxWaitMs: number;
  private pending: TriggerSummary | null = null;
  private timer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  /** After finding the lock busy: no attempt before this (epoch ms), however many requests come. */
  private notBefore = 0;
  private stopped = false;

  constructor(
    private readonly backups: BackupService,
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    @Optional() private readonly emitter?: EventEmitter2,
  ) {
    this.debounceMs = options.trigger?.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.maxWaitMs = options.trigger?.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  }

  /** With `@nestjs/event-emitter` in the host app, `emitter.emit('pg-backup.trigger', { reason })` requests a backup too. */
  onModuleInit(): void {
    this.emitter?.on(this.options.trigger?.eventName ?? DEFAULT_TRIGGER_EVENT, (payload: Partial<BackupTriggerRequest> | undefined) =>
      this.request({ reason: payload?.reason ?? 'event', detail: payload?.detail }),
    );
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.pending) this.logger.warn(`shutting down: ${this.pending.requests} pending backup request(s) dropped`);
  }

  request(request: BackupTriggerRequest): void {
    try {
      if (this.stopped) return;
      const now = new Date().toISOString();
      const batch = (this.pending ??= { requests: 0, reasons: {}, firstAt: now, lastAt: now, details: [] });
      batch.requests++;
      batch.reasons[request.reason] = (batch.reasons[request.reason] ?? 0) + 1;
      batch.lastAt = now;
      if (request.detail !== undefined && batch.details.length < KEPT_DETAILS) batch.details.push(request.detail);
      this.arm(this.debounceMs);
    } catch (error) {
      this.logger.error(`backup request not recorded: ${(error as Error).message}`);
    }
  }

  /** Settles once no backup is waiting or running (for tests and a graceful CLI exit). */
  async idle(): Promise<void> {
    while (this.pending || this.running) await (this.running ?? new Promise((resolve) => setTimeout(resolve, 50)));
  }

  private arm(delayMs: number): void {
    if (this.running || !this.pending) return; // a running backup re-arms when it ends
    clearTimeout(this.timer);
    const deadline = Date.parse(this.pending.firstAt) + this.maxWaitMs;
    const delay = Math.max(Math.min(delayMs, deadline - Date.now()), this.notBefore - Date.now(), 0);
    this.timer = setTimeout(() => (this.running = this.fire()), delay);
  }

  private async fire(): Promise<void> {
    const batch = this.pending!;
    this.pending = null;
    try {
      const reasons = Object.entries(batch.reasons).map(([reason, count]) => `${reason} ×${count}`).join(', ');
      await this.backups.runNow('trigger', { notes: `event backup: ${reasons}`, tags: ['event'] }, BackupType.Event, { trigger: batch });
    } catch (error) {
      if (error instanceof OperationInProgressException) {
        this.pending = this.pending ? merge(batch, this.pending) : batch;
        this.notBefore = Date.now() + BUSY_RETRY_MS;
        this.logger.log(`event backup waits: ${error.message}`);
      } else {
        this.logger.error(`event backup could not start: ${(error as Error).message}`);
      }
    } finally {
      this.running = null;
      if (!this.stopped) this.arm(this.debounceMs);
    }
  }
}

/** One batch from an older and a newer one. */
function merge(older: TriggerSummary, newer: TriggerSummary): TriggerSummary {
  const reasons = { ...older.reasons };
  for (const [reason, count] of Object.entries(newer.reasons)) reasons[reason] = (reasons[reason] ?? 0) + count;
  return {
    requests: older.requests + newer.requests,
    reasons,
    firstAt: older.firstAt,
    lastAt: newer.lastAt,
    details: [...older.details, ...newer.details].slice(0, KEPT_DETAILS),
  };
}
