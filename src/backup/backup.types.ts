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

export interface BackupMetadata {
  database: string;
  serverVersion: string;
  pgDumpVersion: string;
  productVersion: string;
  /** Planner row estimates per table at backup time (`schema.table` → rows). */
  tables: Record<string, number>;
  /** Who can decrypt: the recipients' public keys, or `passphrase`; absent when not encrypted. */
  encryption?: { recipients: string[] } | { passphrase: true };
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
