import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { LockService } from '../lock/lock.service';
import { PG_BACKUP_CONNECTION } from '../pg-backup.options';
import { COMPRESSIONS } from '../pipeline/backup-format';
import { BackupHistory } from './backup-history.entity';
import { BackupLocation, BackupLocations, sha256Of } from './backup-locations';
import { MANIFEST_SUFFIX } from './backup-paths';
import { BackupStatus, BackupType } from './backup.types';

export interface ImportResult {
  imported: string[];
  skipped: { file: string; reason: string }[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Disaster recovery: rebuilds the history from the backup locations alone (primary, external, S3). Each backup file's
 * `.json` manifest describes it; a file is registered only when its size and SHA-256 match.
 */
@Injectable()
export class BackupImportService {
  private readonly logger = new Logger(BackupImportService.name);

  constructor(
    @InjectRepository(BackupHistory, PG_BACKUP_CONNECTION) private readonly backups: Repository<BackupHistory>,
    private readonly locations: BackupLocations,
    private readonly lock: LockService,
  ) {}

  async importDirectory(actor: string): Promise<ImportResult> {
    return this.lock.runExclusive('import', randomUUID(), actor, async () => {
      const result: ImportResult = { imported: [], skipped: [] };
      for (const location of this.locations.all()) {
        let names: string[];
        try {
          names = await location.list();
        } catch (error) {
          result.skipped.push({ file: `${location.kind} storage`, reason: `cannot list: ${(error as Error).message}` });
          continue;
        }
        const manifests = names.filter((name) => name.endsWith(MANIFEST_SUFFIX));
        for (const name of manifests.sort()) {
          const reason = await this.importOne(location, name).catch((error: Error) => error.message);
          if (reason === null) result.imported.push(name.slice(0, -MANIFEST_SUFFIX.length));
          else result.skipped.push({ file: location.describe(name), reason });
        }
      }
      if (result.imported.length) this.logger.log(`imported ${result.imported.length} backup(s)`);
      return result;
    });
  }

  /** Registers one backup; returns null when imported, or why not. */
  private async importOne(location: BackupLocation, manifestName: string): Promise<string | null> {
    const manifest = JSON.parse(await location.readText(manifestName)) as Partial<BackupHistory>;
    const filename = manifestName.slice(0, -MANIFEST_SUFFIX.length);
    if (manifest.filename !== filename) return 'the manifest names another file';
    if (typeof manifest.id !== 'string' || !UUID.test(manifest.id)) return 'the manifest has no valid id';
    if (manifest.status !== BackupStatus.Completed) return `the manifest says ${manifest.status}`;
    if (!COMPRESSIONS.includes(manifest.compression as never)) return 'unknown compression';
    if (await this.backups.existsBy({ id: manifest.id })) return 'already listed';
    const size = await location.size(filename);
    if (size === null) return 'the backup file is missing';
    if (size !== manifest.sizeBytes) return `size ${size} differs from the manifest's ${manifest.sizeBytes}`;
    if ((await sha256Of(location.open(filename))) !== manifest.sha256) return 'SHA-256 differs from the manifest';
    await this.backups.insert({
      id: manifest.id,
      status: BackupStatus.Completed,
      type: Object.values(BackupType).includes(manifest.type as BackupType) ? manifest.type! : BackupType.Upload,
      filename,
      sizeBytes: size,
      sha256: manifest.sha256!,
      compression: manifest.compression!,
      encrypted: manifest.encrypted === true,
      createdBy: String(manifest.createdBy ?? 'unknown'),
      createdAt: new Date(manifest.createdAt ?? Date.now()),
      finishedAt: manifest.finishedAt ? new Date(manifest.finishedAt) : null,
      durationMs: manifest.durationMs ?? null,
      notes: manifest.notes ?? null,
      tags: Array.isArray(manifest.tags) ? manifest.tags : [],
      error: null,
      verifiedAt: manifest.verifiedAt ? new Date(manifest.verifiedAt) : null,
      metadata: manifest.metadata ?? null,
      pinned: manifest.pinned === true,
      copies: Array.isArray(manifest.copies) ? manifest.copies : [],
      origin: { imported: true },
    });
    return null;
  }
}
