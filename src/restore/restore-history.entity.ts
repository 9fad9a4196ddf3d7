import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { RestoreScope, RestoreTargetChoice } from './restore-request';

export enum RestoreStatus {
  Running = 'running',
  Completed = 'completed',
  Failed = 'failed',
}

export interface RestoreDetail {
  /** Sessions terminated because they blocked the restore past the grace period. */
  terminatedPids?: number[];
  /** With `files: true`: where the files went, how many were written, which entries were skipped. */
  files?: { target: string; restored: number; skipped: string[] };
  /** What was asked for: the objects (none: the whole database) and where they went (none: over the live ones). */
  scope?: RestoreScope;
  target?: RestoreTargetChoice;
  /** With `target.database`: the database did not exist and was created for the restore. */
  databaseCreated?: boolean;
  /** Foreign keys not restored beside the live objects or into another database: they reference tables not restored (`schema.table constraint`). */
  leftOut?: string[];
  /** Rows per restored table (`schema.table`) just before the restore and just after it; `estimated`: the planner's figures, not counts. */
  rowCounts?: { before: Record<string, number | null>; after: Record<string, number | null>; estimated?: string[] };
  /** Roles the backup needed that the cluster lacked: created (login roles among them need a password set), or left out (`skip`). */
  roles?: { created: string[]; needPassword: string[]; skipped: string[] };
  /** Tablespaces the backup used that the cluster lacks: everything went into the default tablespace. */
  tablespacesMissing?: string[];
  /** Database settings (`name=value`) of the backup the restoring role may not set (not the owner, or superuser-only). */
  settingsNotApplied?: string[];
  /** The afterRestore hook failed or timed out: the restore stands, the host app may need a hand. */
  afterRestoreHookError?: string;
}

@Entity({ name: 'restore_history' })
export class RestoreHistory {
  @PrimaryColumn('uuid')
  id!: string;

  /** No foreign key: the record outlives a deleted backup. */
  @Column({ name: 'backup_id', type: 'uuid' })
  backupId!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: RestoreStatus;

  @Column({ name: 'safety_backup_id', type: 'uuid', nullable: true })
  safetyBackupId!: string | null;

  @Column({ name: 'started_by', type: 'text' })
  startedBy!: string;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @Column({ name: 'duration_ms', type: 'integer', nullable: true })
  durationMs!: number | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  detail!: RestoreDetail | null;
}
