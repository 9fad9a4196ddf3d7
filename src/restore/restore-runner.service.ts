import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, Hash } from 'node:crypto';
import { FileHandle, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackupHistory } from '../backup/backup-history.entity';
import { BackupSource } from '../backup/backup-locations';
import { BackupNotRestorableException } from '../common/exceptions';
import { BackupType } from '../backup/backup.types';
import { PgToolsException } from '../common/exceptions';
import { untilAborted } from '../common/until-aborted';
import { APPLICATION_NAME } from '../database/data-source';
import { CommitGate, DatabaseInfoRepository } from '../database/database-info.repository';
import { pgRestoreScriptArgs, psqlDirectArgs, psqlScriptArgs } from '../infra/process/pg-args';
import { childStdinSink } from '../infra/process/child-stdin-sink';
import { pgConnection } from '../infra/process/pg-connection';
import { PgToolsRepository } from '../infra/process/pg-tools.repository';
import { ChildProcessHandle, isBrokenPipe, ProcessRepository } from '../infra/process/process.repository';
import { fileOffset } from '../infra/storage/file-offset';
import { OperationHandle } from '../lock/lock.service';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { Compression } from '../pipeline/backup-format';
import { BackupPipeline, StageProcess } from '../pipeline/backup-pipeline.service';
import { BackupTocReader } from './backup-toc';
import { BlockerWatchdog } from './blocker-watchdog';
import { restoreCommitMarkerSql } from './restore-commit-marker';
import { descLockWeight, wipeDatabaseSql } from './restore-script';
import { useListText } from './restore-selection';
import type { ClusterRestorePlan } from './role-preflight';

const PROGRESS_POLL_MS = 500;
/** Locks on catalogs and the like that a restore takes beside its own objects. */
const CATALOG_LOCKS = 200;
const HASH_READ_BYTES = 1024 * 1024;

/** Locks a restore over the live database takes in its one transaction, against what the server allows. */
export interface LockEstimate {
  needed: number;
  /** What one transaction can take in practice (see DatabaseInfoRepository.lockCapacity()). */
  available: number;
  maxLocksPerTransaction: number;
  /** The setting that would make room for `needed`. */
  requiredMaxLocksPerTransaction: number;
  enough: boolean;
}

export interface RestoreOutcome {
  terminatedPids: number[];
}

/** Where a restore goes: by default over the live database; a drill gives an empty scratch database. */
export interface RestoreTarget {
  scratchDatabase: string;
}

