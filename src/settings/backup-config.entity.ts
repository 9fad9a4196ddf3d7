import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Compression } from '../pipeline/backup-format';

export interface RetentionPolicy {
  /** Always keep the newest N completed backups. */
  keepLast: number;
  /** Delete backups older than this many days (0 = no age limit). */
  maxAgeDays: number;
  /** Keep the newest backup of each of the last N days / ISO weeks / months. */
  daily: number;
  weekly: number;
  monthly: number;
}

/** The persisted configuration: one row, id 1. */
@Entity({ name: 'backup_config' })
export class BackupConfigRow {
  @PrimaryColumn('integer')
  id!: number;

  @Column('boolean')
  enabled!: boolean;

  @Column({ type: 'text', nullable: true })
  schedule!: string | null;

  /** Instead of `schedule`: a backup every N minutes. */
  @Column({ name: 'interval_minutes', type: 'integer', nullable: true })
  intervalMinutes!: number | null;

  /** IANA zone the cron expressions are read in (null = UTC). */
  @Column({ type: 'text', nullable: true })
  timezone!: string | null;

  /** Cron expression of restore drills of the newest completed backup (null = none). */
  @Column({ name: 'drill_schedule', type: 'text', nullable: true })
  drillSchedule!: string | null;

  @Column('jsonb')
  retention!: RetentionPolicy;

  @Column({ name: 'archive_after_days', type: 'integer', nullable: true })
  archiveAfterDays!: number | null;

  @Column({ type: 'varchar', length: 16 })
  compression!: Compression;

  @Column({ name: 'verify_after_create', type: 'boolean' })
  verifyAfterCreate!: boolean;

  /** Re-verify every stored backup this often (null = no scrub). */
  @Column({ name: 'scrub_interval_hours', type: 'integer', nullable: true })
  scrubIntervalHours!: number | null;

  /** When a scrub last finished, on any instance. */
  @Column({ name: 'last_scrub_at', type: 'timestamptz', nullable: true })
  lastScrubAt!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'updated_by', type: 'text', nullable: true })
  updatedBy!: string | null;
}
