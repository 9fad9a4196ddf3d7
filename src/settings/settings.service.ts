import { BadRequestException, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { DatabaseSignals } from '../database/database-signals';
import { whereDefined } from '../database/where';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { Compression } from '../pipeline/backup-format';
import { ScheduleTick, TickKind } from '../automation/schedule-tick.entity';
import { BackupConfigRow, RetentionPolicy } from './backup-config.entity';
import { nextTick, nextTicks, ScheduleSpec } from './cron';
import { UpdateConfigDto } from './dto/update-config.dto';

const CONFIG_ROW_ID = 1;
const UPCOMING_RUNS = 5;

/** The outcome of the newest scheduled tick of a kind. */
export interface TickReport {
  scheduledAt: Date;
  outcome: ScheduleTick['outcome'];
  backupId: string | null;
  detail: string | null;
  finishedAt: Date | null;
}

export interface BackupConfig {
  enabled: boolean;
  schedule: string | null;
  intervalMinutes: number | null;
  timezone: string | null;
  retention: RetentionPolicy;
  archiveAfterDays: number | null;
  compression: Compression;
  verifyAfterCreate: boolean;
  scrubIntervalHours: number | null;
  drillSchedule: string | null;
  /** Read-only: when a scrub last finished. */
  lastScrubAt: Date | null;
  /** Read-only: when the schedule fires next, if enabled, and the runs after it. */
  nextRunAt: Date | null;
  nextRuns: Date[];
  /** Read-only: the newest scheduled backup tick and what came of it. */
  lastTick: TickReport | null;
  /** Read-only: when the next drill runs, if enabled, and how the last scheduled one ended. */
  drillNextRunAt: Date | null;
  lastDrillTick: TickReport | null;
  updatedAt: Date;
  updatedBy: string | null;
}

const DEFAULT_RETENTION: RetentionPolicy = { keepLast: 7, maxAgeDays: 0, daily: 7, weekly: 4, monthly: 6 };

/**
 * The persisted configuration row; `BACKUP_SCHEDULE` only seeds it on first start. A change is
 * announced to every instance (LISTEN/NOTIFY), whose schedulers re-arm at once.
 */
@Injectable()
export class SettingsService implements OnModuleInit {
  constructor(
    @InjectRepository(BackupConfigRow, PG_BACKUP_CONNECTION) private readonly rows: Repository<BackupConfigRow>,
    @InjectRepository(ScheduleTick, PG_BACKUP_CONNECTION) private readonly ticks: Repository<ScheduleTick>,
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    private readonly signals: DatabaseSignals,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.rows
      .createQueryBuilder()
      .insert()
      .values({
        id: CONFIG_ROW_ID,
        enabled: Boolean(this.options.initialSchedule),
        schedule: this.options.initialSchedule ?? null,
        intervalMinutes: null,
        timezone: null,
        drillSchedule: null,
        retention: DEFAULT_RETENTION,
        archiveAfterDays: null,
        compression: this.options.initialCompression ?? 'zstd',
        verifyAfterCreate: false,
        scrubIntervalHours: null,
        lastScrubAt: null,
        updatedAt: new Date(),
        updatedBy: null,
      })
      .orIgnore()
      .execute();
  }

  async get(): Promise<BackupConfig> {
    return this.present(await this.rows.findOneByOrFail({ id: CONFIG_ROW_ID }));
  }

  async update(actor: string, dto: UpdateConfigDto): Promise<BackupConfig> {
    const row = await this.rows.findOneByOrFail({ id: CONFIG_ROW_ID });
    const changes: Partial<BackupConfigRow> = { ...whereDefined(dto), updatedAt: new Date(), updatedBy: actor };
    if (dto.retention) changes.retention = { ...dto.retention };
    const next = { ...row, ...changes };
    if (next.schedule && next.intervalMinutes) {
      throw new BadRequestException('set either schedule (cron) or intervalMinutes, not both; send null to clear the other');
    }
    // only the changed columns: saving the row read above would write back a lastScrubAt recorded meanwhile
    await this.rows.update({ id: CONFIG_ROW_ID }, changes as Parameters<Repository<BackupConfigRow>['update']>[1]);
    await this.signals.send({ kind: 'config' });
    return this.present(await this.rows.findOneByOrFail({ id: CONFIG_ROW_ID }));
  }

  /** Records a finished scrub (read by every instance to decide when the next is due). */
  async recordScrub(at: Date): Promise<void> {
    await this.rows.update({ id: CONFIG_ROW_ID }, { lastScrubAt: at });
  }

  private async present(row: BackupConfigRow): Promise<BackupConfig> {
    const now = new Date();
    const backups = backupSchedule(row);
    const drills = drillSchedule(row);
    const nextRuns = backups ? nextTicks(backups, now, UPCOMING_RUNS) : [];
    return {
      enabled: row.enabled,
      schedule: row.schedule,
      intervalMinutes: row.intervalMinutes,
      timezone: row.timezone,
      retention: row.retention,
      archiveAfterDays: row.archiveAfterDays,
      compression: row.compression,
      verifyAfterCreate: row.verifyAfterCreate,
      scrubIntervalHours: row.scrubIntervalHours,
      drillSchedule: row.drillSchedule,
      lastScrubAt: row.lastScrubAt,
      nextRunAt: nextRuns[0] ?? null,
      nextRuns,
      lastTick: await this.lastTick('backup'),
      drillNextRunAt: drills ? nextTick(drills, now) : null,
      lastDrillTick: await this.lastTick('drill'),
      updatedAt: row.updatedAt,
      updatedBy: row.updatedBy,
    };
  }

  private async lastTick(kind: TickKind): Promise<TickReport | null> {
    const tick = await this.ticks.findOne({ where: { kind }, order: { scheduledAt: 'DESC' } });
    return tick && { scheduledAt: tick.scheduledAt, outcome: tick.outcome, backupId: tick.backupId, detail: tick.detail, finishedAt: tick.finishedAt };
  }
}

/** When scheduled backups run, or null when they are off. */
export function backupSchedule(config: Pick<BackupConfig, 'enabled' | 'schedule' | 'intervalMinutes' | 'timezone'>): ScheduleSpec | null {
  if (!config.enabled || (!config.schedule && !config.intervalMinutes)) return null;
  return { schedule: config.schedule, intervalMinutes: config.intervalMinutes, timezone: config.timezone };
}

/** When scheduled drills run, or null when they are off (they follow `enabled` too). */
export function drillSchedule(config: Pick<BackupConfig, 'enabled' | 'drillSchedule' | 'timezone'>): ScheduleSpec | null {
  if (!config.enabled || !config.drillSchedule) return null;
  return { schedule: config.drillSchedule, intervalMinutes: null, timezone: config.timezone };
}
