import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintToNumber } from '../database/column-transformers';
import { BackupCopy, BackupFilesPart, BackupMetadata, BackupOrigin, BackupStatus, BackupType, DrillResult } from './backup.types';

@Entity({ name: 'backup_history' })
export class BackupHistory {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: BackupStatus;

  @Column({ type: 'varchar', length: 16 })
  type!: BackupType;

  @Column('text')
  filename!: string;

  @Column({ name: 'size_bytes', type: 'bigint', default: 0, transformer: bigintToNumber })
  sizeBytes!: number;

  @Column({ type: 'char', length: 64, nullable: true })
  sha256!: string | null;

  @Column({ type: 'varchar', length: 16 })
  compression!: string;

  @Column({ type: 'boolean', default: false })
  encrypted!: boolean;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @Column({ name: 'duration_ms', type: 'integer', nullable: true })
  durationMs!: number | null;

  @Column({ type: 'text', nullable: true })
  notes!: string | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  tags!: string[];

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'verified_at', type: 'timestamptz', nullable: true })
  verifiedAt!: Date | null;

  @Column({ type: 'jsonb', nullable: true })
  metadata!: BackupMetadata | null;

  /** Copies beyond the primary directory (BACKUP_EXTERNAL_DIR), each with its state. */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  copies!: BackupCopy[];

  /** Moved into a daily ZIP (`archivePath`, relative to the backup directory). */
  @Column({ type: 'boolean', default: false })
  archived!: boolean;

  @Column({ name: 'archive_path', type: 'text', nullable: true })
  archivePath!: string | null;

  /** The last verification (a scrub or POST verify) found no intact copy; `error` says why. */
  @Column({ type: 'boolean', default: false })
  damaged!: boolean;

  /** The last verification could not open it with the configured key: not damaged, but not known to be restorable either. */
  @Column({ type: 'boolean', default: false })
  unreadable!: boolean;

  /** The files part (BACKUP_INCLUDE_PATHS), kept in the backup directory beside the dump. */
  @Column({ type: 'jsonb', nullable: true })
  files!: BackupFilesPart | null;

  /** Why it was made: its schedule tick, the triggers it answers, the restore it protects. */
  @Column({ type: 'jsonb', nullable: true })
  origin!: BackupOrigin | null;

  /** The last restore drill of this backup. */
  @Column({ type: 'jsonb', nullable: true })
  drill!: DrillResult | null;

  /** Never removed by retention. */
  @Column({ type: 'boolean', default: false })
  pinned!: boolean;
}

type NewBackupFields = Pick<
  BackupHistory,
  'id' | 'status' | 'type' | 'filename' | 'sizeBytes' | 'sha256' | 'compression' | 'encrypted' | 'createdBy' | 'createdAt'
> &
  Partial<BackupHistory>;

/** A new history row: the given fields, everything else at its starting value. */
export function newBackupRow(fields: NewBackupFields): BackupHistory {
  return Object.assign(new BackupHistory(), {
    finishedAt: null,
    durationMs: null,
    notes: null,
    tags: [],
    error: null,
    verifiedAt: null,
    metadata: null,
    copies: [],
    pinned: false,
    archived: false,
    archivePath: null,
    damaged: false,
    unreadable: false,
    files: null,
    drill: null,
    origin: null,
    ...fields,
  });
}
