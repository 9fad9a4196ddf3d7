import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { QueryDeepPartialEntity, Repository } from 'typeorm';
import { InsufficientStorageException, OperationCancelledError } from '../common/exceptions';
import { untilAborted } from '../common/until-aborted';
import { APPLICATION_NAME } from '../database/data-source';
import { DatabaseInfoRepository, DumpSnapshot, ServerInfo, SNAPSHOT_SESSION } from '../database/database-info.repository';
import { TRASH_SCHEMA_PREFIX } from '../database/trash-schemas';
import { pgDumpArgs } from '../infra/process/pg-args';
import { pgConnection } from '../infra/process/pg-connection';
import { PgTools, PgToolsRepository } from '../infra/process/pg-tools.repository';
import { ChildProcessHandle, ProcessRepository } from '../infra/process/process.repository';
import { S3Repository } from '../infra/storage/s3.repository';
import { PartialFile, StorageRepository } from '../infra/storage/storage.repository';
import { loadArchiver } from '../infra/storage/zip.repository';
import { BackupEvents } from '../events/backup-events';
import { OperationHandle } from '../lock/lock.service';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { BackupFormat, Compression } from '../pipeline/backup-format';
import { BackupPipeline, StageProcess } from '../pipeline/backup-pipeline.service';
import { PRODUCT_VERSION } from '../product-version';
import { BackupHistory } from './backup-history.entity';
import { BackupIntegrityService } from './backup-integrity.service';
import { sha256Of } from './backup-locations';
import { manifestText } from './backup-manifest';
import { backupDirs, backupPath, filesPartName, MANIFEST_SUFFIX, PARTIAL_SUFFIX } from './backup-paths';
import { backupContents } from './backup-contents';
import { BackupContents, BackupCopy, BackupFilesPart, BackupMetadata, BackupStatus } from './backup.types';
import { LockWaitGuard } from './lock-wait-guard';

const PROGRESS_POLL_MS = 500;
/** Compressed custom dumps of typical data come out well under half the table size. */
const COMPRESSED_SIZE_RATIO = 0.5;
/** Tables up to this size are counted exactly at backup time (a drill compares the counts). */
export const DEFAULT_EXACT_COUNT_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_LOCK_WAIT_TIMEOUT_MS = 60_000;

export interface DumpContext {
  server: ServerInfo;
  tools: PgTools;
  format: BackupFormat;
}

/** Runs pg_dump into a backup file: streamed, hashed, fsynced, renamed into place. */
@Injectable()
export class BackupRunner {
  private readonly logger = new Logger(BackupRunner.name);

  constructor(
    @InjectRepository(BackupHistory, PG_BACKUP_CONNECTION) private readonly backups: Repository<BackupHistory>,
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    private readonly database: DatabaseInfoRepository,
    private readonly pgTools: PgToolsRepository,
    private readonly processes: ProcessRepository,
    private readonly storage: StorageRepository,
    private readonly pipeline: BackupPipeline,
    private readonly integrity: BackupIntegrityService,
    private readonly s3: S3Repository,
    private readonly events: BackupEvents,
  ) {}

  /** Everything that can be checked before a backup starts: tool versions and free space. */
  async prepare(compression: Compression): Promise<DumpContext> {
    const server = await this.database.server();
    const tools = await this.pgTools.forServer(server.major);
    await this.storage.ensurePrivateDir(this.options.backupDir);
    const free = await this.storage.freeBytes(this.options.backupDir);
    const dataBytes = await this.database.userDataBytes();
    const estimate = Math.ceil(dataBytes * (compression === 'none' ? 1 : COMPRESSED_SIZE_RATIO));
    const needed = Math.max(this.options.minFreeBytes, estimate);
    if (free < needed) {
      throw new InsufficientStorageException(
        `backup directory ${this.options.backupDir} has ${mib(free)} MiB free; this backup needs about ${mib(needed)} MiB`,
      );
    }
    return { server, tools, format: this.pipeline.formatFor(compression) };
  }

