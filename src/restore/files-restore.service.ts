import { Inject, Injectable } from '@nestjs/common';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackupHistory } from '../backup/backup-history.entity';
import { sha256Of } from '../backup/backup-locations';
import { backupPath } from '../backup/backup-paths';
import { BackupNotRestorableException } from '../common/exceptions';
import { StorageRepository } from '../infra/storage/storage.repository';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { Compression } from '../pipeline/backup-format';
import { BackupPipeline } from '../pipeline/backup-pipeline.service';
import { extractFiles, FilesRestoreResult } from './files-extract';

/** Puts the files part of a backup back: into place (`/`) or under a directory given. */
@Injectable()
export class FilesRestoreService {
  constructor(
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    private readonly storage: StorageRepository,
    private readonly backupPipeline: BackupPipeline,
  ) {}

  /** 422 unless the backup has a files part whose size and SHA-256 still match. */
  async check(backup: BackupHistory): Promise<void> {
    if (!backup.files) throw new BackupNotRestorableException(`backup ${backup.id} has no files part (BACKUP_INCLUDE_PATHS was not set)`);
    const path = backupPath(this.options.backupDir, backup.files.filename);
    const size = await this.storage.size(path);
    if (size !== backup.files.sizeBytes || (await sha256Of(this.storage.openRead(path))) !== backup.files.sha256) {
      throw new BackupNotRestorableException(`the files part of backup ${backup.id} is missing or damaged; nothing was changed`);
    }
  }

  async restore(backup: BackupHistory, target: string, signal: AbortSignal): Promise<FilesRestoreResult> {
    const stages = this.backupPipeline.decoders({ compression: backup.compression as Compression, encrypted: backup.encrypted });
    const plain = new PassThrough();
    const stop = new AbortController();
    signal.addEventListener('abort', () => stop.abort(signal.reason), { once: true });
    const path = backupPath(this.options.backupDir, backup.files!.filename);
    const decoding = pipeline([this.storage.openRead(path), ...stages.map((s) => s.stream), plain], { signal: stop.signal });
    decoding.catch(() => undefined); // awaited below
    try {
      const [result] = await Promise.all([extractFiles(plain, target), decoding, ...stages.map((s) => s.completion)]);
      return result;
    } catch (error) {
      stop.abort(error);
      throw error;
    } finally {
      for (const stage of stages) stage.kill();
    }
  }
}
