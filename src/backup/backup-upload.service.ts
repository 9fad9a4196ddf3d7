import { BadRequestException, Inject, Injectable, Logger, PayloadTooLargeException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import busboy from 'busboy';
import { createHash, randomUUID } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Repository } from 'typeorm';
import { BackupNotRestorableException } from '../common/exceptions';
import { DatabaseInfoRepository } from '../database/database-info.repository';
import { PartialFile, StorageRepository } from '../infra/storage/storage.repository';
import { LockService } from '../lock/lock.service';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { BackupFormat } from '../pipeline/backup-format';
import { BackupHistory, newBackupRow } from './backup-history.entity';
import { BackupIntegrityService } from './backup-integrity.service';
import { manifestText } from './backup-manifest';
import { backupFilename, backupPath, MANIFEST_SUFFIX, PARTIAL_SUFFIX } from './backup-paths';
import { BackupStatus, BackupType } from './backup.types';

const UPLOAD_NAME = /\.dump(\.zst|\.gz)?(\.age)?$/;
const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 ** 3;

/** The format an uploaded file's name declares: `.dump`, then `.zst`/`.gz`, then `.age`. */
export function formatFromName(name: string): BackupFormat | null {
  const match = UPLOAD_NAME.exec(name);
  if (!match) return null;
  return { compression: match[1] === '.zst' ? 'zstd' : match[1] === '.gz' ? 'gzip' : 'none', encrypted: Boolean(match[2]) };
}

/**
 * `POST /backups/upload`: a backup file made elsewhere, streamed to disk (never held in memory),
 * size-capped, hashed, and listed as `type: "upload"` only once pg_restore reads its table of contents.
 */
@Injectable()
export class BackupUploadService {
  private readonly logger = new Logger(BackupUploadService.name);

  constructor(
    @InjectRepository(BackupHistory, PG_BACKUP_CONNECTION) private readonly backups: Repository<BackupHistory>,
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    private readonly storage: StorageRepository,
    private readonly lock: LockService,
    private readonly integrity: BackupIntegrityService,
    private readonly database: DatabaseInfoRepository,
  ) {}

  async upload(actor: string, contentType: string | undefined, body: Readable): Promise<BackupHistory> {
    const id = randomUUID();
    return this.lock.runExclusive('upload', id, actor, async () => {
      await this.storage.ensurePrivateDir(this.options.backupDir);
      const received = await this.receive(id, contentType, body);
      const createdAt = new Date();
      const filename = backupFilename((await this.database.server()).database, BackupType.Upload, createdAt, id, received.format);
      const path = backupPath(this.options.backupDir, filename);
      const backup = newBackupRow({
        id,
        status: BackupStatus.Completed,
        type: BackupType.Upload,
        filename,
        sizeBytes: received.size,
        sha256: received.sha256,
        compression: received.format.compression,
        encrypted: received.format.encrypted,
        createdBy: actor,
        createdAt,
        finishedAt: createdAt,
        durationMs: 0,
        notes: `uploaded as ${received.originalName}`,
        tags: ['upload'],
      });
      try {
        await this.storage.renameDurably(received.partial.path, path);
        const report = await this.integrity.check(backup, { full: false });
        if (!report.valid) {
          const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
          throw new BackupNotRestorableException(`the uploaded file is not a readable backup (${failed.join('; ')})`);
        }
        await this.storage.writeFileAtomically(path + MANIFEST_SUFFIX, manifestText(backup, this.options.manifestHmacKey));
        const saved = await this.backups.save(backup);
        this.logger.log(`upload ${received.originalName} listed as backup ${id} (${received.size} bytes)`);
        return saved;
      } catch (error) {
        await received.partial.discard();
        await this.storage.remove(path);
        await this.storage.remove(path + MANIFEST_SUFFIX);
        throw error;
      }
    });
  }

  /** Streams the one `file` field of a multipart body into a partial file, hashing it. */
  private receive(id: string, contentType: string | undefined, body: Readable) {
    return new Promise<{ partial: PartialFile; size: number; sha256: string; format: BackupFormat; originalName: string }>((resolve, reject) => {
      const maxBytes = this.options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
      let parser: busboy.Busboy;
      try {
        parser = busboy({ headers: { 'content-type': contentType ?? '' }, limits: { files: 1, fileSize: maxBytes, fields: 0 } });
      } catch {
        return reject(new BadRequestException('send the backup as multipart/form-data with one field named "file"'));
      }
      let handled = false;
      parser.on('file', (field, stream, info) => {
        handled = true;
        const format = formatFromName(info.filename ?? '');
        if (field !== 'file' || !format) {
          stream.resume();
          return reject(new BadRequestException('the field "file" must hold a .dump, .dump.zst or .dump.gz file, optionally .age'));
        }
        const hash = createHash('sha256');
        let size = 0;
        let truncated = false;
        stream.on('limit', () => (truncated = true));
        const tap = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            hash.update(chunk);
            size += chunk.length;
            callback(null, chunk);
          },
        });
        const partialPath = backupPath(this.options.backupDir, `upload-${id}.dump`) + PARTIAL_SUFFIX;
        this.storage
          .createPartial(partialPath)
          .then(async (partial) => {
            try {
              await pipeline(stream, tap, partial.stream);
              if (truncated) throw new PayloadTooLargeException(`the upload exceeds ${maxBytes} bytes`);
              if (size === 0) throw new BadRequestException('the uploaded file is empty');
              await partial.commit();
              resolve({ partial, size, sha256: hash.digest('hex'), format, originalName: info.filename ?? 'upload' });
            } catch (error) {
              await partial.discard();
              reject(error);
            }
          })
          .catch(reject);
      });
      parser.on('error', (error: Error) => reject(new BadRequestException(`malformed upload: ${error.message}`)));
      parser.on('close', () => {
        if (!handled) reject(new BadRequestException('no field named "file" in the upload'));
      });
      body.pipe(parser);
    });
  }
}
