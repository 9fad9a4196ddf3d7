import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { realpath } from 'node:fs/promises';
import { join, normalize, relative } from 'node:path';
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
import { ExtractPolicy, extractFiles, FilesRestoreResult, isWithin } from './files-extract';

/** `filesTarget` meaning "back into place". */
const IN_PLACE = '/';

/**
 * Puts the files part of a backup back: under a directory inside one of `restoreFilesRoots`, or
 * into place (`/`, only with `restoreFilesInPlace`, and then only into the backup's own include
 * paths). Nothing is allowed by default.
 */
@Injectable()
export class FilesRestoreService {
  constructor(
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    private readonly storage: StorageRepository,
    private readonly backupPipeline: BackupPipeline,
  ) {}

  /** 400 for a target the configuration does not allow; 422 unless the backup has a files part whose size and SHA-256 still match. */
  async check(backup: BackupHistory, target = IN_PLACE): Promise<void> {
    if (!backup.files) throw new BackupNotRestorableException(`backup ${backup.id} has no files part (BACKUP_INCLUDE_PATHS was not set)`);
    await this.policy(backup, target);
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
      const [result] = await Promise.all([extractFiles(plain, await this.policy(backup, target)), decoding, ...stages.map((s) => s.completion)]);
      return result;
    } catch (error) {
      stop.abort(error);
      throw error;
    } finally {
      for (const stage of stages) stage.kill();
    }
  }

  /** Where this restore may write; BadRequestException when the target is not allowed. */
  private async policy(backup: BackupHistory, target: string): Promise<ExtractPolicy> {
    if (target === IN_PLACE) {
      if (!this.options.restoreFilesInPlace) {
        throw new BadRequestException('restoring files into place is off (RESTORE_FILES_IN_PLACE); give a filesTarget inside RESTORE_FILES_ROOTS');
      }
      return { root: IN_PLACE, allowed: backup.files!.paths.map((p) => normalize(p)) };
    }
    const wanted = normalize(target);
    for (const root of this.options.restoreFilesRoots ?? []) {
      if (!isWithin(normalize(root), wanted)) continue;
      // the configured root is trusted (and may itself be a symlink); everything below it is checked
      const real = await realpath(root).catch(() => normalize(root));
      return { root: join(real, relative(normalize(root), wanted)), allowed: [real] };
    }
    throw new BadRequestException(`filesTarget ${target} is not inside a directory of RESTORE_FILES_ROOTS (${(this.options.restoreFilesRoots ?? []).join(', ') || 'none configured'})`);
  }
}