/** A restore of some of the archive's entries (tables, schemas), with SQL of its own around pg_restore's script. */
export interface RestorePlan {
  dumpIds: number[];
  /** Instead of the whole-database wipe. */
  prelude: string;
  /** After the script, before the COMMIT. */
  epilogue: string;
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
    private readonly toc: BackupTocReader,
  ) {}

  /**
   * Restores `backup` from `source`, the copy the integrity check found intact. Over the live
   * database the COMMIT is its point of no return: from then on a cancel is refused. `cluster`'s
   * SQL (roles to create, database settings) opens the transaction, before the wipe.
   */
  async run(
    restoreId: string,
    backup: BackupHistory,
    source: BackupSource,
    operation: OperationHandle,
    target?: RestoreTarget,
    { cluster, plan }: { cluster?: ClusterRestorePlan; plan?: RestorePlan } = {},
  ): Promise<RestoreOutcome> {
    const tools = await this.pgTools.forServer((await this.database.server()).major);
    if (!madeHere(backup) && !tools.restrict) {
      throw new PgToolsException(
        `backup ${backup.id} was uploaded or imported, so its content is not trusted: restoring it needs pg_restore and psql with \\restrict ` +
          `(17.6, 16.10, 15.14, 14.19, 13.22 or later; CVE-2025-8714), found ${tools.restoreToolsVersion}; install the current postgresql-client or set PG_BIN_DIR`,
      );
    }
    const applicationName = `${APPLICATION_NAME}:restore:${restoreId}`;
    const databaseUrl = target ? withDatabase(this.options.databaseUrl, target.scratchDatabase) : this.options.databaseUrl;
    const connection = pgConnection(databaseUrl, applicationName);
    const committing = new CommitPhase(operation, () =>
      this.logger.warn(`restore ${restoreId} is past its point of no return: it finishes before anything stops it`),
    );
    operation = committing.handle;

    let script: ChildProcessHandle | undefined;
    let psql: ChildProcessHandle | undefined;
    let stages: StageProcess[] = [];
    // a scratch database has no other sessions to wait for
    const watchdog = target ? undefined : new BlockerWatchdog(this.database, applicationName, this.options.restoreGraceMs);
    const wipe = (cluster?.sql ?? '') + (plan ? plan.prelude : target ? '' : wipeDatabaseSql(await this.database.installationSchemas()));
    // over the live database, the transaction records its own commit: what a restart reads when this process died
    const marker = target ? '' : restoreCommitMarkerSql(this.options.schema, restoreId);
    const epilogue = plan?.epilogue ?? '';
    // without large objects pg_restore's script has no transaction statement of its own: it goes
    // straight into psql, and a commit gate stands in for the COMMIT Node would hold back
    const direct = backup.metadata?.largeObjects === 0;
    const abandoned = new AbortController();
    let gate: CommitGate | undefined;
    let file: FileHandle | undefined;
    let listDir: string | undefined;
    let progress: NodeJS.Timeout | undefined;
    let counted = 0;
    let succeeded = false;
    try {
      if (direct) gate = await this.database.openCommitGate(databaseUrl);
      // written before the decoding starts: from then on nothing may be awaited until pg_restore holds its output
      let useList: string | undefined;
      if (plan) {
        listDir = await mkdtemp(join(tmpdir(), 'pgb-restore-'));
        useList = join(listDir, 'entries.list');
        await writeFile(useList, useListText(plan.dumpIds), { mode: 0o600 });
      }
      // file → decrypt → decompress → pg_restore (zstd hands its output to pg_restore fd-to-fd);
      // a local zstd file is read by zstd itself, its progress read off the shared file offset
      const format = { compression: backup.compression as Compression, encrypted: backup.encrypted };
      const localFile = source.localFile?.();
      if (localFile && format.compression === 'zstd' && !format.encrypted) file = await open(localFile, 'r');
      const decoding = file ? { ...this.backupPipeline.decodeFileForProcess(file.fd), streams: [] } : this.backupPipeline.decodeForProcess(source.open(), format);
      stages = decoding.stages;
      const restoreArgs = pgRestoreScriptArgs({ singleTransaction: !direct, noOwner: cluster?.noOwner, noTablespaces: cluster?.noTablespaces, useList });
      script = this.processes.spawn(tools.pgRestore, restoreArgs, { env: { PATH: process.env.PATH }, stdin: decoding.output ?? true });
      const feed = decoding.output ? decoding.streams : [...decoding.streams, childStdinSink(script.stdin!)];
      const fd = file?.fd;
      const reportProgress = async () => {
        const bytes = fd === undefined ? counted : await fileOffset(fd);
        if (bytes !== null) operation.reportBytes(bytes);
      };
      progress = setInterval(() => void reportProgress(), PROGRESS_POLL_MS);
      // the bytes decoded are the bytes hashed: a file swapped or rewritten since the integrity check never commits
      const hash = createHash('sha256');
      // with a use-list pg_restore stops reading once it has its entries: what feeds it then meets a
      // closed pipe, and the file is hashed by a read of its own
      const stopsEarly = !!plan;
      if (decoding.streams.length) {
        decoding.streams[0].on('data', (chunk: Buffer) => {
          counted += chunk.length;
          if (!stopsEarly) hash.update(chunk);
        });
      }
      // (a closed pipe ends zstd with SIGPIPE or a write error): once pg_restore has succeeded, that is no failure
      const restored = script.completion.then(() => true, () => false);
      const cutShort = (step: Promise<unknown> | undefined) =>
        stopsEarly
          ? step?.catch(async (error: unknown) => {
              if (!(await restored)) throw error;
            })
          : step;
      // zstd reads the open file itself: hashed from the same descriptor, at its own positions
      const hashed = file ? hashOpenFile(file, hash, operation.signal) : stopsEarly ? hashStream(source.open(), hash, operation.signal) : undefined;
      const decoded = Promise.all([cutShort(feed.length ? pipeline(feed, { signal: operation.signal }) : undefined), hashed, ...stages.map((s) => cutShort(s.completion))])
        .then(reportProgress)
        .then(() => checkDigest(hash.digest('hex'), backup, source));
      decoded.catch(() => undefined); // awaited before the COMMIT
      const commit: CommitOptions = { irrevocableCommit: !target, abandoned: abandoned.signal, markerSql: `${epilogue}${marker}` };
      if (gate) {
        // in the same tick as pg_restore's spawn: Node never reads its stdout
        psql = this.processes.spawn(tools.psql, psqlDirectArgs(connection.dbnameArg, `BEGIN;\n${wipe}`, `${epilogue}${gate.sql};${marker ? `\n${marker}` : ''}`), {
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
      succeeded = true;
      // committed: what the wipe renamed away goes now, outside the restore's transaction
      if (!target) await this.database.dropTrash(applicationName).catch((error: Error) => this.logger.warn(`dropping the replaced schemas failed: ${error.message}`));
      return { terminatedPids: [...(watchdog?.terminated ?? [])] };
    } finally {
      committing.end();
      abandoned.abort(new Error('the restore ended'));
      clearInterval(progress);
      watchdog?.stop();
      for (const stage of stages) stage.kill();
      script?.kill();
      psql?.kill();
      // a session still waiting at the gate finds it closed, and rolls back
      await gate?.close();
      await file?.close();
      if (listDir) await rm(listDir, { recursive: true, force: true });
      // psql's death reaches its session only when the session next talks to it: one waiting for a
      // lock would hold the wiped tables' locks until then
      if (!succeeded && !target) {
        await this.database.terminateSessions(applicationName).catch((error: Error) => this.logger.warn(`restore session not ended: ${error.message}`));
      }
    }
  }

  /**
   * Refuses (422) a restore over the live database whose one transaction needs more locks than
   * the server's shared lock table holds: it would fail with "out of shared memory", after the
   * safety backup.
   */
  async checkLockCapacity(backup: BackupHistory, source: BackupSource, selected?: readonly { desc: string }[]): Promise<void> {
    let entries: readonly { desc: string }[];
    try {
      entries = selected ?? (await this.toc.entries(backup, source));
    } catch (error) {
      // a table of contents that cannot be read is the restore's to report, with its real cause, and it rolls back
      this.logger.warn(`no lock estimate for backup ${backup.id}: ${(error as Error).message}`);
      return;
    }
    const estimate = await this.lockEstimate(entries, { scoped: !!selected });
    if (estimate.enough) return;
    throw new BackupNotRestorableException(
      `restoring backup ${backup.id} takes about ${estimate.needed} locks in one transaction, and this server's shared lock table holds about ` +
        `${estimate.available} (max_locks_per_transaction = ${estimate.maxLocksPerTransaction}); set max_locks_per_transaction to at least ` +
        `${estimate.requiredMaxLocksPerTransaction} (its documented size is that × (max_connections + max_prepared_transactions)) and restart PostgreSQL; nothing was changed`,
    );
  }

  /**
   * What the restore's transaction locks against the server's shared lock table: what the dump's
   * entries create, and what the wipe renames or drops; a scoped restore (`scoped`: only these
   * entries) moves aside about as many objects as it creates, and wipes nothing else.
   */
  async lockEstimate(entries: readonly { desc: string }[], { scoped = false } = {}): Promise<LockEstimate> {
    const capacity = await this.database.lockCapacity();
    const creates = entries.reduce((sum, entry) => sum + descLockWeight(entry.desc), 0) * (scoped ? 2 : 1);
    const needed = creates + (scoped ? 0 : await this.database.wipeLockCount(this.options.schema)) + CATALOG_LOCKS;
    return {
      needed,
      available: capacity.estimated,
      maxLocksPerTransaction: capacity.maxLocksPerTransaction,
      requiredMaxLocksPerTransaction: Math.ceil(needed / capacity.slots),
      enough: needed <= capacity.estimated,
    };
  }
}

/** Feeds every byte of `file` to `hash` by positional reads, which leave the descriptor's shared offset to the child reading it. */
async function hashOpenFile(file: FileHandle, hash: Hash, signal: AbortSignal): Promise<void> {
  const buffer = Buffer.allocUnsafe(HASH_READ_BYTES);
  for (let position = 0; ; ) {
    signal.throwIfAborted();
    const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
    if (!bytesRead) return;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
}

/** Feeds every byte of `stream` to `hash`. */
async function hashStream(stream: Readable, hash: Hash, signal: AbortSignal): Promise<void> {
  try {
    for await (const chunk of stream) {
      signal.throwIfAborted();
      hash.update(chunk as Buffer);
    }
  } finally {
    stream.destroy();
  }
}

function checkDigest(digest: string, backup: BackupHistory, source: BackupSource): void {
  if (backup.sha256 && digest !== backup.sha256) {
    throw new Error(`${source.location} changed after its integrity check: the bytes read hash to ${digest}, ${backup.sha256} recorded; nothing was committed`);
  }
}

/**
 * The operation as the restore sees it: its abort (a cancel, a shutdown, a lost lock) stops the
 * restore until the restore is marked irrevocable, and is ignored after that: the COMMIT may be
 * in flight, and the restore runs to its end so that what is recorded is what happened.
 */
class CommitPhase {
  private readonly stop = new AbortController();
  private irrevocable = false;
  private readonly follow: () => void;
  readonly handle: OperationHandle;

  constructor(
    private readonly operation: OperationHandle,
    onIgnoredAbort: () => void,
  ) {
    this.follow = () => (this.irrevocable ? onIgnoredAbort() : this.stop.abort(operation.signal.reason));
    if (operation.signal.aborted) this.follow();
    else operation.signal.addEventListener('abort', this.follow, { once: true });
    this.handle = {
      type: operation.type,
      operationId: operation.operationId,
      startedBy: operation.startedBy,
      signal: this.stop.signal,
      reportBytes: (bytes) => operation.reportBytes(bytes),
      markIrrevocable: async () => {
        this.stop.signal.throwIfAborted();
        this.irrevocable = true;
        try {
          await operation.markIrrevocable();
        } catch (error) {
          this.irrevocable = false;
          throw error;
        }
      },
    };
  }

  end(): void {
    this.operation.signal.removeEventListener('abort', this.follow);
  }
}

interface CommitOptions {
  /** Over the live database the COMMIT is the point of no return: a cancel is refused from then on. */
  irrevocableCommit?: boolean;
  /** Set when the restore has already failed elsewhere (psql died): nothing more is sent. */
  abandoned?: AbortSignal;
  /** The transaction's last statement before its COMMIT. */
  markerSql?: string;
}

/** Bytes at the script's end held back: the final COMMIT and what follows it (a comment, `\unrestrict <key>`) are far shorter. */
export const COMMIT_WINDOW_BYTES = 64 * 1024;
const COMMIT_LINE = Buffer.from('COMMIT;\n');

/** Resolves once pg_restore exited 0 and everything feeding it (`upstream`: reading, decrypting, decompressing) succeeded; else rejects with the first real failure along the chain. */
async function succeeded(script: ChildProcessHandle, upstream: Promise<void>, options: CommitOptions): Promise<void> {
  const outcomes = await Promise.allSettled([upstream, script.completion]);
  const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
  // a broken pipe only follows another failure
  if (failures.length) throw failures.find((failure) => !isBrokenPipe(failure)) ?? failures[0];
  if (options.abandoned?.aborted) throw options.abandoned.reason;
}

/** `succeeded`, then the point of no return (over the live database). */
async function readyToCommit(script: ChildProcessHandle, operation: OperationHandle, upstream: Promise<void>, options: CommitOptions): Promise<void> {
  await succeeded(script, upstream, options);
  if (options.irrevocableCommit ?? true) await operation.markIrrevocable();
}

/** Where the script's final `COMMIT;` line starts in `tail`, which follows a line end when `startsLine`; -1 when there is none. */
function finalCommitAt(tail: Buffer, startsLine: boolean): number {
  const at = tail.lastIndexOf(`\n${COMMIT_LINE}`);
  if (at >= 0) return at + 1;
  return startsLine && tail.subarray(0, COMMIT_LINE.length).equals(COMMIT_LINE) ? 0 : -1;
}

/**
 * BEGIN, the wipe, then the script (pg_restore --single-transaction: large objects in the same
 * transaction). Its final `COMMIT;` and what follows it are held back, wherever the reads split
 * them, until `readyToCommit`; the marker goes just before the COMMIT.
 */
export async function* restoreInput(
  wipeSql: string,
  script: ChildProcessHandle,
  operation: OperationHandle,
  upstream: Promise<void>,
  options: CommitOptions = {},
): AsyncGenerator<Buffer> {
  yield Buffer.from(`BEGIN;\n${wipeSql}\n`);
  // the last COMMIT_WINDOW_BYTES or more, as read: whole chunks are passed on, never copied
  const held: Buffer[] = [];
  let heldBytes = 0;
  let startsLine = true;
  for await (const chunk of script.stdout! as AsyncIterable<Buffer>) {
    held.push(chunk);
    heldBytes += chunk.length;
    while (heldBytes - held[0].length >= COMMIT_WINDOW_BYTES) {
      const passed = held.shift()!;
      heldBytes -= passed.length;
      if (passed.length) startsLine = passed[passed.length - 1] === 0x0a;
      yield passed;
    }
  }
  const tail = Buffer.concat(held);
  const at = finalCommitAt(tail, startsLine);
  if (at < 0) {
    await succeeded(script, upstream, options);
    throw new Error("pg_restore's script does not end in COMMIT; nothing was committed");
  }
  if (at > 0) yield tail.subarray(0, at);
  await readyToCommit(script, operation, upstream, options);
  yield Buffer.concat([Buffer.from(options.markerSql ? `${options.markerSql}\n` : ''), tail.subarray(at)]);
}

/** A dump this installation's own pg_dump wrote; an upload's or an import's archive may be crafted. */
function madeHere(backup: BackupHistory): boolean {
  return backup.type !== BackupType.Upload && !backup.origin?.imported;
}

/** The same connection URL, to another database on the same server. */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}
