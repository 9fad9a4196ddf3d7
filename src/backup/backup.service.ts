import { Inject, Injectable, Logger, OnModuleInit, StreamableFile } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { FindOptionsSelect, Repository } from 'typeorm';
import { whereDefined } from '../database/where';
import { BackupCopiesRemainException, BackupNotFoundException, BackupNotRestorableException, BackupStateException } from '../common/exceptions';
import { Compression } from '../pipeline/backup-format';
import { StorageRepository } from '../infra/storage/storage.repository';
import { LockService, OperationHandle } from '../lock/lock.service';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { SettingsService } from '../settings/settings.service';
import { BackupHistory, newBackupRow } from './backup-history.entity';
import { ARCHIVE_DIR, BackupArchiveService } from './backup-archive.service';
import { BackupIntegrityService, IntegrityReport, isDamaged } from './backup-integrity.service';
import { BackupLocation, BackupLocations } from './backup-locations';
import { manifestText } from './backup-manifest';
import { backupDirs, backupFilename, filesPartName, MANIFEST_SUFFIX, PARTIAL_SUFFIX } from './backup-paths';
import { BackupRunner, failureMessage } from './backup-runner.service';
import { backupContents } from './backup-contents';
import { BackupContents, BackupMetadata, BackupOrigin, BackupStatus, BackupType, DrillResult } from './backup.types';
import { KeepReason, RetentionCandidate, retentionPlan } from './retention';
import { UpdateBackupDto } from './dto/update-backup.dto';
import { CreateBackupDto } from './dto/create-backup.dto';
import { ListBackupsQuery } from './dto/list-backups.query';

export interface CleanupPreview {
  delete: { id: string; filename: string; createdAt: Date }[];
  keep: { id: string; reasons: KeepReason[] }[];
  archive: { id: string; filename: string; createdAt: Date }[];
}

export interface BackupStats {
  count: number;
  totalBytes: number;
  byStatus: Record<BackupStatus, number>;
  byType: Record<string, number>;
  oldest: Date | null;
  newest: Date | null;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  /** The newest restore drill: its restore time is the restore time to expect (RTO evidence). */
  lastDrill: (Pick<DrillResult, 'at' | 'ok' | 'durationMs' | 'restoreMs'> & { backupId: string }) | null;
}

/** Rows read per query when retention walks the history: memory stays bounded by the few columns it needs. */
const RETENTION_PAGE = 1000;

type RetentionRow = RetentionCandidate & { filename: string };

/** Metadata a history page leaves out: per-table maps, the contents and the cluster objects, which grow with the database. */
const LIST_OMITS_METADATA = ['tables', 'estimatedTables', 'tableBytes', 'contents', 'cluster'] as const;

@Injectable()
export class BackupService implements OnModuleInit {
  private readonly logger = new Logger(BackupService.name);

  constructor(
    @InjectRepository(BackupHistory, PG_BACKUP_CONNECTION) private readonly backups: Repository<BackupHistory>,
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    private readonly lock: LockService,
    private readonly runner: BackupRunner,
    private readonly integrity: BackupIntegrityService,
    private readonly storage: StorageRepository,
    private readonly settings: SettingsService,
    private readonly locations: BackupLocations,
    private readonly archive: BackupArchiveService,
  ) {}

  onModuleInit(): void {
    this.lock.registerStaleSweeper(() => this.failInterrupted());
  }

  /** Takes the lock, starts the dump in the background and returns the running backup (202). */
  async create(actor: string, dto: CreateBackupDto, type = BackupType.Manual): Promise<BackupHistory> {
    const id = randomUUID();
    const operation = await this.lock.acquire('backup', id, actor);
    try {
      const { row, context, config } = await this.start(id, actor, type, dto, null);
      this.lock.runInBackground(operation, async () => {
        await this.runner.run(row, context, operation, { verify: config.verifyAfterCreate });
      });
      return row;
    } catch (error) {
      await operation.release();
      throw error;
    }
  }

