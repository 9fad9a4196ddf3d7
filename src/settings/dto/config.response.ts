import { ApiProperty } from '@nestjs/swagger';
import type { Described } from '../../openapi/described';
import { COMPRESSIONS } from '../../pipeline/backup-format';
import type { Compression } from '../../pipeline/backup-format';
import type { BackupConfig, TickReport } from '../settings.service';
import { RetentionDto } from './update-config.dto';

/* The answer of /backups/config, for the OpenAPI document only. */

const dateTime = { type: String, format: 'date-time' } as const;

/** The newest scheduled tick of a kind and what came of it. */
export class TickReportResponse implements Described<TickReport> {
  @ApiProperty(dateTime)
  scheduledAt!: Date;

  @ApiProperty({ enum: ['running', 'completed', 'failed', 'skipped'], description: '`skipped`: another operation held the lock' })
  outcome!: TickReport['outcome'];

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  backupId!: string | null;

  @ApiProperty({ type: String, nullable: true })
  detail!: string | null;

  @ApiProperty({ ...dateTime, nullable: true })
  finishedAt!: Date | null;
}

export class BackupConfigResponse implements Described<BackupConfig> {
  @ApiProperty()
  enabled!: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'Cron expression of scheduled backups' })
  schedule!: string | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Instead of `schedule`: a backup every N minutes' })
  intervalMinutes!: number | null;

  @ApiProperty({ type: String, nullable: true, description: 'IANA time zone of the cron expressions; null = UTC' })
  timezone!: string | null;

  @ApiProperty({ type: () => RetentionDto })
  retention!: RetentionDto;

  @ApiProperty({ type: 'integer', nullable: true })
  archiveAfterDays!: number | null;

  @ApiProperty({ enum: COMPRESSIONS, enumName: 'Compression' })
  compression!: Compression;

  @ApiProperty()
  verifyAfterCreate!: boolean;

  @ApiProperty({ type: 'integer', nullable: true })
  scrubIntervalHours!: number | null;

  @ApiProperty({ type: String, nullable: true })
  drillSchedule!: string | null;

  @ApiProperty({ ...dateTime, nullable: true, readOnly: true, description: 'When a scrub last finished, on any instance' })
  lastScrubAt!: Date | null;

  @ApiProperty({ ...dateTime, nullable: true, readOnly: true, description: 'When the schedule fires next; null when off' })
  nextRunAt!: Date | null;

  @ApiProperty({ type: 'array', items: { type: 'string', format: 'date-time' }, readOnly: true, description: 'The next few runs' })
  nextRuns!: Date[];

  @ApiProperty({ type: () => TickReportResponse, nullable: true, readOnly: true, description: 'The newest scheduled backup tick' })
  lastTick!: TickReportResponse | null;

  @ApiProperty({ ...dateTime, nullable: true, readOnly: true, description: 'When the next drill runs; null when off' })
  drillNextRunAt!: Date | null;

  @ApiProperty({ type: () => TickReportResponse, nullable: true, readOnly: true, description: 'The newest scheduled drill tick' })
  lastDrillTick!: TickReportResponse | null;

  @ApiProperty({ ...dateTime, readOnly: true })
  updatedAt!: Date;

  @ApiProperty({ type: String, nullable: true, readOnly: true })
  updatedBy!: string | null;
}
