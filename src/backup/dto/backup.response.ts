import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Described } from '../../openapi/described';
import { COMPRESSIONS } from '../../pipeline/backup-format';
import type { BackupHistory } from '../backup-history.entity';
import type { ImportResult } from '../backup-import.service';
import type { IntegrityCheck, IntegrityReport } from '../backup-integrity.service';
import type { ScrubResult } from '../backup-scrub.service';
import type { BackupStats, CleanupPreview } from '../backup.service';
import type { ClusterMembership, ClusterObjects, ClusterRole } from '../../database/cluster-objects';
import { BackupStatus, BackupType } from '../backup.types';
import { BackupContentsResponse } from './backup-contents.response';
import type { BackupCopy, BackupFilesPart, BackupMetadata, BackupOrigin, DrillResult, DrillTable, TriggerSummary } from '../backup.types';

/* The answers of /backups, for the OpenAPI document only: nothing builds these classes. */

const KEEP_REASONS = ['newest', 'pinned', 'safety', 'keepLast', 'maxAgeDays', 'daily', 'weekly', 'monthly'];
const dateTime = { type: String, format: 'date-time' } as const;
const counts = { type: 'object', additionalProperties: { type: 'integer' } } as const;

export class RestoreScopeResponse {
  @ApiProperty({ type: [String], description: '`schema.table`' })
  tables!: string[];

  @ApiProperty({ type: [String] })
  schemas!: string[];
}

export class EncryptionInfo {
  @ApiPropertyOptional({ type: [String], description: 'The age public keys that can decrypt the backup' })
  recipients?: string[];

  @ApiPropertyOptional({ enum: [true], description: 'Encrypted with a passphrase' })
  passphrase?: true;
}

export class ClusterRoleResponse implements Described<ClusterRole> {
  @ApiProperty()
  name!: string;

  @ApiProperty()
  login!: boolean;

  @ApiProperty()
  inherit!: boolean;

  @ApiProperty()
  createdb!: boolean;

  @ApiProperty()
  createrole!: boolean;

  @ApiProperty()
  replication!: boolean;

  @ApiProperty()
  bypassrls!: boolean;

  @ApiProperty({ type: 'integer', description: '-1: no limit' })
  connectionLimit!: number;

  @ApiProperty({ type: String, nullable: true, description: 'ISO 8601 or `infinity`' })
  validUntil!: string | null;

  @ApiProperty({ description: "Named in a row security policy's TO list" })
  inPolicy!: boolean;
}

export class ClusterMembershipResponse implements Described<ClusterMembership> {
  @ApiProperty({ description: 'The role granted' })
  role!: string;

  @ApiProperty({ description: 'The role it is granted to' })
  member!: string;

  @ApiProperty({ description: 'WITH ADMIN OPTION' })
  admin!: boolean;
}

export class ClusterObjectsResponse implements Described<ClusterObjects> {
  @ApiProperty({ type: () => [ClusterRoleResponse], description: 'Owners, grantees and policy roles of the dumped objects, and their members; never passwords' })
  roles!: ClusterRoleResponse[];

  @ApiProperty({ type: () => [ClusterMembershipResponse] })
  memberships!: ClusterMembershipResponse[];

  @ApiProperty({ type: [String], description: 'Tablespaces the dumped relations are in' })
  tablespaces!: string[];

  @ApiProperty({ type: [String], description: "The database's own settings (`ALTER DATABASE … SET`), `name=value`" })
  settings!: string[];
}

export class BackupMetadataResponse implements Described<BackupMetadata> {
  @ApiProperty()
  database!: string;

  @ApiProperty({ example: '17.2' })
  serverVersion!: string;

  @ApiProperty()
  pgDumpVersion!: string;

  @ApiProperty({ description: 'The version of nestjs-pg-backup that made the backup' })
  productVersion!: string;

  @ApiPropertyOptional({
    ...counts,
    description: "Rows per table (`schema.table`), counted in the dump's snapshot except for `estimatedTables`; left out of GET /backups items (as are `estimatedTables`, `tableBytes`, `contents` and `cluster`)",
  })
  tables?: Record<string, number>;