  /**
   * A backup run to completion under a lock the caller already holds (the restore's safety
   * backup). Returns the finished row, completed or failed.
   */
  async createUnderLock(actor: string, dto: CreateBackupDto, type: BackupType, operation: OperationHandle, origin: BackupOrigin | null = null): Promise<BackupHistory> {
    const { row, context, config } = await this.start(randomUUID(), actor, type, dto, origin);
    return this.runner.run(row, context, operation, { verify: config.verifyAfterCreate });
  }

  /**
   * A backup run to completion now (schedule, startup, trigger): takes the lock or throws
   * OperationInProgressException, and applies retention after a completed backup.
   * `onStarted` sees the running row before the dump begins.
   */
  async runNow(actor: string, dto: CreateBackupDto, type: BackupType, origin: BackupOrigin, onStarted?: (row: BackupHistory) => Promise<void>): Promise<BackupHistory> {
    const id = randomUUID();
    const operation = await this.lock.acquire('backup', id, actor);
    return this.lock.runHeld(operation, async () => {
      const { row, context, config } = await this.start(id, actor, type, dto, origin);
      await onStarted?.(row);
      const done = await this.runner.run(row, context, operation, { verify: config.verifyAfterCreate });
      if (done.status === BackupStatus.Completed) {
        await this.applyRetention(operation.signal).catch((error: Error) => this.logger.error(`retention after backup ${id} failed: ${error.message}`));
      }
      return done;
    });
  }

  /**
   * A page of the history, newest first. Each item's metadata leaves out what grows with the
   * database (LIST_OMITS_METADATA): a list never shows it, and GET /backups/:id has it.
   */
  async list(query: ListBackupsQuery): Promise<{ items: BackupHistory[]; total: number }> {
    const where = whereDefined({ status: query.status, type: query.type });
    const select = Object.fromEntries(this.backups.metadata.columns.map((c) => [c.propertyName, c.propertyName !== 'metadata'])) as FindOptionsSelect<BackupHistory>;
    // the page and the count on two pooled connections at once, not one after the other
    const [items, total] = await Promise.all([
      this.backups.find({ select, where, order: { createdAt: 'DESC', id: 'DESC' }, take: query.limit, skip: query.offset }),
      this.backups.count({ where }),
    ]);
    const rows: { id: string; metadata: BackupMetadata | null }[] = items.length
      ? await this.backups
          .createQueryBuilder('b')
          .select('b.id', 'id')
          .addSelect(`b.metadata ${LIST_OMITS_METADATA.map((key) => `- '${key}'`).join(' ')}`, 'metadata')
          .where('b.id IN (:...ids)', { ids: items.map((b) => b.id) })
          .getRawMany()
      : [];
    const metadata = new Map(rows.map((row) => [row.id, row.metadata]));
    for (const item of items) item.metadata = metadata.get(item.id) ?? null;
    return { items, total };
  }

  async get(id: string): Promise<BackupHistory> {
    const backup = await this.backups.findOneBy({ id });
    if (!backup) throw new BackupNotFoundException(id);
    return backup;
  }

  /** Streams the first copy whose size matches the record (archive, primary, external, S3), or the files part. */
  async download(id: string, part: 'dump' | 'files' = 'dump'): Promise<StreamableFile> {
    const backup = await this.completed(id, 'downloaded');
    if (part === 'files' && !backup.files) throw new BackupStateException(`backup ${id} has no files part`);
    const [filename, size, locations] =
      part === 'files' ? [backup.files!.filename, backup.files!.sizeBytes, this.locations.all().slice(0, 1)] : [backup.filename, backup.sizeBytes, this.locations.for(backup)];
    for (const location of locations) {
      if ((await location.size(filename).catch(() => null)) !== size) continue;
      return new StreamableFile(location.open(filename), {
        type: 'application/octet-stream',
        disposition: `attachment; filename="${filename}"`,
        length: size,
      });
    }
    throw new BackupStateException(`no intact copy of ${filename} is left: the file is missing or has the wrong size everywhere`);
  }

