import { Inject, Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackupHistory } from '../backup/backup-history.entity';
import { BackupSource } from '../backup/backup-locations';
import { APPLICATION_NAME } from '../database/data-source';
import { DatabaseInfoRepository } from '../database/database-info.repository';
import { pgRestoreScriptArgs, psqlScriptArgs } from '../infra/process/pg-args';
import { childStdinSink } from '../infra/process/child-stdin-sink';
import { pgConnection } from '../infra/process/pg-connection';
import { PgToolsRepository } from '../infra/process/pg-tools.repository';
import { ChildProcessHandle, isBrokenPipe, ProcessRepository } from '../infra/process/process.repository';
import { OperationHandle } from '../lock/lock.service';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { Compression } from '../pipeline/backup-format';
import { BackupPipeline, PipelineStage } from '../pipeline/backup-pipeline.service';
import { BlockerWatchdog } from './blocker-watchdog';
import { wipeDatabaseSql } from './restore-script';

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
    let stages: PipelineStage[] = [];
    // a scratch database has no other sessions to wait for
    const watchdog = target ? undefined : new BlockerWatchdog(this.database, applicationName, this.options.restoreGraceMs);
    try {
      psql = this.processes.spawn(tools.psql, psqlScriptArgs(connection.dbnameArg), {
        env: connection.env,
        stdin: true,
        stdout: false,
      });
      // file → decrypt → decompress → pg_restore (zstd hands its output to pg_restore fd-to-fd); its script → psql
      const decoding = this.backupPipeline.decodeForProcess(source.open(), { compression: backup.compression as Compression, encrypted: backup.encrypted });
      stages = decoding.stages;
      script = this.processes.spawn(tools.pgRestore, pgRestoreScriptArgs(), { env: { PATH: process.env.PATH }, stdin: decoding.output ?? true });
      const feed = decoding.output ? decoding.streams : [...decoding.streams, childStdinSink(script.stdin!)];
      const decoded = Promise.all([pipeline(feed, { signal: operation.signal }), ...stages.map((s) => s.completion)]).then(() => undefined);
      decoded.catch(() => undefined); // awaited by restoreInput before the COMMIT
      const wipe = target ? '' : wipeDatabaseSql(this.options.schema);
      const input = Readable.from(restoreInput(wipe, script, operation, decoded, { irrevocableCommit: !target }));
      await Promise.all([pipeline(input, psql.stdin!, { signal: operation.signal }), psql.completion]);
      return { terminatedPids: [...(watchdog?.terminated ?? [])] };
    } finally {
      watchdog?.stop();
      for (const stage of stages) stage.kill();
      script?.kill();
      psql?.kill();
    }
  }
}

/**
 * BEGIN, the wipe, then the script, holding back its last chunk (the COMMIT) until pg_restore
 * has exited 0 and everything feeding it (`upstream`: reading, decrypting, decompressing) succeeded.
 */
export async function* restoreInput(
  wipeSql: string,
  script: ChildProcessHandle,
  operation: OperationHandle,
  upstream: Promise<void>,
  { irrevocableCommit = true } = {},
): AsyncGenerator<Buffer> {
  yield Buffer.from(`BEGIN;\n${wipeSql}\n`);
  let held: Buffer | undefined;
  let bytes = 0;
  for await (const chunk of script.stdout! as AsyncIterable<Buffer>) {
    if (held) yield held;
    held = chunk;
    bytes += chunk.length;
    operation.reportBytes(bytes);
  }
  // the first real failure along the chain is the cause; a broken pipe only follows one
  const outcomes = await Promise.allSettled([upstream, script.completion]);
  const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
  if (failures.length) throw failures.find((failure) => !isBrokenPipe(failure)) ?? failures[0];
  if (irrevocableCommit) await operation.markIrrevocable();
  if (held) yield held;
}

/** The same connection URL, to another database on the same server. */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}