  @ApiPropertyOptional({ type: [String], description: "Tables above the exact-count size, whose figure is the planner's estimate" })
  estimatedTables?: string[];

  @ApiPropertyOptional({ type: 'integer', description: 'Large objects in the dump; absent in backups from versions that did not record it' })
  largeObjects?: number;

  @ApiPropertyOptional({ type: () => ClusterObjectsResponse, description: 'What the dump needs from its cluster but does not hold; absent in older backups' })
  cluster?: ClusterObjectsResponse;

  @ApiPropertyOptional({ type: () => EncryptionInfo, description: 'Who can decrypt; absent when not encrypted' })
  encryption?: EncryptionInfo;

  @ApiPropertyOptional({ ...counts, description: 'Heap + TOAST bytes per table at backup time; absent in older backups' })
  tableBytes?: Record<string, number>;

  @ApiPropertyOptional({ type: () => BackupContentsResponse, description: "What the archive holds (GET /backups/{id}/contents), recorded when the backup was made" })
  contents?: BackupContentsResponse;
}

export class TriggerSummaryResponse implements Described<TriggerSummary> {
  @ApiProperty({ type: 'integer' })
  requests!: number;

  @ApiProperty({ ...counts, description: 'How many requests gave each reason' })
  reasons!: Record<string, number>;

  @ApiProperty(dateTime)
  firstAt!: string;

  @ApiProperty(dateTime)
  lastAt!: string;

  @ApiProperty({ type: 'array', items: {}, description: 'The `detail` of the first few requests' })
  details!: unknown[];
}

export class BackupOriginResponse implements Described<BackupOrigin> {
  @ApiPropertyOptional({ ...dateTime, description: 'The schedule tick it belongs to' })
  scheduledFor?: string;

  @ApiPropertyOptional({ type: () => TriggerSummaryResponse, description: 'The coalesced BackupTrigger requests it answers' })
  trigger?: TriggerSummaryResponse;

  @ApiPropertyOptional({ format: 'uuid', description: 'The restore it protects (a safety backup)' })
  restoreId?: string;

  @ApiPropertyOptional({ type: () => RestoreScopeResponse, description: 'Only these tables or schemas were dumped (the safety backup of a restore of them); a restore of this backup is scoped to them by default' })
  scope?: RestoreScopeResponse;
}

export class BackupCopyResponse implements Described<BackupCopy> {
  @ApiProperty({ enum: ['external', 's3'] })
  storage!: 'external' | 's3';

  @ApiProperty({ description: 'A path or an s3:// URL' })
  location!: string;

  @ApiProperty({ enum: ['ok', 'failed'] })
  state!: 'ok' | 'failed';

  @ApiPropertyOptional()
  error?: string;

  @ApiProperty(dateTime)
  at!: string;
}

export class BackupFilesPartResponse implements Described<BackupFilesPart> {
  @ApiProperty()
  filename!: string;

  @ApiProperty({ type: 'integer' })
  sizeBytes!: number;

  @ApiProperty()
  sha256!: string;

  @ApiProperty({ type: [String], description: 'The archived paths (BACKUP_INCLUDE_PATHS)' })
  paths!: string[];
}

export class DrillTableResponse implements Described<DrillTable> {
  @ApiProperty({ example: 'public.accounts' })
  name!: string;

  @ApiProperty({ type: 'integer', description: 'Rows recorded at backup time' })
  expected!: number;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Rows in the scratch database; null when the table is missing' })
  actual!: number | null;

  @ApiProperty({ description: "false: `expected` is the planner's estimate, not compared" })
  exact!: boolean;

  @ApiProperty()
  ok!: boolean;
}

export class DrillResultResponse implements Described<DrillResult> {
  @ApiProperty(dateTime)
  at!: string;

  @ApiProperty()
  ok!: boolean;

  @ApiProperty({ type: 'integer', description: 'The whole drill: create, restore, count, drop' })
  durationMs!: number;

  @ApiProperty({ type: 'integer', nullable: true, description: 'The restore alone: the restore time to expect (RTO evidence)' })
  restoreMs!: number | null;

  @ApiProperty({ description: 'The scratch database' })
  database!: string;

