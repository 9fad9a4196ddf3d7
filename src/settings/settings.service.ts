import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { BackupConfigRow, RetentionPolicy } from './backup-config.entity';
import { nextRun } from './cron';
import { UpdateConfigDto } from './dto/update-config.dto';
import { Compression } from '../pipeline/backup-format';

const CONFIG_ROW_ID = 1;

export interface BackupConfig {
  enabled: boolean;
  schedule: string | null;
  retention: RetentionPolicy;
  archiveAfterDays: number | null;
  compression: Compression;
  verifyAfterCreate: boolean;
  scrubIntervalHours: number | null;
  /** Read-only: when a scrub last finished. */
  lastScrubAt: Date | null;
  /** Read-only: when the schedule fires next, if enabled. */
  nextRunAt: Date | null;
  updatedAt: Date;
  updatedBy: string | null;
}

const DEFAULT_RETENTION: RetentionPolicy = { keepLast: 7, maxAgeDays: 0, daily: 7, weekly: 4, monthly: 6 };

/** The persisted configuration row; `BACKUP_SCHEDULE` only seeds it on first start. */
@Injectable()
export class SettingsService implements OnModuleInit {
  constructor(
    @InjectRepository(BackupConfigRow, PG_BACKUP_CONNECTION) private readonly rows: Repository<BackupConfigRow>,
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.rows
      .createQueryBuilder()
      .insert()
      .values({
        id: CONFIG_ROW_ID,
        enabled: Boolean(this.options.initialSchedule),
        schedule: this.options.initialSchedule ?? null,
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
    const changes = Object.fromEntries(Object.entries(dto).filter(([, value]) => value !== undefined));
    Object.assign(row, changes, { updatedAt: new Date(), updatedBy: actor });
    if (dto.retention) row.retention = { ...dto.retention };
    return this.present(await this.rows.save(row));
  }

  /** Records a finished scrub (read by every instance to decide when the next is due). */
  async recordScrub(at: Date): Promise<void> {
    await this.rows.update({ id: CONFIG_ROW_ID }, { lastScrubAt: at });
  }

  private present(row: BackupConfigRow): BackupConfig {
    return {
      enabled: row.enabled,
      schedule: row.schedule,
      retention: row.retention,
      archiveAfterDays: row.archiveAfterDays,
      compression: row.compression,
      verifyAfterCreate: row.verifyAfterCreate,
      scrubIntervalHours: row.scrubIntervalHours,
      lastScrubAt: row.lastScrubAt,
      nextRunAt: row.enabled && row.schedule ? nextRun(row.schedule) : null,
      updatedAt: row.updatedAt,
      updatedBy: row.updatedBy,
    };
  }
}
