import { Inject, Injectable, Logger } from '@nestjs/common';
import { FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackupHistory } from '../backup/backup-history.entity';
import { BackupSource } from '../backup/backup-locations';
import { BackupNotRestorableException } from '../common/exceptions';
import { untilAborted } from '../common/until-aborted';
import { APPLICATION_NAME } from '../database/data-source';
import { CommitGate, DatabaseInfoRepository } from '../database/database-info.repository';
import { pgRestoreListArgs, pgRestoreScriptArgs, psqlDirectArgs, psqlScriptArgs } from '../infra/process/pg-args';
import { childStdinSink } from '../infra/process/child-stdin-sink';
import { pgConnection } from '../infra/process/pg-connection';
import { PgToolsRepository } from '../infra/process/pg-tools.repository';
import { ChildProcessHandle, isBrokenPipe, ProcessRepository } from '../infra/process/process.repository';
import { fileOffset } from '../infra/storage/file-offset';
import { OperationHandle } from '../lock/lock.service';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { Compression } from '../pipeline/backup-format';
import { BackupPipeline, StageProcess } from '../pipeline/backup-pipeline.service';
import { BlockerWatchdog } from './blocker-watchdog';
import { tocLockWeight, wipeDatabaseSql } from './restore-script';

const PROGRESS_POLL_MS = 500;
/** Locks on catalogs and the like that a restore takes beside its own objects. */
const CATALOG_LOCKS = 200;

export interface RestoreOutcome {
  terminatedPids: number[];
}

/** Where a restore goes: by default over the live database; a drill gives an empty scratch database. */
export interface RestoreTarget {
  scratchDatabase: string;
}

/**
 * Replaces the database's content with a backup's, in one transaction:
 * `BEGIN; <wipe everything but our schema>; <pg_restore's script>; COMMIT;` fed to psql.
 * The COMMIT is only sent once pg_restore has exited 0, so a dump that turns out corrupt
 * or truncated half-way leaves an open transaction that is rolled back: nothing changes.
 */
@Injectable()
export class RestoreRunner {
  private readonly logger = new Logger(RestoreRunner.name);

  constructor(
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    private readonly database: DatabaseInfoRepository,
    private readonly pgTools: PgToolsRepository,
    private readonly processes: ProcessRepository,
    private readonly backupPipeline: BackupPipeline,
  ) {}

  /**
   * Restores `backup` from `source`, the copy the integrity check found intact. Over the live
   * database the COMMIT is its point of no return: from then on a cancel is refused.
   */
  async run(restoreId: string, backup: BackupHistory, source: BackupSource, operation: OperationHandle, target?: RestoreTarget): Promise<RestoreOutcome> {
    const tools = await this.pgTools.forServer((await this.database.server()).major);
    const applicationName = `${APPLICATION_NAME}:restore:${restoreId}`;
    const databaseUrl = target ? withDatabase(this.options.databaseUrl, target.scratchDatabase) : this.options.databaseUrl;
    const connection = pgConnection(databaseUrl, applicationName);

    let script: ChildProcessHandle | undefined;
    let psql: ChildProcessHandle | undefined;
    let stages: StageProcess[] = [];
    // a scratch database has no other sessions to wait for
    const watchdog = target ? undefined : new BlockerWatchdog(this.database, applicationName, this.options.restoreGraceMs);
    const wipe = target ? '' : wipeDatabaseSql(this.options.schema);
    // without large objects pg_restore's script has no transaction statement of its own: it goes
    // straight into psql, and a commit gate stands in for the COMMIT Node would hold back
    const direct = backup.metadata?.largeObjects === 0;
    const abandoned = new AbortController();
    let gate: CommitGate | undefined;
    let file: FileHandle | undefined;
    let progress: NodeJS.Timeout | undefined;
    let counted = 0;
    try {
      if (direct) gate = await this.database.openCommitGate(databaseUrl);
      // file → decrypt → decompress → pg_restore (zstd hands its output to pg_restore fd-to-fd);
      // a local zstd file is read by zstd itself, its progress read off the shared file offset
      const format = { compression: backup.compression as Compression, encrypted: backup.encrypted };
      const localFile = source.localFile?.();
      if (localFile && format.compression === 'zstd' && !format.encrypted) file = await open(localFile, 'r');
      const decoding = file ? { ...this.backupPipeline.decodeFileForProcess(file.fd), streams: [] } : this.backupPipeline.decodeForProcess(source.open(), format);
      stages = decoding.stages;
      script = this.processes.spawn(tools.pgRestore, pgRestoreScriptArgs({ singleTransaction: !direct }), { env: { PATH: process.env.PATH }, stdin: decoding.output ?? true });
      const feed = decoding.output ? decoding.streams : [...decoding.streams, childStdinSink(script.stdin!)];
      const fd = file?.fd;
      const reportProgress = async () => {
        const bytes = fd === undefined ? counted : await fileOffset(fd);
        if (bytes !== null) operation.reportBytes(bytes);
      };
      progress = setInterval(() => void reportProgress(), PROGRESS_POLL_MS);
      if (decoding.streams.length) decoding.streams[0].on('data', (chunk: Buffer) => (counted += chunk.length));
      const decoded = Promise.all([feed.length ? pipeline(feed, { signal: operation.signal }) : undefined, ...stages.map((s) => s.completion)]).then(reportProgress);
      decoded.catch(() => undefined); // awaited before the COMMIT
      const commit: CommitOptions = { irrevocableCommit: !target, abandoned: abandoned.signal };
      if (gate) {
        // in the same tick as pg_restore's spawn: Node never reads its stdout
        psql = this.processes.spawn(tools.psql, psqlDirectArgs(connection.dbnameArg, `BEGIN;\n${wipe}`, gate.sql), {
          env: connection.env,
          stdin: script.stdout!,
          stdout: false,
        });
        const openGate = gate.open;
        const confirmed = readyToCommit(script, operation, decoded, commit).then(() => openGate());
        await untilAborted(operation.signal, Promise.all([confirmed, psql.completion]));
      } else {
        psql = this.processes.spawn(tools.psql, psqlScriptArgs(connection.dbnameArg), { env: connection.env, stdin: true, stdout: false });
        const input = Readable.from(restoreInput(wipe, script, operation, decoded, commit));
        await Promise.all([pipeline(input, psql.stdin!, { signal: operation.signal }), psql.completion]);
      }
      // committed: what the wipe renamed away goes now, outside the restore's transaction
      if (!target) await this.database.dropTrash(applicationName).catch((error: Error) => this.logger.warn(`dropping the replaced schemas failed: ${error.message}`));
      return { terminatedPids: [...(watchdog?.terminated ?? [])] };
    } finally {
      abandoned.abort(new Error('the restore ended'));
      clearInterval(progress);
      watchdog?.stop();
      for (const stage of stages) stage.kill();
      script?.kill();
      psql?.kill();
      // a session still waiting at the gate finds it closed, and rolls back
      await gate?.close();
      await file?.close();
    }
  }