  @ApiProperty({ type: () => [DrillTableResponse] })
  tables!: DrillTableResponse[];

  @ApiPropertyOptional()
  error?: string;
}

/** A backup's history entry (`backup_history`). */
export class BackupResponse implements Described<BackupHistory> {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: BackupStatus, enumName: 'BackupStatus' })
  status!: BackupStatus;

  @ApiProperty({ enum: BackupType, enumName: 'BackupType' })
  type!: BackupType;

  @ApiProperty({ example: 'shop_manual_20260101T030000Z_0b6c1a2e.dump.zst' })
  filename!: string;

  @ApiProperty({ type: 'integer', description: '0 while running' })
  sizeBytes!: number;

  @ApiProperty({ type: String, nullable: true, description: 'SHA-256 (hex) of the file as stored; null while running' })
  sha256!: string | null;

  @ApiProperty({ enum: COMPRESSIONS, enumName: 'Compression' })
  compression!: string;

  @ApiProperty({ description: 'Encrypted with age' })
  encrypted!: boolean;

  @ApiProperty({ description: "Who started it: the token's `sub`, or e.g. `scheduler`, `trigger`" })
  createdBy!: string;

  @ApiProperty(dateTime)
  createdAt!: Date;

  @ApiProperty({ ...dateTime, nullable: true })
  finishedAt!: Date | null;

  @ApiProperty({ type: 'integer', nullable: true })
  durationMs!: number | null;

  @ApiProperty({ type: String, nullable: true })
  notes!: string | null;

  @ApiProperty({ type: [String] })
  tags!: string[];

  @ApiProperty({ type: String, nullable: true, description: 'Why it failed, or what the last verification found damaged' })
  error!: string | null;

  @ApiProperty({ ...dateTime, nullable: true, description: 'When a full verification last found it intact' })
  verifiedAt!: Date | null;

  @ApiProperty({ type: () => BackupMetadataResponse, nullable: true, description: 'Server, tools and row counts; null until completed' })
  metadata!: BackupMetadata | null;

  @ApiProperty({ type: () => [BackupCopyResponse], description: 'Copies beyond the primary directory (external directory, S3)' })
  copies!: BackupCopy[];

  @ApiProperty({ description: 'Moved into a daily ZIP (`archivePath`)' })
  archived!: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'The ZIP, relative to the backup directory' })
  archivePath!: string | null;

  @ApiProperty({ description: 'The last verification found no intact copy; `error` says why' })
  damaged!: boolean;

  @ApiProperty({ description: 'The last verification could not open it with the configured key (not damaged; retention does not count it)' })
  unreadable!: boolean;

  @ApiProperty({ type: () => BackupFilesPartResponse, nullable: true, description: 'The files part (BACKUP_INCLUDE_PATHS)' })
  files!: BackupFilesPart | null;

  @ApiProperty({ type: () => BackupOriginResponse, nullable: true, description: 'Why it was made, beyond its type' })
  origin!: BackupOrigin | null;

  @ApiProperty({ type: () => DrillResultResponse, nullable: true, description: 'The last restore drill of this backup' })
  drill!: DrillResult | null;

  @ApiProperty({ description: 'Never removed by retention' })
  pinned!: boolean;
}

export class BackupPageResponse {
  @ApiProperty({ type: () => [BackupResponse], description: 'Newest first' })
  items!: BackupResponse[];

  @ApiProperty({ type: 'integer', description: 'Entries matching the filters, across all pages' })
  total!: number;
}

export class BackupCountsByStatus implements Described<BackupStats['byStatus']> {
  @ApiProperty({ type: 'integer' })
  running!: number;

  @ApiProperty({ type: 'integer' })
  completed!: number;

  @ApiProperty({ type: 'integer' })
  failed!: number;
}

export class LastDrillResponse implements Described<NonNullable<BackupStats['lastDrill']>> {
  @ApiProperty({ format: 'uuid' })
  backupId!: string;

  @ApiProperty(dateTime)
  at!: string;

  @ApiProperty()
  ok!: boolean;

  @ApiProperty({ type: 'integer' })
  durationMs!: number;

