import { Inject, Injectable } from '@nestjs/common';
import { DatabaseInfoRepository } from '../database/database-info.repository';
import { pgRestoreListArgs } from '../infra/process/pg-args';
import { PgToolsRepository } from '../infra/process/pg-tools.repository';
import { ProcessRepository } from '../infra/process/process.repository';
import { StorageRepository } from '../infra/storage/storage.repository';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { BackupHistory } from './backup-history.entity';
import { backupPath } from './backup-paths';

export interface IntegrityCheck {
  name: 'file' | 'sha256' | 'dump';
  ok: boolean;
  detail?: string;
}

export interface IntegrityReport {
  valid: boolean;
  checks: IntegrityCheck[];
}

/** Proves a backup file is intact: present at its size, its SHA-256 unchanged, its dump readable. */
@Injectable()
export class BackupIntegrityService {
  constructor(
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    private readonly storage: StorageRepository,
    private readonly processes: ProcessRepository,
    private readonly pgTools: PgToolsRepository,
    private readonly database: DatabaseInfoRepository,
  ) {}

  async check(backup: BackupHistory): Promise<IntegrityReport> {
    const checks: IntegrityCheck[] = [];
    const report = () => ({ valid: checks.every((c) => c.ok), checks });
    const path = backupPath(this.options.backupDir, backup.filename);

    const size = await this.storage.size(path);
    if (size === null) {
      checks.push({ name: 'file', ok: false, detail: `${backup.filename} is missing from ${this.options.backupDir}` });
      return report();
    }
    const sizeOk = size === backup.sizeBytes;
    checks.push({ name: 'file', ok: sizeOk, detail: sizeOk ? `${size} bytes` : `${size} bytes on disk, ${backup.sizeBytes} recorded` });

    const sha256 = await this.storage.sha256(path);
    const shaOk = sha256 === backup.sha256;
    checks.push({ name: 'sha256', ok: shaOk, detail: shaOk ? sha256 : `file hashes to ${sha256}, ${backup.sha256} recorded` });
    if (!shaOk) return report();

    const tools = await this.pgTools.forServer((await this.database.server()).major);
    const list = this.processes.spawn(tools.pgRestore, pgRestoreListArgs(path), { env: { PATH: process.env.PATH } });
    let entries = 0;
    list.stdout!.setEncoding('utf8');
    list.stdout!.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (/^\d+;/.test(line)) entries++;
    });
    try {
      await list.completion;
      checks.push({ name: 'dump', ok: true, detail: `pg_restore --list read ${entries} entries` });
    } catch (error) {
      checks.push({ name: 'dump', ok: false, detail: (error as Error).message });
    }
    return report();
  }
}
