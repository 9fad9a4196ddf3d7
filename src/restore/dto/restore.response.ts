import { RestoreScopeResponse } from '../../backup/dto/backup.response';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Described } from '../../openapi/described';
import type { DrillStarted } from '../drill.service';
import type { FilesRestoreResult } from '../files-extract';
import { RestoreStatus } from '../restore-history.entity';
import type { RestoreDetail, RestoreHistory } from '../restore-history.entity';

/* The answers of /restores and of starting a restore or a drill, for the OpenAPI document only. */

const dateTime = { type: String, format: 'date-time' } as const;

export class RestoredFilesResponse implements Described<FilesRestoreResult & { target: string }> {
  @ApiProperty({ description: 'The directory the files went into' })
  target!: string;

  @ApiProperty({ type: 'integer', description: 'Files written' })
  restored!: number;

  @ApiProperty({ type: [String], description: 'Entries not written: links, devices, and names that would leave the target' })
  skipped!: string[];
}

export class RestoreTargetResponse {
  @ApiPropertyOptional({ description: 'The new schema the objects were restored into' })
  schema?: string;

  @ApiPropertyOptional({ description: 'The database the backup was restored into' })
  database?: string;
}

export class RestoreDetailResponse implements Described<RestoreDetail> {
  @ApiPropertyOptional({ type: 'array', items: { type: 'integer' }, description: 'Sessions terminated because they blocked the restore past the grace period' })
  terminatedPids?: number[];

  @ApiPropertyOptional({ type: () => RestoredFilesResponse, description: 'With `files: true`: where the files went' })
  files?: RestoredFilesResponse;

  @ApiPropertyOptional({ type: () => RestoreScopeResponse, description: 'The tables and schemas restored; absent for the whole database' })
  scope?: RestoreScopeResponse;

  @ApiPropertyOptional({ type: () => RestoreTargetResponse, description: 'Where they went; absent: over the live objects' })
  target?: RestoreTargetResponse;

  @ApiPropertyOptional({ description: 'With `target.database`: it did not exist and was created for the restore' })
  databaseCreated?: boolean;

  @ApiPropertyOptional({ type: [String], description: 'Foreign keys not restored beside the live objects or into another database, because they reference tables not restored (`schema.table constraint`)' })
  leftOut?: string[];
}

/** A restore's history entry (`restore_history`). */
export class RestoreResponse implements Described<RestoreHistory> {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid', description: 'The restored backup (it may since have been deleted)' })
  backupId!: string;

  @ApiProperty({ enum: RestoreStatus, enumName: 'RestoreStatus' })
  status!: RestoreStatus;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The backup taken just before, to undo the restore; null until it exists' })
  safetyBackupId!: string | null;

  @ApiProperty()
  startedBy!: string;

  @ApiProperty(dateTime)
  startedAt!: Date;

  @ApiProperty({ ...dateTime, nullable: true })
  finishedAt!: Date | null;

  @ApiProperty({ type: 'integer', nullable: true })
  durationMs!: number | null;

  @ApiProperty({ type: String, nullable: true, description: 'Why it failed' })
  error!: string | null;

  @ApiProperty({ type: () => RestoreDetailResponse, nullable: true })
  detail!: RestoreDetail | null;
}

export class RestorePageResponse {
  @ApiProperty({ type: () => [RestoreResponse], description: 'Newest first' })
  items!: RestoreResponse[];

  @ApiProperty({ type: 'integer' })
  total!: number;
}

/** A drill running in the background; its result lands on the backup's `drill`. */
export class DrillStartedResponse implements Described<DrillStarted> {
  @ApiProperty({ format: 'uuid', description: 'The operation id (see GET /operations/current)' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  backupId!: string;

  @ApiProperty({ description: 'The scratch database, dropped when the drill ends' })
  database!: string;

  @ApiProperty({ enum: ['running'] })
  status!: 'running';
}
