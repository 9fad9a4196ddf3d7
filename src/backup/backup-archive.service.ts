import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { join } from 'node:path';
import { In, LessThan, Repository } from 'typeorm';
import { StorageRepository } from '../infra/storage/storage.repository';
import { ZipRepository } from '../infra/storage/zip.repository';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { BackupHistory } from './backup-history.entity';
import { sha256Of } from './backup-locations';
import { manifestText } from './backup-manifest';
import { backupPath, MANIFEST_SUFFIX } from './backup-paths';
import { BackupStatus } from './backup.types';

export const ARCHIVE_DIR = 'archived';

export type ArchiveCandidate = Pick<BackupHistory, 'id' | 'filename' | 'createdAt'>;

/**
 * Moves completed backups older than `archiveAfterDays` out of the backup directory into one ZIP
 * per day of creation (`archived/2026-11-01.zip`, entries stored, manifests beside them). They
 * stay listed, downloadable, verifiable and restorable, read straight from the ZIP.
 */
@Injectable()
export class BackupArchiveService {
  private readonly logger = new Logger(BackupArchiveService.name);

  constructor(
    @InjectRepository(BackupHistory, PG_BACKUP_CONNECTION) private readonly backups: Repository<BackupHistory>,
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    private readonly storage: StorageRepository,
    private readonly zips: ZipRepository,
  ) {}

  /** Completed, not yet archived backups created before the cutoff, grouped by UTC day (only the columns a preview shows). */
  async candidates(afterDays: number, now = new Date()): Promise<Map<string, ArchiveCandidate[]>> {
    const cutoff = new Date(now.getTime() - afterDays * 86_400_000);
    const due = await this.backups.find({
      where: { status: BackupStatus.Completed, archived: false, createdAt: LessThan(cutoff) },
      order: { createdAt: 'ASC' },
      select: { id: true, filename: true, createdAt: true },
    });
    const byDay = new Map<string, ArchiveCandidate[]>();
    for (const backup of due) {
      const day = backup.createdAt.toISOString().slice(0, 10);
      const list = byDay.get(day);
      if (list) list.push(backup);
      else byDay.set(day, [backup]);
    }
    return byDay;
  }

  /** Archives what is due; the caller holds the operation lock. Returns how many were archived. */
  async archiveDue(afterDays: number, now = new Date(), signal?: AbortSignal): Promise<number> {
    let archived = 0;
    for (const [day, due] of await this.candidates(afterDays, now)) {
      signal?.throwIfAborted();
      // whole rows (their manifests go into the ZIP) one day at a time
      const backups = await this.backups.find({ where: { id: In(due.map((b) => b.id)), archived: false }, order: { createdAt: 'ASC' } });
      const present: BackupHistory[] = [];
      for (const backup of backups) {
        const path = backupPath(this.options.backupDir, backup.filename);
        if ((await this.storage.size(path)) === backup.sizeBytes) present.push(backup);
        else this.logger.warn(`backup ${backup.id} not archived: its file is missing or has the wrong size`);
      }
      if (!present.length) continue;
      const relative = `${ARCHIVE_DIR}/${day}.zip`;
      const zipPath = join(this.options.backupDir, relative);
      await this.storage.ensurePrivateDir(join(this.options.backupDir, ARCHIVE_DIR));
      await this.zips.rewrite(
        zipPath,
        present.flatMap((backup) => [
          { name: backup.filename, content: () => this.storage.openRead(backupPath(this.options.backupDir, backup.filename)) },
          { name: backup.filename + MANIFEST_SUFFIX, content: manifestText({ ...backup, archived: true, archivePath: relative }, this.options.manifestHmacKey) },
        ]),
      );
      for (const backup of present) {
        signal?.throwIfAborted();
        // the originals go only once their bytes are proven in the ZIP
        if ((await sha256Of(this.zips.openEntry(zipPath, backup.filename))) !== backup.sha256) {
          throw new Error(`archiving ${backup.filename} into ${relative} failed: the entry's SHA-256 differs`);
        }
        await this.backups.update({ id: backup.id }, { archived: true, archivePath: relative });
        const path = backupPath(this.options.backupDir, backup.filename);
        await this.storage.remove(path);
        await this.storage.remove(path + MANIFEST_SUFFIX);
        archived++;
      }
      this.logger.log(`archived ${present.length} backup(s) of ${day} into ${relative}`);
    }
    return archived;
  }
}
