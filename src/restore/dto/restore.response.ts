import { RestoreScopeResponse } from '../../backup/dto/backup.response';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Described } from '../../openapi/described';
import type { DrillStarted } from '../drill.service';
import type { FilesRestoreResult } from '../files-extract';
import { RestoreStatus } from '../restore-history.entity';
import type { RestoreDetail, RestoreHistory } from '../restore-history.entity';
import type { LiveObject } from '../../database/database-info.repository';
import { OperationResponse } from '../../lock/dto/operation.response';
import type { PreviewTable, RestorePreview } from '../restore-preview.service';
import type { LockEstimate } from '../restore-runner.service';

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

export class RestoreRolesResponse {
  @ApiProperty({ type: [String], description: 'Roles the restore created (NOLOGIN unless they had LOGIN; no password)' })
  created!: string[];

  @ApiProperty({ type: [String], description: 'Login roles among them: set a password before they can log in' })
  needPassword!: string[];

  @ApiProperty({ type: [String], description: 'With `roles: "skip"`: missing roles left out, with every owner and grant' })
  skipped!: string[];
}

export class RestoreTargetResponse {
  @ApiPropertyOptional({ description: 'A new schema beside the live objects' })
  schema?: string;

  @ApiPropertyOptional({ description: 'Another database of the same server' })
  database?: string;
}

export class RowCountsResponse {
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer', nullable: true }, description: 'Rows per restored table (`schema.table`) just before the restore; null: absent' })
  before!: Record<string, number | null>;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer', nullable: true }, description: 'Rows per restored table just after the COMMIT' })
  after!: Record<string, number | null>;

  @ApiPropertyOptional({ type: [String], description: "Tables whose figures are the planner's estimates (above BACKUP_EXACT_COUNT_MAX_MB, or locked by another session)" })
  estimated?: string[];
}

export class RestoreDetailResponse implements Described<RestoreDetail> {
  @ApiPropertyOptional({ type: 'array', items: { type: 'integer' }, description: 'Sessions terminated because they blocked the restore past the grace period' })
  terminatedPids?: number[];

  @ApiPropertyOptional({ type: () => RestoredFilesResponse, description: 'With `files: true`: where the files went' })
  files?: RestoredFilesResponse;

  @ApiPropertyOptional({ type: () => RestoreRolesResponse, description: 'Roles the backup needed that the cluster lacked' })
  roles?: RestoreRolesResponse;

  @ApiPropertyOptional({ type: [String], description: 'Tablespaces the backup used that the cluster lacks: everything went into the default tablespace' })
  tablespacesMissing?: string[];

  @ApiPropertyOptional({ type: [String], description: "The backup's database settings (`name=value`) the restoring role may not set" })
  settingsNotApplied?: string[];
  @ApiPropertyOptional({ type: () => RestoreScopeResponse, description: 'What was asked for: empty lists mean the whole database' })
  scope?: RestoreScopeResponse;

  @ApiPropertyOptional({ type: () => RestoreTargetResponse, description: 'Where it went; absent: over the live objects' })
  target?: RestoreTargetResponse;

  @ApiPropertyOptional({ type: () => RowCountsResponse, description: "Rows of the restored tables (whole database: every table of the backup) just before the restore's transaction and just after its COMMIT" })
  rowCounts?: RowCountsResponse;

  @ApiPropertyOptional({ description: 'The afterRestore hook (or hook webhook) failed or timed out; the restore itself stands' })
  afterRestoreHookError?: string;

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

export class PreviewTableResponse implements Described<PreviewTable> {
  @ApiProperty({ description: '`schema.table`', example: 'public.users' })
  name!: string;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Rows now; null when the table does not exist now' })
  current!: number | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Rows in the backup; null when the backup has no such table (it will vanish)' })
  backup!: number | null;

  @ApiProperty({ description: "A figure is the planner's estimate (a table above BACKUP_EXACT_COUNT_MAX_MB, or one locked by another session), not a count" })
  estimated!: boolean;
}

export class PreviewObjectResponse implements Described<LiveObject> {
  @ApiProperty({ description: 'As pg_restore --list names it', example: 'TABLE' })
  kind!: string;

  @ApiProperty({ type: String, nullable: true, description: 'null for a schema' })
  schema!: string | null;

  @ApiProperty({ description: "A function's name carries its argument types", example: 'after_backup' })
  name!: string;
}

export class PreviewRolesResponse {
  @ApiProperty({ type: [String], description: 'Roles owning objects in the backup that the cluster lacks' })
  toCreate!: string[];

  @ApiProperty({ type: [String], description: 'Those of them that log in and will need a password set' })
  needPassword!: string[];
}

export class PreviewLocksResponse implements Described<LockEstimate> {
  @ApiProperty({ type: 'integer', description: "Locks the restore's one transaction takes" })
  needed!: number;

  @ApiProperty({ type: 'integer', description: "What the server's shared lock table leaves one transaction" })
  available!: number;

  @ApiProperty({ type: 'integer' })
  maxLocksPerTransaction!: number;

  @ApiProperty({ type: 'integer', description: 'The max_locks_per_transaction that would make room for `needed`' })
  requiredMaxLocksPerTransaction!: number;

  @ApiProperty({ description: 'false: the restore would be refused (422) until max_locks_per_transaction is raised' })
  enough!: boolean;
}

export class PreviewSafetyBackupResponse {
  @ApiProperty({ type: 'integer', description: 'The largest of the recent backups' })
  expectedBytes!: number;

  @ApiProperty({ type: 'integer', description: 'Free space of the backup directory' })
  freeBytes!: number;

  @ApiProperty()
  enough!: boolean;
}

/** The answer of a dry run: what the restore would do; nothing was changed. */
export class RestorePreviewResponse implements Described<RestorePreview> {
  @ApiProperty({ format: 'uuid' })
  backupId!: string;

  @ApiProperty({ type: () => RestoreScopeResponse, description: 'Empty lists: the whole database' })
  scope!: RestoreScopeResponse;

  @ApiProperty({ type: () => RestoreTargetResponse, nullable: true, description: 'null: over the live objects' })
  target!: RestoreTargetResponse | null;

  @ApiProperty({ type: () => [PreviewTableResponse], description: 'Every table now or in the backup (within the scope), by name' })
  tables!: PreviewTableResponse[];

  @ApiProperty({ type: () => [PreviewObjectResponse], description: 'Objects that exist now and are not in the backup (made after it): the restore removes them' })
  vanishing!: PreviewObjectResponse[];

  @ApiProperty({ type: () => PreviewRolesResponse, nullable: true })
  roles!: PreviewRolesResponse | null;

  @ApiProperty({ type: () => PreviewLocksResponse, nullable: true, description: 'null when the table of contents could not be read (the restore itself reports why)' })
  locks!: PreviewLocksResponse | null;

  @ApiProperty({ type: () => PreviewSafetyBackupResponse, nullable: true, description: 'null with `safetyBackup: false`' })
  safetyBackup!: PreviewSafetyBackupResponse | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'From past restores: their durations against their backups’ sizes; null without history' })
  estimatedDurationMs!: number | null;

  @ApiProperty({ type: () => OperationResponse, nullable: true, description: 'The operation running now: a restore started now would answer 409' })
  blockedBy!: OperationResponse | null;
}