  /**
   * Refuses (422) a restore over the live database whose one transaction needs more locks than
   * the server's shared lock table holds: it would fail with "out of shared memory", after the
   * safety backup. Counts what the wipe renames or drops and what the dump creates (its table of
   * contents).
   */
  async checkLockCapacity(backup: BackupHistory, source: BackupSource): Promise<void> {
    const capacity = await this.database.lockCapacity();
    const creates = await this.tocLocks(backup, source);
    const needed = creates + (await this.database.wipeLockCount(this.options.schema)) + CATALOG_LOCKS;
    if (needed <= capacity.estimated) return;
    throw new BackupNotRestorableException(
      `restoring backup ${backup.id} takes about ${needed} locks in one transaction, and this server's shared lock table holds about ` +
        `${capacity.estimated} (max_locks_per_transaction = ${capacity.maxLocksPerTransaction}); set max_locks_per_transaction to at least ` +
        `${Math.ceil(needed / capacity.slots)} (its documented size is that × (max_connections + max_prepared_transactions)) and restart PostgreSQL; nothing was changed`,
    );
  }

  /** pg_restore --list on the decoded file: the locks its objects take (tocLockWeight); the feed stops after the table of contents. */
  private async tocLocks(backup: BackupHistory, source: BackupSource): Promise<number> {
    const tools = await this.pgTools.forServer((await this.database.server()).major);
    const stages = this.backupPipeline.decoders({ compression: backup.compression as Compression, encrypted: backup.encrypted });
    try {
      const list = this.processes.spawn(tools.pgRestore, pgRestoreListArgs(), { env: { PATH: process.env.PATH }, stdin: true });
      let locks = 0;
      let partialLine = '';
      list.stdout!.setEncoding('utf8');
      list.stdout!.on('data', (chunk: string) => {
        const lines = (partialLine + chunk).split('\n');
        partialLine = lines.pop() ?? '';
        for (const line of lines) locks += tocLockWeight(line);
      });
      const stop = new AbortController();
      const feed = pipeline([source.open(), ...stages.map((s) => s.stream), childStdinSink(list.stdin!)], { signal: stop.signal }).catch(() => undefined);
      try {
        await list.completion;
      } finally {
        stop.abort();
        await feed;
      }
      return locks;
    } finally {
      for (const stage of stages) stage.kill();
    }
  }
}

interface CommitOptions {
  /** Over the live database the COMMIT is the point of no return: a cancel is refused from then on. */
  irrevocableCommit?: boolean;
  /** Set when the restore has already failed elsewhere (psql died): nothing more is sent. */
  abandoned?: AbortSignal;
}

/**
 * Resolves once pg_restore exited 0 and everything feeding it (`upstream`: reading, decrypting,
 * decompressing) succeeded; else rejects with the first real failure along the chain.
 */
async function readyToCommit(script: ChildProcessHandle, operation: OperationHandle, upstream: Promise<void>, options: CommitOptions): Promise<void> {
  const outcomes = await Promise.allSettled([upstream, script.completion]);
  const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
  // a broken pipe only follows another failure
  if (failures.length) throw failures.find((failure) => !isBrokenPipe(failure)) ?? failures[0];
  if (options.abandoned?.aborted) throw options.abandoned.reason;
  if (options.irrevocableCommit ?? true) await operation.markIrrevocable();
}

/**
 * BEGIN, the wipe, then the script (pg_restore --single-transaction: large objects in the same
 * transaction), holding back its last chunk (the COMMIT) until `readyToCommit`.
 */
export async function* restoreInput(
  wipeSql: string,
  script: ChildProcessHandle,
  operation: OperationHandle,
  upstream: Promise<void>,
  options: CommitOptions = {},
): AsyncGenerator<Buffer> {
  yield Buffer.from(`BEGIN;\n${wipeSql}\n`);
  let held: Buffer | undefined;
  for await (const chunk of script.stdout! as AsyncIterable<Buffer>) {
    if (held) yield held;
    held = chunk;
  }
  await readyToCommit(script, operation, upstream, options);
  if (held) yield held;
}

/** The same connection URL, to another database on the same server. */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}
