import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Not, Repository } from 'typeorm';
import { BackupHistory } from '../backup/backup-history.entity';
import { BackupIntegrityService } from '../backup/backup-integrity.service';
import { BackupService } from '../backup/backup.service';
import { BackupStatus, BackupType } from '../backup/backup.types';
import { DEFAULT_EXACT_COUNT_MAX_BYTES } from '../backup/backup-runner.service';
import { BackupNotRestorableException } from '../common/exceptions';
import { DatabaseInfoRepository, LiveObject } from '../database/database-info.repository';
import { quoteIdent } from '../infra/process/pg-connection';
import { StorageRepository } from '../infra/storage/storage.repository';
import { CurrentOperation, LockService } from '../lock/lock.service';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { BackupTocReader, TocEntry } from './backup-toc';
import { RestoreHistory, RestoreStatus } from './restore-history.entity';
import { isPartial, RestoreRequest, RestoreScope, RestoreTargetChoice } from './restore-request';
import { LockEstimate, RestoreRunner } from './restore-runner.service';
import { RolePreflight } from './role-preflight';

/** A preview's count that waits longer than this for a table lock gives the estimate instead. */
const PREVIEW_LOCK_TIMEOUT_MS = 2000;
/** Completed restores and backups the estimates learn from. */
const HISTORY_SAMPLE = 20;
const SIZE_SAMPLE = 5;
/** The kinds of TOC entries a restore creates and the wipe removes, as the vanish list compares them. */
const OBJECT_KINDS = new Set(['SCHEMA', 'TABLE', 'VIEW', 'MATERIALIZED VIEW', 'SEQUENCE', 'FOREIGN TABLE', 'FUNCTION', 'PROCEDURE', 'AGGREGATE', 'TYPE', 'DOMAIN']);

export interface PreviewTable {
  /** `schema.table`. */
  name: string;
  /** Rows now; null when the table does not exist now. */
  current: number | null;
  /** Rows in the backup; null when the backup has no such table (it will vanish). */
  backup: number | null;
  /** Either figure is the planner's estimate, not a count. */
  estimated: boolean;
}

/** What `POST /backups/:id/restore` with `dryRun: true` answers; nothing is changed or locked for long to find it. */
export interface RestorePreview {
  backupId: string;
  scope: RestoreScope;
  target: RestoreTargetChoice | null;
  tables: PreviewTable[];
  /** Objects that exist now and are not in the backup (made after it): a restore removes them. */
  vanishing: LiveObject[];
  /** Roles owning objects in the backup that the cluster lacks. */
  roles: { toCreate: string[]; needPassword: string[] } | null;
  /** null when the table of contents could not be read (the restore reports why). */
  locks: LockEstimate | null;
  /** The safety backup's expected size against the backup directory's free space; null with `safetyBackup: false`. */
  safetyBackup: { expectedBytes: number; freeBytes: number; enough: boolean } | null;
  /** From past completed restores' durations against their backups' sizes; null without history. */
  estimatedDurationMs: number | null;
  /** The operation running now: a restore started now would answer 409. */
  blockedBy: CurrentOperation['operation'];
}

/**
 * The dry run of a restore: reads the backup's table of contents and the live catalog and counts
 * rows in a read-only transaction. It takes no operation lock, so it answers while another
 * operation runs, and `blockedBy` says a real restore would wait for it.
 */
@Injectable()
export class RestorePreviewService {
  constructor(
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    @InjectRepository(RestoreHistory, PG_BACKUP_CONNECTION) private readonly restores: Repository<RestoreHistory>,
    @InjectRepository(BackupHistory, PG_BACKUP_CONNECTION) private readonly backupRows: Repository<BackupHistory>,
    private readonly backups: BackupService,
    private readonly integrity: BackupIntegrityService,
    private readonly toc: BackupTocReader,
    private readonly runner: RestoreRunner,
    private readonly database: DatabaseInfoRepository,
    private readonly storage: StorageRepository,
    private readonly lock: LockService,
    private readonly rolePreflight: RolePreflight,
  ) {}

  async preview(backupId: string, request: RestoreRequest): Promise<RestorePreview> {
    const backup = await this.backups.get(backupId);
    if (backup.status !== BackupStatus.Completed) {
      throw new BackupNotRestorableException(`backup ${backupId} is ${backup.status}; only a completed backup can be restored`);
    }
    const report = await this.integrity.check(backup, { full: false });
    if (!report.valid) {
      const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
      throw new BackupNotRestorableException(`backup ${backupId} is not intact (${failed.join('; ')})`);
    }
    const scope = request.scope ?? { tables: [], schemas: [] };
    const inScope = (schema: string | null, name: string) =>
      !isPartial(scope) || (schema === null ? scope.schemas.includes(name) : scope.schemas.includes(schema) || scope.tables.includes(`${schema}.${name}`));
    const entries = await this.toc.entries(backup, report.source!).catch(() => null);
    return {
      backupId,
      scope,
      target: request.target ?? null,
      tables: await this.tables(backup, inScope),
      vanishing: entries ? await this.vanishing(entries, inScope) : [],
      roles: await this.roles(backup, entries),
      locks: entries ? await this.runner.lockEstimate(entries) : null,
      safetyBackup: request.safetyBackup === false ? null : await this.safetyBackupSpace(backup),
      estimatedDurationMs: await this.estimatedDuration(backup),
      blockedBy: (await this.lock.current()).operation,
    };
  }