  /**
   * What the backup holds: as recorded when it was made, or read from the archive's table of
   * contents (an older, uploaded or imported backup). 422 when no intact copy can be read.
   */
  async contents(id: string): Promise<BackupContents> {
    const backup = await this.completed(id, 'listed');
    if (backup.metadata?.contents) return backup.metadata.contents;
    const report = await this.integrity.check(backup, { full: false });
    if (!report.source) {
      throw new BackupNotRestorableException(`backup ${id} has no intact copy to read: ${report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('; ')}`);
    }
    try {
      return backupContents(await this.integrity.archiveToc(report.source, { compression: backup.compression as Compression, encrypted: backup.encrypted }), backup.metadata);
    } catch (error) {
      throw new BackupNotRestorableException(`the table of contents of backup ${id} cannot be read: ${(error as Error).message}`);
    }
  }

  async verify(id: string): Promise<IntegrityReport> {
    const backup = await this.completed(id, 'verified');
    const report = await this.integrity.check(backup);
    // a key that does not open the file says nothing about the file: `damaged` is left as it was
    if (report.valid) await this.backups.update({ id }, { verifiedAt: new Date(), damaged: false, unreadable: false });
    else if (isDamaged(report)) await this.backups.update({ id }, { damaged: true, unreadable: false });
    else await this.backups.update({ id }, { unreadable: true });
    return report;
  }

  /**
   * Writes only the edited columns: saving the entity read before would write back whatever the
   * archiver, a verify or the runner changed in between (`archived`, `archivePath`, `damaged`, …).
   */
  async update(id: string, dto: UpdateBackupDto): Promise<BackupHistory> {
    const changes = whereDefined({ pinned: dto.pinned, notes: dto.notes, tags: dto.tags });
    if (Object.keys(changes).length) await this.backups.update({ id }, changes);
    const saved = await this.get(id);
    if (saved.status === BackupStatus.Completed) {
      for (const location of this.locations.for(saved)) {
        try {
          if ((await location.size(saved.filename)) !== null) await location.writeText(saved.filename + MANIFEST_SUFFIX, manifestText(saved, this.options.manifestHmacKey));
        } catch (error) {
          this.logger.warn(`manifest at ${location.describe(saved.filename)} not updated: ${(error as Error).message}`);
        }
      }
    }
    return saved;
  }

  /**
   * Removes file, manifest and row, under the lock so no running restore loses its file (409 while any operation runs).
   * The row goes only once no copy is left anywhere (503 otherwise): a delete never answers 204 over bytes a later import would bring back.
   */
  async remove(id: string, actor: string): Promise<void> {
    const backup = await this.get(id);
    if (backup.status === BackupStatus.Running) throw new BackupStateException(`backup ${id} is still running`);
    await this.lock.runExclusive('delete', id, actor, () => this.deleteBackup(backup));
  }

  private async deleteBackup(backup: BackupHistory): Promise<void> {
    const remaining = await this.deleteFiles(backup);
    if (remaining.length) throw new BackupCopiesRemainException(backup.id, remaining);
    await this.backups.delete({ id: backup.id });
  }

  /**
   * Removes every copy and checks each is gone; an unreachable location (S3 down) never blocks the
   * rest. Returns the copies left, each with why. An unreachable S3 counts only when it may hold
   * a copy: not when the record says the upload failed (a failed upload leaves no object).
   */
  private async deleteFiles(backup: BackupHistory): Promise<string[]> {
    const remaining: string[] = [];
    const s3Copies = (backup.copies ?? []).filter((c) => c.storage === 's3');
    const knownAbsent = (location: BackupLocation) => location.kind === 's3' && s3Copies.length > 0 && s3Copies.every((c) => c.state === 'failed');
    const removeFrom = async (location: BackupLocation, names: string[]) => {
      for (const name of names) {
        try {
          await location.remove(name);
          if ((await location.size(name)) !== null) remaining.push(`${location.describe(name)} is still there`);
        } catch (error) {
          if (knownAbsent(location)) this.logger.warn(`could not check ${location.describe(name)}, which never held a copy: ${(error as Error).message}`);
          else remaining.push(`${location.describe(name)}: ${(error as Error).message}`);
        }
      }
    };
    await removeFrom(this.locations.all()[0], [filesPartName(backup.filename)]);
    for (const location of this.locations.for(backup)) await removeFrom(location, [backup.filename, backup.filename + MANIFEST_SUFFIX]);
    for (const copy of remaining) this.logger.warn(`backup ${backup.id}: ${copy}`);
    return remaining;
  }

