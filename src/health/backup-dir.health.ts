import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { PARTIAL_SUFFIX } from '../backup/backup-paths';
import { StorageRepository } from '../infra/storage/storage.repository';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { CHECK_TIMEOUT_MS } from './health.constants';

/** The backup directory takes a new file and has the free space a backup needs. */
@Injectable()
export class BackupDirHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly storage: StorageRepository,
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
  ) {}

  isWritable(key: string) {
    const { backupDir, minFreeBytes } = this.options;
    return this.health
      .check(key)
      .attempt(async () => {
        // a `.partial` name: the stale-file sweep removes it should the process die in between
        const probe = join(backupDir, `.health-${randomUUID()}${PARTIAL_SUFFIX}`);
        try {
          // a backup creates the directory too, so a missing one is no failure
          await this.storage.ensurePrivateDir(backupDir);
          await (await this.storage.createPartial(probe)).discard();
        } catch (error) {
          // the code alone: the message names the path, and this route is public
          throw new Error(`not writable (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
        }
        const freeBytes = await this.storage.freeBytes(backupDir);
        if (freeBytes < minFreeBytes) throw new Error(`${freeBytes} bytes free, below the ${minFreeBytes} a backup needs`);
        return { freeBytes };
      })
      .withTimeout(CHECK_TIMEOUT_MS);
  }
}