  /** What the new file holds, from its table of contents (read off its head), for GET /backups/:id/contents; absent when it cannot be read here (encrypted to keys this server lacks). */
  private async readContents(path: string, format: BackupFormat, metadata: BackupMetadata): Promise<BackupContents | undefined> {
    try {
      const toc = await this.integrity.archiveToc({ location: path, open: () => createReadStream(path) }, format);
      return backupContents(toc, metadata);
    } catch (error) {
      this.logger.warn(`the contents of ${path} were not recorded: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** pg_dump → compress → encrypt → file → fsync → SHA-256 → rename; records the outcome on the backup's row; never throws. */
  async run(backup: BackupHistory, context: DumpContext, operation: OperationHandle, { verify = false } = {}): Promise<BackupHistory> {
    const finalPath = backupPath(this.options.backupDir, backup.filename);
    let partial: PartialFile | undefined;
    let child: ChildProcessHandle | undefined;
    let stages: StageProcess[] = [];
    let snapshot: DumpSnapshot | undefined;
    let progress: NodeJS.Timeout | undefined;
    let lockWait: LockWaitGuard | undefined;
    try {
      partial = await this.storage.createPartial(finalPath + PARTIAL_SUFFIX);
      // the guard fails the backup, naming the blocker; the servers' own timeouts (twice as long) are the backstop
      const lockWaitMs = this.options.lockWaitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS;
      lockWait = new LockWaitGuard(this.database, [dumpSessionName(backup.id), SNAPSHOT_SESSION], lockWaitMs);
      snapshot = await this.database.openSnapshot({ lockTimeoutMs: 2 * lockWaitMs });
      const connection = pgConnection(this.options.databaseUrl, dumpSessionName(backup.id));
      // a restore's leftover trash schemas (see wipeDatabaseSql) are never part of a backup
      const dumpArgs = pgDumpArgs(connection.dbnameArg, [...(await this.database.installationSchemas()), `${TRASH_SCHEMA_PREFIX}*`], snapshot.id, 2 * lockWaitMs, backup.origin?.scope);
      const encoded = this.pipeline.encodeOutputOf(
        context.format,
        () => {
          child = this.processes.spawn(context.tools.pgDump, dumpArgs, { env: connection.env });
          return child.stdout!;
        },
        partial.fd,
      );
      stages = encoded.stages;
      const file = partial;
      progress = setInterval(() => void this.storage.size(file.path).then((n) => operation.reportBytes(n ?? 0), () => undefined), PROGRESS_POLL_MS);
      // with zstd writing the file itself, Node's stream is ended unwritten (zstd has its own descriptor)
      const written = encoded.streams.length ? pipeline([...encoded.streams, file.stream], { signal: operation.signal }) : finished(file.stream.end());
      // counted in the dump's own snapshot while pg_dump streams
      const [rowCounts, cluster] = await untilAborted(
        operation.signal,
        Promise.race([
          Promise.all([
            snapshot.rowCounts(this.options.exactCountMaxBytes ?? DEFAULT_EXACT_COUNT_MAX_BYTES, backup.origin?.scope),
            snapshot.clusterObjects(),
            written,
            child!.completion, // encodeOutputOf started it
            ...stages.map((stage) => stage.completion),
          ]),
          lockWait.exceeded,
        ]),
      );
      lockWait.stop();
      clearInterval(progress);
      await snapshot.close();
      snapshot = undefined;
      await partial.commit();
      const { sha256, size } = await this.storage.sha256(partial.path);
      operation.reportBytes(size);
      await this.storage.renameDurably(partial.path, finalPath);
      partial = undefined;

      const finishedAt = new Date();
      Object.assign(backup, {
        status: BackupStatus.Completed,
        sizeBytes: size,
        sha256,
        finishedAt,
        durationMs: finishedAt.getTime() - backup.createdAt.getTime(),
        metadata: {
          database: context.server.database,
          serverVersion: context.server.version,
          pgDumpVersion: context.tools.pgDumpVersion,
          productVersion: PRODUCT_VERSION,
          tables: rowCounts.tables,
          estimatedTables: rowCounts.estimated,
          ...(rowCounts.bytes && { tableBytes: rowCounts.bytes }),
          largeObjects: rowCounts.largeObjects,
          cluster,
          encryption: this.pipeline.describeEncryption(context.format),
        },
      });
      // encrypted to public keys alone (no identity here), the file cannot be read back: its contents are read on request where it can
      const readable = !context.format.encrypted || !!this.options.encryption?.identities.length;
      const contents = readable ? await this.readContents(finalPath, context.format, backup.metadata!) : undefined;
      if (contents) backup.metadata!.contents = contents;
      backup.files = await this.writeFilesPart(backup, context, operation.signal);
      if (verify) {
        const report = await this.integrity.check(backup);
        const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
        if (failed.length) throw new Error(`verification after create failed: ${failed.join('; ')}`);
        backup.verifiedAt = new Date();
      }
      backup.copies = [...(await this.replicate(backup, finalPath, operation.signal)), ...(await this.uploadToS3(backup, finalPath, operation.signal))];
      // notes, tags and the pin are the admin's (PATCH) while the backup runs: the manifest takes them from the row
      const edited = await this.backups.findOneBy({ id: backup.id });
      if (edited) Object.assign(backup, { notes: edited.notes, tags: edited.tags, pinned: edited.pinned });
      const manifest = manifestText(backup, this.options.manifestHmacKey);
      for (const copy of [{ storage: 'local', location: finalPath, state: 'ok' }, ...backup.copies]) {
        if (copy.state !== 'ok') continue;
        if (copy.storage === 's3') await this.s3.writeText(backup.filename + MANIFEST_SUFFIX, manifest);
        else await this.storage.writeFileAtomically(copy.location + MANIFEST_SUFFIX, manifest);
      }
      const saved = await this.record(backup, ['status', 'sizeBytes', 'sha256', 'finishedAt', 'durationMs', 'metadata', 'files', 'verifiedAt', 'copies']);
      this.events.emit('backup.completed', { backup: saved });
      return saved;
    } catch (error) {
      lockWait?.stop();
      clearInterval(progress);
      child?.kill();
      for (const stage of stages) stage.kill();
      // a pg_dump session waiting for a table lock outlives its killed client until it gets the lock
      if (child) await this.database.terminateSessions(dumpSessionName(backup.id)).catch(() => undefined);
      await snapshot?.close();
      await partial?.discard();
      for (const dir of backupDirs(this.options)) {
        const path = backupPath(dir, backup.filename);
        await this.storage.remove(path).catch(() => undefined);
        await this.storage.remove(path + MANIFEST_SUFFIX).catch(() => undefined);
      }
      await this.storage.remove(backupPath(this.options.backupDir, filesPartName(backup.filename))).catch(() => undefined);
      if (this.s3.enabled && backup.copies?.some((c) => c.storage === 's3')) {
        await this.s3.remove(backup.filename).catch(() => undefined);
        await this.s3.remove(backup.filename + MANIFEST_SUFFIX).catch(() => undefined);
      }
      const message = failureMessage(error, operation.signal);
      this.logger.error(`backup ${backup.id} failed: ${message}`);
      const finishedAt = new Date();
      Object.assign(backup, {
        status: BackupStatus.Failed,
        sha256: null,
        sizeBytes: 0,
        files: null,
        error: message,
        finishedAt,
        durationMs: finishedAt.getTime() - backup.createdAt.getTime(),
      });
      const saved = await this.record(backup, ['status', 'sha256', 'sizeBytes', 'files', 'error', 'finishedAt', 'durationMs']).catch((saveError: Error) => {
        this.logger.error(`backup ${backup.id}: failure not recorded: ${saveError.message}`);
        return backup;
      });
      this.events.emit('backup.failed', { backup: saved });
      return saved;
    }
  }

  /** Writes the runner's own columns only, never a stale copy of what a PATCH changed meanwhile; returns the row as stored. */
  private async record(backup: BackupHistory, columns: (keyof BackupHistory)[]): Promise<BackupHistory> {
    const outcome = Object.fromEntries(columns.map((column) => [column, backup[column]])) as QueryDeepPartialEntity<BackupHistory>;
    await this.backups.update({ id: backup.id }, outcome);
    return (await this.backups.findOneBy({ id: backup.id })) ?? backup;
  }

  /**
   * With BACKUP_INCLUDE_PATHS, a tar of those paths (archiver) through the same compression and
   * encryption, hashed, written partial → fsync → rename beside the dump.
   */
  private async writeFilesPart(backup: BackupHistory, context: DumpContext, signal: AbortSignal): Promise<BackupFilesPart | null> {
    const paths = this.options.includePaths ?? [];
    if (!paths.length) return null;
    const filename = filesPartName(backup.filename);
    const target = backupPath(this.options.backupDir, filename);
    const tar = new (await loadArchiver()).TarArchive();
    for (const path of paths) {
      const name = path.replace(/^\/+/, '');
      if ((await stat(path)).isDirectory()) tar.directory(path, name);
      else tar.file(path, { name });
    }
    const stages = this.pipeline.encoders(context.format);
    const partial = await this.storage.createPartial(target + PARTIAL_SUFFIX);
    const hash = createHash('sha256');
    let size = 0;
    try {
      const finalized = tar.finalize();
      await Promise.all([
        pipeline([tar, ...stages.map((s) => s.stream), hashingTap(hash, (n) => (size += n)), partial.stream], { signal }),
        finalized,
        ...stages.map((s) => s.completion),
      ]);
      await partial.commit();
      await this.storage.renameDurably(partial.path, target);
      return { filename, sizeBytes: size, sha256: hash.digest('hex'), paths };
    } catch (error) {
      for (const stage of stages) stage.kill();
      await partial.discard();
      throw new Error(`archiving BACKUP_INCLUDE_PATHS failed: ${(error as Error).message}`);
    }
  }

  /**
   * Copies the finished file to BACKUP_EXTERNAL_DIR (same partial → fsync → rename steps) and
   * checks the copy's SHA-256. A failed copy is recorded as such; the primary stays valid.
   */
  private async replicate(backup: BackupHistory, source: string, signal: AbortSignal): Promise<BackupCopy[]> {
    const dir = this.options.externalDir;
    if (!dir) return [];
    const target = backupPath(dir, backup.filename);
    const at = new Date().toISOString();
    let partial: PartialFile | undefined;
    try {
      await this.storage.ensurePrivateDir(dir);
      partial = await this.storage.createPartial(target + PARTIAL_SUFFIX);
      const hash = createHash('sha256');
      await pipeline(this.storage.openRead(source), hashingTap(hash, () => undefined), partial.stream, { signal });
      await partial.commit();
      if (hash.digest('hex') !== backup.sha256) throw new Error("the copy's SHA-256 differs from the original");
      await this.storage.renameDurably(partial.path, target);
      return [{ storage: 'external', location: target, state: 'ok', at }];
    } catch (error) {
      await partial?.discard();
      if (signal.aborted) throw error;
      this.logger.warn(`backup ${backup.id}: copy to ${dir} failed: ${(error as Error).message}`);
      return [{ storage: 'external', location: target, state: 'failed', error: (error as Error).message, at }];
    }
  }

  /** Uploads the finished file to S3 (multipart, streamed), then reads it back to check its SHA-256. */
  private async uploadToS3(backup: BackupHistory, source: string, signal: AbortSignal): Promise<BackupCopy[]> {
    if (!this.s3.enabled) return [];
    const location = this.s3.location(backup.filename);
    const at = new Date().toISOString();
    try {
      await this.s3.upload(backup.filename, this.storage.openRead(source), backup.sizeBytes, signal);
      if ((await sha256Of(this.s3.openRead(backup.filename))) !== backup.sha256) {
        throw new Error("the uploaded object's SHA-256 differs from the original");
      }
      return [{ storage: 's3', location, state: 'ok', at }];
    } catch (error) {
      if (signal.aborted) throw error;
      await this.s3.remove(backup.filename).catch(() => undefined);
      this.logger.warn(`backup ${backup.id}: copy to ${location} failed: ${(error as Error).message}`);
      return [{ storage: 's3', location, state: 'failed', error: (error as Error).message, at }];
    }
  }
}

/** application_name of a backup's pg_dump session. */
function dumpSessionName(backupId: string): string {
  return `${APPLICATION_NAME}:dump:${backupId}`;
}

/** Passes bytes through, hashing and counting them. */
function hashingTap(hash: Hash, onBytes: (count: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      onBytes(chunk.length);
      callback(null, chunk);
    },
  });
}

/** An abort reports why it was aborted; anything else its own message (with pg_dump's stderr tail). */
export function failureMessage(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) {
    return signal.reason instanceof OperationCancelledError ? 'cancelled' : `aborted: ${(signal.reason as Error)?.message ?? String(signal.reason)}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function mib(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}