  /** What retention would delete now, which rule keeps each survivor, and what would be archived. */
  async cleanupPreview(): Promise<CleanupPreview> {
    const { retention, archiveAfterDays } = await this.settings.get();
    const completed = await this.retentionCandidates();
    const plan = retentionPlan(completed, retention);
    const byId = new Map(completed.map((b) => [b.id, b]));
    const doomed = new Set(plan.delete);
    const due = archiveAfterDays ? [...(await this.archive.candidates(archiveAfterDays)).values()].flat() : [];
    const summary = (b: Pick<BackupHistory, 'id' | 'filename' | 'createdAt'>) => ({ id: b.id, filename: b.filename, createdAt: b.createdAt });
    return {
      delete: plan.delete.map((id) => summary(byId.get(id)!)),
      keep: plan.keep,
      archive: due.filter((b) => !doomed.has(b.id)).map(summary),
    };
  }

  /** Applies the retention policy, then archives what is older than `archiveAfterDays`, under the lock. */
  async cleanup(actor: string): Promise<{ deleted: number; archived: number }> {
    return this.lock.runExclusive('cleanup', randomUUID(), actor, (operation) => this.applyRetention(operation.signal));
  }

  /** Retention and archiving; the caller holds the lock, and `signal` stops them between two files when it is lost. */
  private async applyRetention(signal: AbortSignal): Promise<{ deleted: number; archived: number }> {
    const { delete: doomed } = await this.cleanupPreview();
    let deleted = 0;
    const stopIfAborted = () => {
      if (signal.aborted) throw new BackupStateException(`the cleanup stopped (${failureMessage(null, signal)}) after deleting ${deleted} of ${doomed.length} backups`);
    };
    for (const { id } of doomed) {
      stopIfAborted();
      // one backup whose copies cannot all be removed now stays for the next cleanup; the others go
      try {
        await this.deleteBackup(await this.get(id));
        deleted++;
      } catch (error) {
        this.logger.error(`retention could not remove backup ${id}: ${(error as Error).message}`);
      }
    }
    if (deleted) this.logger.log(`retention removed ${deleted} backup(s)`);
    stopIfAborted();
    const { archiveAfterDays } = await this.settings.get();
    const archived = archiveAfterDays ? await this.archive.archiveDue(archiveAfterDays, new Date(), signal) : 0;
    return { deleted, archived };
  }

  /** Every completed backup as retention sees it: a few columns, read newest first in pages. */
  private async retentionCandidates(): Promise<RetentionRow[]> {
    const found: RetentionRow[] = [];
    let cursor: { at: string; id: string } | null = null;
    for (;;) {
      const query = this.backups
        .createQueryBuilder('b')
        .select('b.id', 'id')
        .addSelect('b.filename', 'filename')
        .addSelect('b.created_at', 'createdAt')
        .addSelect('b.created_at::text', 'cursorAt')
        .addSelect('b.pinned', 'pinned')
        .addSelect('b.type', 'type')
        .addSelect('b.damaged', 'damaged')
        .addSelect('b.unreadable', 'unreadable')
        .addSelect(`coalesce(b.drill->>'ok' = 'false', false)`, 'drillFailed')
        .addSelect(`(b.verified_at IS NOT NULL OR coalesce(b.drill->>'ok' = 'true', false))`, 'verified')
        .where('b.status = :status', { status: BackupStatus.Completed })
        .orderBy('b.created_at', 'DESC')
        .addOrderBy('b.id', 'DESC')
        .limit(RETENTION_PAGE);
      if (cursor) query.andWhere('(b.created_at, b.id) < (CAST(:at AS timestamptz), CAST(:id AS uuid))', cursor);
      const page: (RetentionRow & { cursorAt: string })[] = await query.getRawMany();
      for (const { cursorAt: _cursor, ...row } of page) found.push(row);
      if (page.length < RETENTION_PAGE) return found;
      cursor = { at: page[page.length - 1].cursorAt, id: page[page.length - 1].id };
    }
  }

