import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { BackupHistory } from '../backup/backup-history.entity';
import { BackupIntegrityService } from '../backup/backup-integrity.service';
import { failureMessage } from '../backup/backup-runner.service';
import { BackupService } from '../backup/backup.service';
import { BackupMetadata, BackupStatus, DrillResult, DrillTable } from '../backup/backup.types';
import { BackupNotRestorableException, OperationCancelledError } from '../common/exceptions';
import { DatabaseInfoRepository } from '../database/database-info.repository';
import { BackupEvents } from '../events/backup-events';
import { HeldOperation, LockService } from '../lock/lock.service';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { RestoreRunner, withDatabase } from './restore-runner.service';

/** PostgreSQL's identifier limit, minus room for `_drill_` and the short id. */
const MAX_DATABASE_PREFIX = 63 - '_drill_'.length - 8;

export interface DrillStarted {
  id: string;
  backupId: string;
  database: string;
  status: 'running';
}

/**
 * Restore drills: a backup restored into a scratch database created for it
 * (`<db>_drill_<short id>`), its tables' row counts compared with those recorded at backup time,
 * the scratch database dropped however the drill ends, and the result stored on the backup.
 * The restore's duration is the evidence for the restore time (RTO) to expect.
 */
@Injectable()
export class DrillService implements OnModuleInit {
  private readonly logger = new Logger(DrillService.name);

  constructor(
    @InjectRepository(BackupHistory, PG_BACKUP_CONNECTION) private readonly history: Repository<BackupHistory>,
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    private readonly backups: BackupService,
    private readonly integrity: BackupIntegrityService,
    private readonly lock: LockService,
    private readonly database: DatabaseInfoRepository,
    private readonly runner: RestoreRunner,
    private readonly events: BackupEvents,
  ) {}

  onModuleInit(): void {
    // with the lock held no drill runs: a scratch database still there was left by a crashed instance
    this.lock.registerStaleSweeper(async () => {
      const { database } = await this.database.server();
      for (const name of await this.database.databasesMatching(scratchPattern(database))) {
        this.logger.warn(`dropping ${name}, left by an interrupted drill`);
        await this.database.dropDatabase(name);
      }
    });
  }

  /** Takes the lock and drills `backupId` in the background (202); the result lands on the backup. */
  async start(actor: string, backupId: string): Promise<DrillStarted> {
    const backup = await this.drillable(backupId);
    const operation = await this.lock.acquire('drill', randomUUID(), actor);
    const database = await this.scratchName(operation.operationId).catch(async (error: Error) => {
      await operation.release();
      throw error;
    });
    this.lock.runInBackground(operation, () => this.run(backup, operation, database).then(() => undefined));
    return { id: operation.operationId, backupId, database, status: 'running' };
  }

  /** Drills `backup` to the end (a scheduled drill); throws OperationInProgressException when busy. */
  async runNow(actor: string, backup: BackupHistory): Promise<DrillResult> {
    const operation = await this.lock.acquire('drill', randomUUID(), actor);
    return this.lock.runHeld(operation, async () => this.run(backup, operation, await this.scratchName(operation.operationId)));
  }

  /** The newest completed backup of the live database (not an upload, which may come from elsewhere). */
  async newestDrillable(): Promise<BackupHistory | null> {
    return this.history
      .createQueryBuilder('b')
      .where('b.status = :status', { status: BackupStatus.Completed })
      .andWhere(`b.type <> 'upload'`)
      .andWhere('b.damaged = false')
      .orderBy('b.created_at', 'DESC')
      .getOne();
  }

  private async run(backup: BackupHistory, operation: HeldOperation, database: string): Promise<DrillResult> {
    const started = Date.now();
    let restoreMs: number | null = null;
    let tables: DrillTable[] = [];
    let error: string | undefined;
    let created = false;
    try {
      const report = await this.integrity.check(backup, { full: false });
      if (!report.valid) throw new Error(`the backup is not intact: ${report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('; ')}`);
      await this.database.createScratchDatabase(database);
      created = true;
      const restoreStarted = Date.now();
      await this.runner.run(operation.operationId, backup, report.source!, operation, { scratchDatabase: database });
      restoreMs = Date.now() - restoreStarted;
      const expected = expectedCounts(backup.metadata);
      const actual = await this.database.countRowsIn(withDatabase(this.options.databaseUrl, database), expected.map((t) => t.name));
      tables = expected.map((t) => compareTable(t, actual[t.name] ?? null));
      const wrong = tables.filter((t) => !t.ok);
      if (wrong.length) error = `row counts differ from the backup's: ${wrong.map((t) => `${t.name} expected ${t.expected}, found ${t.actual ?? 'no table'}`).join('; ')}`;
    } catch (caught) {
      error = failureMessage(caught, operation.signal);
    } finally {
      if (created) {
        await this.database.dropDatabase(database).catch((dropError: Error) => {
          this.logger.error(`scratch database ${database} not dropped: ${dropError.message}`);
          error ??= `the scratch database ${database} could not be dropped: ${dropError.message}`;
        });
      }
    }
    const drill: DrillResult = {
      at: new Date(started).toISOString(),
      ok: error === undefined,
      durationMs: Date.now() - started,
      restoreMs,
      database,
      tables,
      ...(error === undefined ? {} : { error }),
    };
    if (operation.signal.reason instanceof OperationCancelledError) {
      // an admin stopped it: no verdict on the backup, no alert
      this.logger.warn(`drill of backup ${backup.id} cancelled`);
      return drill;
    }
    await this.history.update({ id: backup.id }, { drill });
    if (drill.ok) this.logger.log(`drill of backup ${backup.id} passed: restore ${restoreMs} ms, ${tables.length} tables`);
    else this.logger.error(`drill of backup ${backup.id} failed: ${error}`);
    this.events.emit(drill.ok ? 'drill.completed' : 'drill.failed', { backup: { ...backup, drill }, drill });
    return drill;
  }

  private async drillable(backupId: string): Promise<BackupHistory> {
    const backup = await this.backups.get(backupId);
    if (backup.status !== BackupStatus.Completed) {
      throw new BackupNotRestorableException(`backup ${backupId} is ${backup.status}; only a completed backup can be drilled`);
    }
    return backup;
  }

  private async scratchName(operationId: string): Promise<string> {
    const { database } = await this.database.server();
    return `${database.slice(0, MAX_DATABASE_PREFIX)}_drill_${operationId.slice(0, 8)}`;
  }
}

/** A regular expression matching exactly the scratch database names of `database`. */
function scratchPattern(database: string): string {
  return `^${database.slice(0, MAX_DATABASE_PREFIX).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}_drill_[0-9a-f]{8}$`;
}

/** Tables and rows recorded at backup time; backups from before exact counts hold only estimates. */
function expectedCounts(metadata: BackupMetadata | null): { name: string; rows: number; exact: boolean }[] {
  const estimated = new Set(metadata?.estimatedTables ?? Object.keys(metadata?.tables ?? {}));
  return Object.entries(metadata?.tables ?? {}).map(([name, rows]) => ({ name, rows, exact: !estimated.has(name) }));
}

/** An exact count must match; an estimate only needs the table to be there. */
function compareTable(expected: { name: string; rows: number; exact: boolean }, actual: number | null): DrillTable {
  const ok = actual !== null && (!expected.exact || actual === expected.rows);
  return { name: expected.name, expected: expected.rows, actual, exact: expected.exact, ok };
}
