export enum BackupStatus {
  Running = 'running',
  Completed = 'completed',
  Failed = 'failed',
}

export enum BackupType {
  Manual = 'manual',
  Scheduled = 'scheduled',
  Safety = 'safety',
  Event = 'event',
  Startup = 'startup',
  Upload = 'upload',
}

import type { ClusterObjects } from '../database/cluster-objects';

export interface BackupMetadata {
  database: string;
  serverVersion: string;
  pgDumpVersion: string;
  productVersion: string;
  /** Rows per table in the dump (`schema.table` → rows): counted in pg_dump's own snapshot, except `estimatedTables`. */
  tables?: Record<string, number>;
  /** Tables above the exact-count size, whose figure is the planner's estimate (absent in older backups: all estimates). */
  estimatedTables?: string[];
  /** Large objects in the dump (absent in older backups). None lets a restore stream straight into psql. */
  largeObjects?: number;
  /** Roles, tablespaces and database settings the dump needs but does not hold (absent in older backups). */
  cluster?: ClusterObjects;
  /** Heap + TOAST bytes per table at backup time (absent in older backups). */
  tableBytes?: Record<string, number>;
  /** What the archive holds, read from its table of contents when the backup was made (absent in older backups). */
  contents?: BackupContents;
  /** Who can decrypt: the recipients' public keys, or `passphrase`; absent when not encrypted. */
  encryption?: { recipients: string[] } | { passphrase: true };
}

/** One table of a backup's contents, with its rows and size at backup time (null when not recorded). */
export interface BackupContentsTable {
  schema: string;
  name: string;
  rows: number | null;
  /** `rows` is the planner's estimate (a table above the exact-count size). */
  rowsEstimated: boolean;
  sizeBytes: number | null;
}

/** What a backup holds, from its archive's table of contents; names are `schema.name` (functions with their arguments). */
export interface BackupContents {
  archiveVersion: string;
  schemas: string[];
  tables: BackupContentsTable[];
  views: string[];
  materializedViews: string[];
  functions: string[];
  sequences: string[];
  types: string[];
  extensions: string[];
  largeObjects: number;
  /** Roles the backup's objects are owned by: they must exist for the owners to come back. */
  roles: string[];
}

/** Why a backup was made, beyond its type. */
export interface BackupOrigin {
  /** The schedule tick it belongs to. */
  scheduledFor?: string;
  /** The coalesced BackupTrigger requests it answers. */
  trigger?: TriggerSummary;
  /** The restore it protects (a safety backup). */
  restoreId?: string;
  /** Only these tables (`schema.table`) and schemas were dumped: the safety backup of a restore of those. A restore of this backup is scoped to them by default. */
  scope?: { tables: string[]; schemas: string[] };
  /** Registered from a file found in a backup location: written elsewhere, not trusted. */
  imported?: true;
}

export interface TriggerSummary {
  requests: number;
  /** How many requests gave each reason. */
  reasons: Record<string, number>;
  firstAt: string;
  lastAt: string;
  /** The `detail` of the first few requests. */
  details: unknown[];
}

/** A copy of the backup file beyond the primary directory. */
export interface BackupCopy {
  storage: 'external' | 's3';
  location: string;
  state: 'ok' | 'failed';
  error?: string;
  at: string;
}

/** The tar of BACKUP_INCLUDE_PATHS written beside the dump, through the same pipeline. */
export interface BackupFilesPart {
  filename: string;
  sizeBytes: number;
  sha256: string;
  paths: string[];
}

/** One table of a restore drill: rows recorded at backup time against rows found in the scratch database. */
export interface DrillTable {
  name: string;
  expected: number;
  actual: number | null;
  /** false: `expected` is the planner's estimate (a table above the exact-count size), not compared. */
  exact: boolean;
  ok: boolean;
}

/** The outcome of restoring a backup into a scratch database and counting its rows. */
export interface DrillResult {
  at: string;
  ok: boolean;
  /** The whole drill: create, restore, count, drop. */
  durationMs: number;
  /** The restore alone: what a real restore of this backup can be expected to take (RTO evidence). */
  restoreMs: number | null;
  database: string;
  tables: DrillTable[];
  error?: string;
}