  async stats(): Promise<BackupStats> {
    const rows: { status: BackupStatus; type: string; count: string; bytes: string; oldest: Date; newest: Date }[] =
      await this.backups
        .createQueryBuilder('b')
        .select('b.status', 'status')
        .addSelect('b.type', 'type')
        .addSelect('count(*)', 'count')
        .addSelect('coalesce(sum(b.size_bytes), 0)', 'bytes')
        .addSelect('min(b.created_at)', 'oldest')
        .addSelect('max(b.created_at)', 'newest')
        .groupBy('b.status')
        .addGroupBy('b.type')
        .getRawMany();
    const stats: BackupStats = {
      count: 0,
      totalBytes: 0,
      byStatus: { running: 0, completed: 0, failed: 0 },
      byType: {},
      oldest: null,
      newest: null,
      lastSuccessAt: null,
      lastFailureAt: null,
      lastDrill: null,
    };
    for (const row of rows) {
      const count = Number(row.count);
      stats.count += count;
      stats.totalBytes += Number(row.bytes);
      stats.byStatus[row.status] += count;
      stats.byType[row.type] = (stats.byType[row.type] ?? 0) + count;
      if (!stats.oldest || row.oldest < stats.oldest) stats.oldest = row.oldest;
      if (!stats.newest || row.newest > stats.newest) stats.newest = row.newest;
    }
    stats.lastSuccessAt = await this.lastFinished(BackupStatus.Completed);
    stats.lastFailureAt = await this.lastFinished(BackupStatus.Failed);
    const drilled = await this.backups.createQueryBuilder('b').where('b.drill IS NOT NULL').orderBy(`b.drill->>'at'`, 'DESC').getOne();
    if (drilled?.drill) {
      const { at, ok, durationMs, restoreMs } = drilled.drill;
      stats.lastDrill = { backupId: drilled.id, at, ok, durationMs, restoreMs };
    }
    return stats;
  }

  private async start(id: string, actor: string, type: BackupType, dto: CreateBackupDto, origin: BackupOrigin | null) {
    const config = await this.settings.get();
    const context = await this.runner.prepare(config.compression);
    const createdAt = new Date();
    const row = await this.backups.save(
      newBackupRow({
        id,
        status: BackupStatus.Running,
        type,
        filename: backupFilename(context.server.database, type, createdAt, id, context.format),
        sizeBytes: 0,
        sha256: null,
        compression: context.format.compression,
        encrypted: context.format.encrypted,
        createdBy: actor,
        createdAt,
        notes: dto.notes ?? null,
        tags: dto.tags ?? [],
        origin,
      }),
    );
    return { row, context, config };
  }

  private async completed(id: string, verb: string): Promise<BackupHistory> {
    const backup = await this.get(id);
    if (backup.status !== BackupStatus.Completed) {
      throw new BackupStateException(`backup ${id} is ${backup.status}; only a completed backup can be ${verb}`);
    }
    return backup;
  }

  private async lastFinished(status: BackupStatus): Promise<Date | null> {
    const row = await this.backups.findOne({ where: { status }, order: { finishedAt: 'DESC' }, select: { id: true, finishedAt: true } });
    return row?.finishedAt ?? null;
  }

  /** With the lock held, no backup can be running: rows still marked so were interrupted by a crash. */
  private async failInterrupted(): Promise<void> {
    const interrupted = await this.backups.findBy({ status: BackupStatus.Running });
    for (const backup of interrupted) {
      await this.deleteFiles(backup); // what is left is logged; the row is marked failed regardless
      await this.backups.update(
        { id: backup.id, status: BackupStatus.Running },
        { status: BackupStatus.Failed, error: 'interrupted: the process running this backup stopped before it finished', finishedAt: new Date() },
      );
      this.logger.warn(`backup ${backup.id} was interrupted; marked failed`);
    }
    // a ZIP rewrite cut short leaves archived/<day>.zip.partial, which would block every later rewrite of that ZIP
    for (const dir of [...backupDirs(this.options), join(this.options.backupDir, ARCHIVE_DIR)]) {
      // an unreachable external directory (an unmounted NAS) must not block every operation
      const names = await this.storage.list(dir).catch((error: Error) => {
        this.logger.warn(`cannot list ${dir}: ${error.message}`);
        return [];
      });
      for (const name of names) if (name.endsWith(PARTIAL_SUFFIX)) await this.storage.remove(join(dir, name));
    }
  }
}
