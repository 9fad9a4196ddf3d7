import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { AgeKeyMismatchError } from '../crypto/age';
import { LockService } from '../lock/lock.service';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { EncryptionNotConfiguredException } from '../pipeline/backup-pipeline.service';
import { COMPRESSIONS, Compression } from '../pipeline/backup-format';
import { BackupHistory } from './backup-history.entity';
import { BackupIntegrityService, TableOfContents } from './backup-integrity.service';
import { BackupLocation, BackupLocations, sha256Of } from './backup-locations';
import { MAX_MANIFEST_BYTES, manifestSignature } from './backup-manifest';
import { MANIFEST_SUFFIX } from './backup-paths';
import { BackupMetadata, BackupStatus, BackupType } from './backup.types';

export interface ImportResult {
  imported: string[];
  skipped: { file: string; reason: string }[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Clocks may disagree this much: a manifest dated later than now plus this is refused. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** The TOC's dump time is pg_dump's wall clock in an unknown zone (UTC−12 … UTC+14): a manifest date this close agrees. */
const TOC_ZONE_SLACK_MS = 14 * 3_600_000;

/**
 * Disaster recovery: rebuilds the history from the backup locations alone (primary, external, S3). Each backup file's
 * `.json` manifest describes it; a file is registered only when its size and SHA-256 match. Anyone who can write a
 * location can write a manifest, so the archive is the truth: its table of contents gives the database, the server,
 * whether it holds large objects and when it was dumped; a date in the future is refused; `pinned`, `verifiedAt` and
 * drill results are never imported (verify and drill again). With `manifestHmacKey`, a signature that does not hold is
 * refused, and with `manifestRequireSignature` so is an unsigned manifest.
 */
@Injectable()
export class BackupImportService {
  private readonly logger = new Logger(BackupImportService.name);

  constructor(
    @InjectRepository(BackupHistory, PG_BACKUP_CONNECTION) private readonly backups: Repository<BackupHistory>,
    private readonly locations: BackupLocations,
    private readonly lock: LockService,
    private readonly integrity: BackupIntegrityService,
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
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
    const manifestSize = await location.size(manifestName);
    if (manifestSize !== null && manifestSize > MAX_MANIFEST_BYTES) return `the manifest is ${manifestSize} bytes, more than ${MAX_MANIFEST_BYTES}`;
    const parsed: unknown = JSON.parse(await location.readText(manifestName));
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return 'the manifest is not a JSON object';
    const signatureProblem = this.signatureProblem(parsed as Record<string, unknown>);
    if (signatureProblem) return signatureProblem;
    const manifest = parsed as Partial<BackupHistory>;
    const filename = manifestName.slice(0, -MANIFEST_SUFFIX.length);
    if (manifest.filename !== filename) return 'the manifest names another file';
    if (typeof manifest.id !== 'string' || !UUID.test(manifest.id)) return 'the manifest has no valid id';
    if (manifest.status !== BackupStatus.Completed) return `the manifest says ${manifest.status}`;
    if (!COMPRESSIONS.includes(manifest.compression as never)) return 'unknown compression';
    if (await this.backups.existsBy({ id: manifest.id })) return 'already listed';
    const now = new Date();
    const claimed = new Date(manifest.createdAt ?? Number.NaN);
    if (Number.isNaN(claimed.getTime())) return 'the manifest has no valid createdAt';
    if (claimed.getTime() > now.getTime() + CLOCK_SKEW_MS) return `the manifest is dated in the future (${claimed.toISOString()})`;
    const size = await location.size(filename);
    if (size === null) return 'the backup file is missing';
    // an empty "file" may be a FIFO or a device, whose read would never end
    if (!size) return 'the backup file is empty';
    if (size !== manifest.sizeBytes) return `size ${size} differs from the manifest's ${manifest.sizeBytes}`;
    if ((await sha256Of(location.open(filename))) !== manifest.sha256) return 'SHA-256 differs from the manifest';
    const encrypted = manifest.encrypted === true;
    let toc: TableOfContents | null = null;
    try {
      toc = await this.integrity.tableOfContents({ location: location.describe(filename), open: () => location.open(filename) }, {
        compression: manifest.compression as Compression,
        encrypted,
      });
    } catch (error) {
      // without the key the archive cannot speak: imported, but nothing is taken on the manifest's word (see below)
      if (!(error instanceof AgeKeyMismatchError || error instanceof EncryptionNotConfiguredException)) return `not a readable dump: ${(error as Error).message}`;
    }
    if (toc?.createdAt && toc.createdAt.getTime() > now.getTime() + TOC_ZONE_SLACK_MS) return `the archive is dated in the future (${toc.createdAt.toISOString()})`;
    const createdAt = toc?.createdAt && Math.abs(claimed.getTime() - toc.createdAt.getTime()) > TOC_ZONE_SLACK_MS ? new Date(Math.min(toc.createdAt.getTime(), now.getTime())) : claimed;
    const finishedAt = manifest.finishedAt ? new Date(manifest.finishedAt) : null;
    const finishedOk = finishedAt !== null && finishedAt >= createdAt && finishedAt.getTime() <= now.getTime() + CLOCK_SKEW_MS;
    await this.backups.insert({
      id: manifest.id,
      status: BackupStatus.Completed,
      type: Object.values(BackupType).includes(manifest.type as BackupType) ? manifest.type! : BackupType.Upload,
      filename,
      sizeBytes: size,
      sha256: manifest.sha256!,
      compression: manifest.compression!,
      encrypted,
      createdBy: String(manifest.createdBy ?? 'unknown').slice(0, 200),
      createdAt,
      finishedAt: finishedOk ? finishedAt : null,
      durationMs: finishedOk && Number.isSafeInteger(manifest.durationMs) && manifest.durationMs! >= 0 ? manifest.durationMs! : null,
      notes: typeof manifest.notes === 'string' ? manifest.notes : null,
      tags: Array.isArray(manifest.tags) ? manifest.tags.filter((t): t is string => typeof t === 'string') : [],
      error: null,
      // proven by this server only: a verification, a drill and a pin are never taken from a file
      verifiedAt: null,
      pinned: false,
      metadata: importedMetadata(manifest.metadata, toc),
      copies: Array.isArray(manifest.copies) ? manifest.copies : [],
      origin: { imported: true },
    });
    return null;
  }

  /** Why the manifest's signature is not good enough, or null. */
  private signatureProblem(manifest: Record<string, unknown>): string | null {
    const { manifestHmacKey: key, manifestRequireSignature: required } = this.options;
    if (!key) return required ? 'a signed manifest is required, but no manifest key is configured' : null;
    const signature = manifestSignature(manifest, key);
    if (signature === 'invalid') return 'the manifest signature does not match its content';
    if (signature === 'unsigned' && required) return 'the manifest is not signed';
    return null;
  }
}

/**
 * The manifest's row counts and encryption note, with what the archive itself says in place of
 * the manifest's word: database, versions and large objects. Without a readable table of
 * contents, large objects stay unknown (a restore then takes the path that is safe with them).
 */
function importedMetadata(claimed: BackupMetadata | null | undefined, toc: TableOfContents | null): BackupMetadata | null {
  const base: BackupMetadata | null = claimed && typeof claimed === 'object' && !Array.isArray(claimed) ? { ...claimed } : null;
  if (!toc) {
    if (base) delete base.largeObjects;
    return base;
  }
  return {
    ...(base ?? { productVersion: 'unknown', tables: {} }),
    database: toc.database ?? base?.database ?? 'unknown',
    serverVersion: toc.serverVersion ?? base?.serverVersion ?? 'unknown',
    pgDumpVersion: toc.pgDumpVersion ?? base?.pgDumpVersion ?? 'unknown',
    largeObjects: toc.largeObjects,
  };
}
