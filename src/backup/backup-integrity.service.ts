import { Injectable } from '@nestjs/common';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DatabaseInfoRepository } from '../database/database-info.repository';
import { childStdinSink } from '../infra/process/child-stdin-sink';
import { pgRestoreListArgs } from '../infra/process/pg-args';
import { PgToolsRepository } from '../infra/process/pg-tools.repository';
import { ProcessRepository } from '../infra/process/process.repository';
import { AgeKeyMismatchError } from '../crypto/age';
import { BackupPipeline, EncryptionNotConfiguredException, PipelineStage } from '../pipeline/backup-pipeline.service';
import { BackupFormat, Compression } from '../pipeline/backup-format';
import { ArchiveToc, readArchiveToc } from './archive-toc';
import { BackupHistory } from './backup-history.entity';
import { BackupFilesPart } from './backup.types';
import { BackupLocations, BackupSource, sha256Of } from './backup-locations';

export interface IntegrityCheck {
  name: 'file' | 'sha256' | PipelineStage['name'] | 'dump' | 'files';
  ok: boolean;
  detail?: string;
  /** The check failed for want of the right key (none configured, or a wrong one), not because the file is damaged. */
  keyProblem?: true;
}

/** Failed for a reason in the file itself, not only for want of the key that opens it. */
export function isDamaged(report: IntegrityReport): boolean {
  const firstFailure = report.checks.find((c) => !c.ok);
  return firstFailure !== undefined && !firstFailure.keyProblem;
}

export interface IntegrityReport {
  valid: boolean;
  checks: IntegrityCheck[];
  /** The copy that was checked and found intact (primary first, then the external directory, then S3). */
  source?: BackupSource;
}

/**
 * Proves a backup is intact: the file present at its size, its SHA-256 unchanged, and (in full
 * mode) every byte decrypting and decompressing; then pg_restore reads its table of contents.
 */
@Injectable()
export class BackupIntegrityService {
  constructor(
    private readonly locations: BackupLocations,
    private readonly processes: ProcessRepository,
    private readonly pgTools: PgToolsRepository,
    private readonly database: DatabaseInfoRepository,
    private readonly backupPipeline: BackupPipeline,
  ) {}

  /** `full: false` (before a restore) skips decoding every byte: the restore's transaction covers that. */
  async check(backup: BackupHistory, { full, signal }: { full: boolean; signal?: AbortSignal } = { full: true }): Promise<IntegrityReport> {
    const checks: IntegrityCheck[] = [];
    let intact: BackupSource | undefined;
    const report = (): IntegrityReport => ({ valid: checks.every((c) => c.ok), checks, source: intact });
    const format: BackupFormat = { compression: backup.compression as Compression, encrypted: backup.encrypted };
    const copy = await this.findIntactCopy(backup);
    checks.push(copy.file);
    if (copy.sha256) checks.push(copy.sha256);
    if (!copy.source) return report();
    const source = (intact = copy.source);
    if (full) {
      const decoded = await this.decodeAll(source, format, signal);
      checks.push(...decoded);
      if (decoded.some((c) => !c.ok)) return report();
    }
    checks.push(await this.readToc(source, format));
    if (full && backup.files) checks.push(await this.checkFilesPart(backup.files));
    return report();
  }

  /** The files part lives in the primary directory only: its size and SHA-256. */
  private async checkFilesPart(files: BackupFilesPart): Promise<IntegrityCheck> {
    const local = this.locations.all()[0];
    const size = await local.size(files.filename);
    if (size !== files.sizeBytes) return { name: 'files', ok: false, detail: `${files.filename}: ${size ?? 'missing'} bytes, ${files.sizeBytes} recorded` };
    const sha256 = await sha256Of(local.open(files.filename));
    return sha256 === files.sha256
      ? { name: 'files', ok: true, detail: `${files.filename} (${files.paths.join(', ')})` }
      : { name: 'files', ok: false, detail: `${files.filename} hashes to ${sha256}, ${files.sha256} recorded` };
  }

