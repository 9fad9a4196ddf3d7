import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { BackupStateException, OperationInProgressException } from '../common/exceptions';
import { failureMessage } from './backup-runner.service';
import { LockService } from '../lock/lock.service';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { BackupConfig, SettingsService } from '../settings/settings.service';
import { BackupHistory } from './backup-history.entity';
import { BackupIntegrityService, isDamaged } from './backup-integrity.service';
import { BackupStatus } from './backup.types';

const TICK_MS = 60_000;
/** Rows loaded at a time: a scrub of any history holds one page in memory, not every row. */
const SCRUB_PAGE = 100;

export interface ScrubResult {
  checked: number;
  /** Ids of the backups found without an intact copy. */
  damaged: string[];
  /** Ids of the backups the configured key does not open (left as they were). */
  unreadable: string[];
}

export function isScrubDue(config: Pick<BackupConfig, 'scrubIntervalHours' | 'lastScrubAt'>, now: Date): boolean {
  if (!config.scrubIntervalHours) return false;
  return !config.lastScrubAt || now.getTime() - config.lastScrubAt.getTime() >= config.scrubIntervalHours * 3_600_000;
}

/**
 * The periodic scrub (`scrubIntervalHours`): re-verifies every completed backup in full and marks
 * the ones without an intact copy `damaged`. Every instance checks once a minute whether one is
 * due; the operation lock and the shared `lastScrubAt` make one instance run it.
 */
@Injectable()
export class BackupScrubService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BackupScrubService.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectRepository(BackupHistory, PG_BACKUP_CONNECTION) private readonly backups: Repository<BackupHistory>,
    private readonly settings: SettingsService,
    private readonly lock: LockService,
    private readonly integrity: BackupIntegrityService,
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.runSchedules === false) return; // the CLI scrubs only when asked
    this.timer = setInterval(() => void this.runIfDue(), TICK_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async runIfDue(now = new Date()): Promise<ScrubResult | null> {
    try {
      if (!isScrubDue(await this.settings.get(), now)) return null;
      return await this.scrub('scheduler', { onlyIfDue: true });
    } catch (error) {
      // another operation holds the lock: the next tick tries again
      if (!(error instanceof OperationInProgressException)) this.logger.error(`scrub failed: ${(error as Error).message}`);
      return null;
    }
  }

  /** Verifies every completed backup now, under the lock. */
  async scrub(actor: string, { onlyIfDue = false } = {}): Promise<ScrubResult | null> {
    return this.lock.runExclusive('scrub', randomUUID(), actor, async (operation) => {
      // another instance may have scrubbed while this one waited for its tick
      if (onlyIfDue && !isScrubDue(await this.settings.get(), new Date())) return null;
      const result: ScrubResult = { checked: 0, damaged: [], unreadable: [] };
      const total = await this.backups.countBy({ status: BackupStatus.Completed });
      const stopIfAborted = () => {
        if (operation.signal.aborted) {
          throw new BackupStateException(`the scrub stopped (${failureMessage(null, operation.signal)}) after checking ${result.checked} of ${total} backups`);
        }
      };
      for await (const backup of this.completedInPages()) {
        stopIfAborted();
        const report = await this.integrity.check(backup, { full: true, signal: operation.signal });
        // a check cut short proves nothing: record no verdict without the lock
        stopIfAborted();
        result.checked++;
        if (report.valid) {
          await this.backups.update({ id: backup.id }, { damaged: false, unreadable: false, verifiedAt: new Date() });
          continue;
        }
        const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
        if (!isDamaged(report)) {
          // the configured key does not open it: a configuration problem to fix, not a damaged file
          await this.backups.update({ id: backup.id }, { unreadable: true });
          result.unreadable.push(backup.id);
          this.logger.error(`backup ${backup.id} cannot be checked with the configured key: ${failed.join('; ')}`);
          continue;
        }
        await this.backups.update({ id: backup.id }, { damaged: true, unreadable: false, error: `scrub ${new Date().toISOString()}: ${failed.join('; ')}` });
        result.damaged.push(backup.id);
        this.logger.error(`backup ${backup.id} is damaged: ${failed.join('; ')}`);
      }
      await this.settings.recordScrub(new Date());
      return result;
    });
  }

  /** The completed backups, oldest first, a page at a time (keyset: rows added or removed meanwhile shift nothing). */
  private async *completedInPages(): AsyncGenerator<BackupHistory> {
    let last: BackupHistory | undefined;
    for (;;) {
      const query = this.backups
        .createQueryBuilder('b')
        .where('b.status = :status', { status: BackupStatus.Completed })
        .orderBy('b.created_at', 'ASC')
        .addOrderBy('b.id', 'ASC')
        .take(SCRUB_PAGE);
      if (last) query.andWhere(`(date_trunc('milliseconds', b.created_at), b.id) > (:at, :id)`, { at: last.createdAt, id: last.id });
      const page = await query.getMany();
      yield* page;
      if (page.length < SCRUB_PAGE) return;
      last = page[page.length - 1];
    }
  }
}
