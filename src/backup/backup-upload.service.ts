import { BadRequestException, HttpException, Inject, Injectable, Logger, PayloadTooLargeException, RequestTimeoutException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import busboy from 'busboy';
import { createHash, randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Repository } from 'typeorm';
import { BackupNotRestorableException, InsufficientStorageException } from '../common/exceptions';
import { exemptFromRequestTimeout } from '../common/request-timeout';
import { DatabaseInfoRepository } from '../database/database-info.repository';
import { PartialFile, StorageRepository } from '../infra/storage/storage.repository';
import { LockService, OperationHandle } from '../lock/lock.service';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { BackupFormat } from '../pipeline/backup-format';
import { BackupHistory, newBackupRow } from './backup-history.entity';
import { BackupIntegrityService } from './backup-integrity.service';
import { manifestText } from './backup-manifest';
import { backupFilename, backupPath, MANIFEST_SUFFIX, PARTIAL_SUFFIX } from './backup-paths';
import { BackupStatus, BackupType } from './backup.types';

const UPLOAD_NAME = /\.dump(\.zst|\.gz)?(\.age)?$/;
const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 ** 3;
const DEFAULT_UPLOAD_IDLE_MS = 60_000;

interface ReceivedUpload {
  partial: PartialFile;
  size: number;
  sha256: string;
  format: BackupFormat;
  originalName: string;
}

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

  /**
   * Refuses with 507 before reading a byte when the backup directory lacks room. The body ends
   * (partial file removed, lock freed) on a malformed form, the size cap, the client going away
   * or going quiet for `uploadIdleTimeoutMs`, and shutdown.
   */
  async upload(actor: string, request: IncomingMessage): Promise<BackupHistory> {
    try {
      await this.checkFreeSpace(Number(request.headers['content-length']) || 0);
      return await this.lock.runExclusive('upload', randomUUID(), actor, (operation) => this.store(actor, request, operation));
    } catch (error) {
      // the unread rest of a refused body is not worth receiving: close the connection after the answer
      if (!request.complete) (request as IncomingMessage & { res?: ServerResponse }).res?.setHeader('Connection', 'close');
      throw error;
    }
  }

  private async checkFreeSpace(declaredBytes: number): Promise<void> {
    await this.storage.ensurePrivateDir(this.options.backupDir);
    const free = await this.storage.freeBytes(this.options.backupDir);
    const needed = Math.max(this.options.minFreeBytes, declaredBytes);
    if (free < needed) {
      throw new InsufficientStorageException(`backup directory ${this.options.backupDir} has ${free} bytes free; this upload needs ${needed}`);
    }
  }

  private async store(actor: string, request: IncomingMessage, operation: OperationHandle): Promise<BackupHistory> {
    const id = operation.operationId;
    const received = await this.receive(id, request, operation.signal);
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
  }

  /** Streams the one `file` field of a multipart body into a partial file, hashing it; every way it can end removes the partial file. */
  private receive(id: string, request: IncomingMessage, signal: AbortSignal): Promise<ReceivedUpload> {
    return new Promise<ReceivedUpload>((resolve, reject) => {
      const maxBytes = this.options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
      const idleMs = this.options.uploadIdleTimeoutMs ?? DEFAULT_UPLOAD_IDLE_MS;
      let parser: busboy.Busboy;
      try {
        parser = busboy({ headers: { 'content-type': request.headers['content-type'] ?? '' }, limits: { files: 1, fileSize: maxBytes, fields: 0 } });
      } catch {
        return reject(new BadRequestException('send the backup as multipart/form-data with one field named "file"'));
      }
      let partial: PartialFile | undefined;
      let settled = false;
      let handled = false;
      const endExemption = exemptFromRequestTimeout(request);
      const idle = setTimeout(() => fail(new RequestTimeoutException(`the upload sent nothing for ${idleMs / 1000} s`)), idleMs);
      const onData = () => idle.refresh();
      const onClose = () => {
        if (!request.complete) fail(new BadRequestException('the client closed the connection before the upload ended'));
      };
      const onAbort = () => fail(signal.reason as Error);
      const settle = () => {
        settled = true;
        clearTimeout(idle);
        endExemption();
        request.off('data', onData).off('close', onClose);
        signal.removeEventListener('abort', onAbort);
      };
      const fail = (error: Error) => {
        if (settled) return;
        settle();
        request.unpipe(parser);
        parser.destroy();
        void (partial?.discard() ?? Promise.resolve()).then(() => reject(error));
      };
      request.pipe(parser);
      request.on('data', onData).on('close', onClose);
      signal.addEventListener('abort', onAbort, { once: true });
      parser.on('file', (field, stream, info) => {
        stream.on('error', () => undefined); // the parser reports the same failure
        const format = formatFromName(info.filename ?? '');
        if (handled || field !== 'file' || !format) {
          stream.resume();
          return fail(new BadRequestException('the field "file" must hold a .dump, .dump.zst or .dump.gz file, optionally .age'));
        }
        handled = true;
        // not from inside busboy's 'limit' emit: it still writes to the file stream destroying the parser takes away
        stream.on('limit', () => setImmediate(() => fail(new PayloadTooLargeException(`the upload exceeds ${maxBytes} bytes`))));
        const hash = createHash('sha256');
        let size = 0;
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
          .then(async (created) => {
            if (settled) return created.discard();
            partial = created;
            await pipeline(stream, tap, created.stream);
            if (size === 0) throw new BadRequestException('the uploaded file is empty');
            await created.commit();
            if (settled) return;
            settle();
            resolve({ partial: created, size, sha256: hash.digest('hex'), format, originalName: info.filename ?? 'upload' });
          })
          .catch((error: Error) => fail(error instanceof HttpException ? error : new BadRequestException(`malformed upload: ${error.message}`)));
      });
      parser.on('error', (error: Error) => fail(new BadRequestException(`malformed upload: ${error.message}`)));
      parser.on('close', () => {
        if (!handled) fail(new BadRequestException('no field named "file" in the upload'));
      });
    });
  }
}