  /**
   * The first copy whose size and SHA-256 match the record (primary, external directory, S3);
   * else the reason the best candidate failed (missing, wrong size, checksum mismatch).
   */
  private async findIntactCopy(backup: BackupHistory): Promise<{ source?: BackupSource; file: IntegrityCheck; sha256?: IntegrityCheck }> {
    let failure: { file: IntegrityCheck; sha256?: IntegrityCheck } | undefined;
    for (const location of this.locations.for(backup)) {
      const where = location.describe(backup.filename);
      const size = await location.size(backup.filename).catch((error: Error) => {
        failure ??= { file: { name: 'file', ok: false, detail: `${where}: ${error.message}` } };
        return undefined;
      });
      if (size === undefined) continue;
      if (size === null) {
        failure ??= { file: { name: 'file', ok: false, detail: `${backup.filename} is missing from every location` } };
        continue;
      }
      if (size !== backup.sizeBytes) {
        failure = { file: { name: 'file', ok: false, detail: `${size} bytes at ${where}, ${backup.sizeBytes} recorded` } };
        continue;
      }
      const file: IntegrityCheck = { name: 'file', ok: true, detail: `${size} bytes at ${where}` };
      const sha256 = await location.sha256(backup.filename);
      const path = location.path?.(backup.filename);
      const source: BackupSource = { location: where, open: () => location.open(backup.filename), ...(path && { localFile: () => path }) };
      if (sha256 === backup.sha256) return { source, file, sha256: { name: 'sha256', ok: true, detail: sha256 } };
      failure = { file, sha256: { name: 'sha256', ok: false, detail: `${where} hashes to ${sha256}, ${backup.sha256} recorded` } };
    }
    return failure!;
  }

  /** Streams the whole file through decryption and decompression, naming the stage that fails. */
  private async decodeAll(source: BackupSource, format: BackupFormat, signal?: AbortSignal): Promise<IntegrityCheck[]> {
    let stages: PipelineStage[];
    try {
      stages = this.backupPipeline.decoders(format);
    } catch (error) {
      return [{ name: 'decrypt', ok: false, detail: (error as Error).message, ...keyProblem(error) }];
    }
    if (!stages.length) return [];
    const failures = new Map<PipelineStage['name'], Error>();
    // pipeline() destroys every other stream with the failing one's error: the same object seen again is no failure of its own
    const seen = new Set<Error>();
    const fail = (name: PipelineStage['name'], error: Error) => {
      if (seen.has(error)) return;
      seen.add(error);
      if (!failures.has(name)) failures.set(name, error);
    };
    for (const stage of stages) {
      stage.stream.once('error', (error: Error) => fail(stage.name, error));
      stage.completion.catch((error: Error) => fail(stage.name, error));
    }
    let bytes = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback();
      },
    });
    try {
      await Promise.all([pipeline([source.open(), ...stages.map((s) => s.stream), sink], { signal }), ...stages.map((s) => s.completion)]);
    } catch (error) {
      if (!failures.size) failures.set(stages[0].name, error as Error);
    } finally {
      for (const stage of stages) stage.kill();
    }
    // the first failing stage is the cause; later ones only saw its broken output
    const firstFailure = stages.findIndex((s) => failures.has(s.name));
    return stages.map((stage, index): IntegrityCheck => {
      if (firstFailure === -1) return { name: stage.name, ok: true, detail: index === stages.length - 1 ? `${bytes} bytes of dump` : undefined };
      if (index < firstFailure) return { name: stage.name, ok: true };
      if (index === firstFailure) {
        const error = failures.get(stage.name)!;
        return { name: stage.name, ok: false, detail: error.message, ...keyProblem(error) };
      }
      return { name: stage.name, ok: false, detail: `not checked: ${stages[firstFailure].name} failed` };
    });
  }

  /** pg_restore --list on the decoded stream: reads the header and table of contents. */
  private async readToc(source: BackupSource, format: BackupFormat): Promise<IntegrityCheck> {
    // missing or outdated tools are the server's problem (500), not the backup's
    const tools = await this.pgTools.forServer((await this.database.server()).major);
    try {
      const toc = await this.listToc(tools.pgRestore, source, format);
      return { name: 'dump', ok: true, detail: `pg_restore --list read ${toc.entries} entries` };
    } catch (error) {
      return { name: 'dump', ok: false, detail: (error as Error).message };
    }
  }

  /**
   * What the archive itself says (its header and table of contents): the truth about a file whose
   * manifest anyone who can write its directory may have written. Throws AgeKeyMismatchError or
   * EncryptionNotConfiguredException when the key to read it is missing.
   */
  async tableOfContents(source: BackupSource, format: BackupFormat): Promise<TableOfContents> {
    const tools = await this.pgTools.forServer((await this.database.server()).major);
    return this.listToc(tools.pgRestore, source, format);
  }

  /**
   * The archive's table of contents with each entry's dependencies (what selecting one table
   * needs), decoded in-process from the head of the stream; reading stops there.
   */
  async archiveToc(source: BackupSource, format: BackupFormat): Promise<ArchiveToc> {
    const stages = this.backupPipeline.decoders(format);
    const decoded = new PassThrough();
    const stop = new AbortController();
    // a failure upstream destroys `decoded` with its error, which the reading rethrows
    const feed = pipeline([source.open(), ...stages.map((s) => s.stream), decoded], { signal: stop.signal }).catch(() => undefined);
    try {
      return await readArchiveToc(decoded);
    } finally {
      stop.abort();
      await feed;
      for (const stage of stages) stage.kill();
    }
  }

  private async listToc(pgRestore: string, source: BackupSource, format: BackupFormat): Promise<TableOfContents> {
    let stages: PipelineStage[] = [];
    try {
      stages = this.backupPipeline.decoders(format);
      const list = this.processes.spawn(pgRestore, pgRestoreListArgs(), { env: { PATH: process.env.PATH }, stdin: true });
      const toc = new TocParser();
      let partialLine = '';
      list.stdout!.setEncoding('utf8');
      list.stdout!.on('data', (chunk: string) => {
        const lines = (partialLine + chunk).split('\n');
        partialLine = lines.pop() ?? '';
        // a line longer than any TOC line pg_restore writes is cut, not buffered without bound
        if (partialLine.length > 64 * 1024) partialLine = '';
        for (const line of lines) toc.line(line);
      });
      // pg_restore stops reading after the table of contents; the feed is stopped then
      let stageFailure: Error | undefined;
      for (const stage of stages) stage.stream.once('error', (error: Error) => (stageFailure ??= stageError(stage.name, error)));
      const stop = new AbortController();
      const feed = pipeline([source.open(), ...stages.map((s) => s.stream), childStdinSink(list.stdin!)], {
        signal: stop.signal,
      }).catch(() => undefined);
      try {
        await list.completion;
      } catch (error) {
        throw stageFailure ?? error;
      } finally {
        stop.abort();
        await feed;
      }
      return toc.result();
    } finally {
      for (const stage of stages) stage.kill();
    }
  }
}

