import { Injectable } from '@nestjs/common';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DatabaseInfoRepository } from '../database/database-info.repository';
import { childStdinSink } from '../infra/process/child-stdin-sink';
import { pgRestoreListArgs } from '../infra/process/pg-args';
import { PgToolsRepository } from '../infra/process/pg-tools.repository';
import { ProcessRepository } from '../infra/process/process.repository';
import { AgeKeyMismatchError } from '../crypto/age';
import { BackupPipeline, EncryptionNotConfiguredException, PipelineStage } from '../pipeline/backup-pipeline.service';
import { BackupFormat, Compression } from '../pipeline/backup-format';
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
    let stages: PipelineStage[] = [];
    try {
      stages = this.backupPipeline.decoders(format);
      const list = this.processes.spawn(tools.pgRestore, pgRestoreListArgs(), { env: { PATH: process.env.PATH }, stdin: true });
      let entries = 0;
      let partialLine = '';
      list.stdout!.setEncoding('utf8');
      list.stdout!.on('data', (chunk: string) => {
        const lines = (partialLine + chunk).split('\n');
        partialLine = lines.pop() ?? '';
        entries += lines.filter((line) => /^\d+;/.test(line)).length;
      });
      // pg_restore stops reading after the table of contents; the feed is stopped then
      let stageFailure: string | undefined;
      for (const stage of stages) stage.stream.once('error', (error: Error) => (stageFailure ??= `${stage.name}: ${error.message}`));
      const stop = new AbortController();
      const feed = pipeline([source.open(), ...stages.map((s) => s.stream), childStdinSink(list.stdin!)], {
        signal: stop.signal,
      }).catch(() => undefined);
      try {
        await list.completion;
      } catch (error) {
        throw new Error(stageFailure ?? (error as Error).message);
      } finally {
        stop.abort();
        await feed;
      }
      return { name: 'dump', ok: true, detail: `pg_restore --list read ${entries} entries` };
    } catch (error) {
      return { name: 'dump', ok: false, detail: (error as Error).message };
    } finally {
      for (const stage of stages) stage.kill();
    }
  }
}

function keyProblem(error: unknown): { keyProblem?: true } {
  return error instanceof AgeKeyMismatchError || error instanceof EncryptionNotConfiguredException ? { keyProblem: true } : {};
}