  private async tables(backup: BackupHistory, inScope: (schema: string, name: string) => boolean): Promise<PreviewTable[]> {
    const now = await this.database.currentRowCounts(null, {
      exactMaxBytes: this.options.exactCountMaxBytes ?? DEFAULT_EXACT_COUNT_MAX_BYTES,
      lockTimeoutMs: PREVIEW_LOCK_TIMEOUT_MS,
    });
    const inBackup = backup.metadata?.tables ?? {};
    const estimated = new Set([...now.estimated, ...(backup.metadata?.estimatedTables ?? [])]);
    const names = [...new Set([...Object.keys(inBackup), ...Object.keys(now.tables)])].filter((name) => {
      const dot = name.indexOf('.');
      return inScope(name.slice(0, dot), name.slice(dot + 1));
    });
    return names.sort().map((name) => ({ name, current: now.tables[name] ?? null, backup: inBackup[name] ?? null, estimated: estimated.has(name) }));
  }

  private async vanishing(entries: TocEntry[], inScope: (schema: string | null, name: string) => boolean): Promise<LiveObject[]> {
    const key = (kind: string, schema: string | null, name: string) => `${kind}\t${schema ?? ''}\t${name}`;
    const restored = new Set(entries.filter((e) => OBJECT_KINDS.has(e.desc)).map((e) => key(e.desc, e.schema, e.name)));
    return (await this.database.liveObjects()).filter((o) => !restored.has(key(o.kind, o.schema, o.name)) && inScope(o.schema, o.name));
  }

  /**
   * The roles the restore would create: from what the backup recorded of its cluster; a backup
   * from before that was recorded gives only the owners its TOC names (which of them log in, it does not say).
   */
  private async roles(backup: BackupHistory, entries: TocEntry[] | null): Promise<RestorePreview['roles']> {
    if (backup.metadata?.cluster) {
      const found = await this.rolePreflight.check(backup);
      return { toCreate: found.missing, needPassword: found.needPassword };
    }
    if (!entries) return null;
    const owners = [...new Set(entries.flatMap((e) => (e.owner ? [e.owner] : [])))];
    return { toCreate: await this.database.missingRoles(owners), needPassword: [] };
  }

  /** The newest backups of this database (uploads aside) are the best guess of the safety backup's size. */
  private async safetyBackupSpace(backup: BackupHistory): Promise<RestorePreview['safetyBackup']> {
    const recent = await this.backupRows.find({
      select: { sizeBytes: true },
      where: { status: BackupStatus.Completed, type: Not(In([BackupType.Upload])) },
      order: { createdAt: 'DESC' },
      take: SIZE_SAMPLE,
    });
    const expectedBytes = recent.length ? Math.max(...recent.map((b) => Number(b.sizeBytes))) : Number(backup.sizeBytes);
    await this.storage.ensurePrivateDir(this.options.backupDir);
    const freeBytes = await this.storage.freeBytes(this.options.backupDir);
    return { expectedBytes, freeBytes, enough: freeBytes >= Math.max(this.options.minFreeBytes, expectedBytes) };
  }

  /** Milliseconds per byte of the recent completed restores, times this backup's size. */
  private async estimatedDuration(backup: BackupHistory): Promise<number | null> {
    const schema = quoteIdent(this.restores.metadata.schema!);
    const rows: { durationMs: number; sizeBytes: string }[] = await this.restores.query(
      `SELECT r.duration_ms AS "durationMs", b.size_bytes AS "sizeBytes"
         FROM ${schema}.restore_history r JOIN ${schema}.backup_history b ON b.id = r.backup_id
        WHERE r.status = $1 AND r.duration_ms IS NOT NULL
        ORDER BY r.finished_at DESC LIMIT ${HISTORY_SAMPLE}`,
      [RestoreStatus.Completed],
    );
    if (!rows.length) return null;
    const ms = rows.reduce((sum, r) => sum + r.durationMs, 0);
    const bytes = rows.reduce((sum, r) => sum + Number(r.sizeBytes), 0);
    return Math.round(bytes > 0 ? (ms / bytes) * Number(backup.sizeBytes) : ms / rows.length);
  }
}