/** The facts a table of contents states, for import to trust over a manifest. */
export interface TableOfContents {
  entries: number;
  /** `Archive created at`: pg_dump's wall-clock time, in the zone it ran in (read here as local time). */
  createdAt: Date | null;
  database: string | null;
  serverVersion: string | null;
  pgDumpVersion: string | null;
  /** Large object entries (BLOB, or the grouped BLOB METADATA / LARGE OBJECTS of newer versions: then at least 1). */
  largeObjects: number;
}

class TocParser {
  private readonly toc: TableOfContents = { entries: 0, createdAt: null, database: null, serverVersion: null, pgDumpVersion: null, largeObjects: 0 };
  private groupedLargeObjects = false;

  line(line: string): void {
    const entry = /^\d+; \d+ \d+ (BLOB METADATA|BLOBS|BLOB|LARGE OBJECTS?) /.exec(line);
    if (/^\d+;/.test(line)) this.toc.entries++;
    if (entry?.[1] === 'BLOB') this.toc.largeObjects++;
    else if (entry) this.groupedLargeObjects = true;
    const created = /^; Archive created at (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)/.exec(line);
    if (created) this.toc.createdAt = new Date(`${created[1]}T${created[2]}`);
    const field = /^;\s+(dbname|Dumped from database version|Dumped by pg_dump version): (.*)$/.exec(line);
    if (field?.[1] === 'dbname') this.toc.database = field[2];
    if (field?.[1] === 'Dumped from database version') this.toc.serverVersion = field[2];
    if (field?.[1] === 'Dumped by pg_dump version') this.toc.pgDumpVersion = field[2];
  }

  result(): TableOfContents {
    if (this.groupedLargeObjects && !this.toc.largeObjects) this.toc.largeObjects = 1;
    return this.toc;
  }
}

/** A decoding stage's error, keeping a key problem's class (so callers can tell it from damage). */
function stageError(name: string, error: Error): Error {
  const message = `${name}: ${error.message}`;
  return error instanceof AgeKeyMismatchError ? new AgeKeyMismatchError(message) : new Error(message);
}

function keyProblem(error: unknown): { keyProblem?: true } {
  return error instanceof AgeKeyMismatchError || error instanceof EncryptionNotConfiguredException ? { keyProblem: true } : {};
}