  @ApiProperty({ type: 'integer', nullable: true, description: 'The restore time to expect (RTO evidence)' })
  restoreMs!: number | null;
}

export class BackupStatsResponse implements Described<BackupStats> {
  @ApiProperty({ type: 'integer' })
  count!: number;

  @ApiProperty({ type: 'integer' })
  totalBytes!: number;

  @ApiProperty({ type: () => BackupCountsByStatus })
  byStatus!: BackupCountsByStatus;

  @ApiProperty({ ...counts, description: 'Backups per type' })
  byType!: Record<string, number>;

  @ApiProperty({ ...dateTime, nullable: true })
  oldest!: Date | null;

  @ApiProperty({ ...dateTime, nullable: true })
  newest!: Date | null;

  @ApiProperty({ ...dateTime, nullable: true })
  lastSuccessAt!: Date | null;

  @ApiProperty({ ...dateTime, nullable: true })
  lastFailureAt!: Date | null;

  @ApiProperty({ type: () => LastDrillResponse, nullable: true, description: 'The newest restore drill of any backup' })
  lastDrill!: LastDrillResponse | null;
}

export class BackupSummaryResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  filename!: string;

  @ApiProperty(dateTime)
  createdAt!: Date;
}

export class KeptBackupResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ type: 'array', items: { type: 'string', enum: KEEP_REASONS }, description: 'Every rule that keeps it' })
  reasons!: string[];
}

/** `POST /backups/cleanup?dryRun=true`. */
export class CleanupPreviewResponse implements Described<CleanupPreview> {
  @ApiProperty({ type: () => [BackupSummaryResponse], description: 'What retention would delete' })
  delete!: BackupSummaryResponse[];

  @ApiProperty({ type: () => [KeptBackupResponse], description: 'What it keeps, and why' })
  keep!: KeptBackupResponse[];

  @ApiProperty({ type: () => [BackupSummaryResponse], description: 'What would move into daily ZIPs' })
  archive!: BackupSummaryResponse[];
}

/** `POST /backups/cleanup`. */
export class CleanupResultResponse {
  @ApiProperty({ type: 'integer' })
  deleted!: number;

  @ApiProperty({ type: 'integer' })
  archived!: number;
}

export class IntegrityCheckResponse implements Described<IntegrityCheck> {
  @ApiProperty({ enum: ['file', 'sha256', 'compress', 'encrypt', 'decrypt', 'decompress', 'dump', 'files'], description: 'What was checked' })
  name!: IntegrityCheck['name'];

  @ApiProperty()
  ok!: boolean;

  @ApiPropertyOptional()
  detail?: string;

  @ApiPropertyOptional({ enum: [true], description: 'Failed for want of the right key (none configured, or a wrong one), not because the file is damaged' })
  keyProblem?: true;
}

export class IntegritySourceResponse {
  @ApiProperty({ description: 'A path (or a ZIP entry) or an s3:// URL' })
  location!: string;
}

export class IntegrityReportResponse implements Described<IntegrityReport> {
  @ApiProperty({ description: 'Every check passed' })
  valid!: boolean;

  @ApiProperty({ type: () => [IntegrityCheckResponse] })
  checks!: IntegrityCheckResponse[];

  @ApiPropertyOptional({ type: () => IntegritySourceResponse, description: 'The copy that was checked and found intact' })
  source?: IntegritySourceResponse;
}

export class SkippedFileResponse {
  @ApiProperty()
  file!: string;

  @ApiProperty()
  reason!: string;
}

export class ImportResultResponse implements Described<ImportResult> {
  @ApiProperty({ type: [String], description: 'File names of the backups listed again' })
  imported!: string[];

  @ApiProperty({ type: () => [SkippedFileResponse] })
  skipped!: SkippedFileResponse[];
}

export class ScrubResultResponse implements Described<ScrubResult> {
  @ApiProperty({ type: 'integer', description: 'Completed backups verified' })
  checked!: number;

  @ApiProperty({ type: [String], description: 'Ids of the backups found without an intact copy' })
  damaged!: string[];

  @ApiProperty({ type: [String], description: 'Ids of the backups the configured key does not open (not marked damaged)' })
  unreadable!: string[];
}
