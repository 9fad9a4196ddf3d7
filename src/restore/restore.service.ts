import { BadRequestException, BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AuditOutcome } from '../audit/audit-log.entity';
import { BackupHistory } from '../backup/backup-history.entity';
import { BackupIntegrityService } from '../backup/backup-integrity.service';
import { BackupSource } from '../backup/backup-locations';
import { BackupService } from '../backup/backup.service';
import { BackupStatus, BackupType } from '../backup/backup.types';
import { DEFAULT_EXACT_COUNT_MAX_BYTES, failureMessage } from '../backup/backup-runner.service';
import { ArchiveToc, TocEntry } from '../backup/archive-toc';
import { BackupNotRestorableException, RestoreNotFoundException, RestoreScopeUnknownException, RestoreTargetConflictException } from '../common/exceptions';
import { Compression } from '../pipeline/backup-format';
import { BackupEvents } from '../events/backup-events';
import { HeldOperation, LockService, OperationHandle } from '../lock/lock.service';
import { quoteIdent } from '../infra/process/pg-connection';
import { CurrentRowCounts, DatabaseInfoRepository } from '../database/database-info.repository';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { ListRestoresQuery } from './dto/list-restores.query';
import { FilesRestoreService } from './files-restore.service';
import { RestoreDetail, RestoreHistory, RestoreStatus } from './restore-history.entity';
import { RestoreHooksRunner } from './restore-hooks';
import { RestorePlan, RestoreRunner } from './restore-runner.service';
import { isPartial, RestoreRequest, RestoreScope, RestoreTargetChoice } from './restore-request';
import { createsSchema, selectEntries, Selection, unknownNames } from './restore-selection';
import { ClusterRestorePlan, RolePreflight } from './role-preflight';
import { besideSql, inPlaceSql } from './scoped-restore-sql';
import { TargetDatabases } from './target-database';

/** A row count that waits longer than this for a table lock gives the planner's estimate instead. */
const COUNT_LOCK_TIMEOUT_MS = 2000;

@Injectable()
export class RestoreService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(RestoreService.name);
  /** Restores past their point of no return, until recorded: shutdown waits for them. */
  private readonly committing = new Map<Promise<void>, string>();

  constructor(
    @InjectRepository(RestoreHistory, PG_BACKUP_CONNECTION) private readonly restores: Repository<RestoreHistory>,
    private readonly backups: BackupService,
    private readonly integrity: BackupIntegrityService,
    private readonly lock: LockService,
    private readonly runner: RestoreRunner,
    private readonly audit: AuditService,
    private readonly filesRestore: FilesRestoreService,
    private readonly events: BackupEvents,
    private readonly rolePreflight: RolePreflight,
    private readonly hooks: RestoreHooksRunner,
    private readonly targetDatabases: TargetDatabases,
    private readonly database: DatabaseInfoRepository,
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
  ) {}

  onModuleInit(): void {
    this.lock.registerStaleSweeper(() => this.failInterrupted());
  }

  /**
   * Takes the lock, refuses (422) a backup that is not completed and intact, or one needing roles
   * the cluster lacks that `options.roles` does not let it create or leave out, and runs the
   * safety backup and the restore in the background (202). With tables or schemas, only those
   * (names the backup lacks: 422); with a target, beside the live objects or into another database.
   */
  async start(actor: string, backupId: string, options: RestoreRequest = { files: false }): Promise<RestoreHistory> {
    if (options.roles && options.target?.database !== undefined) {
      throw new BadRequestException('roles applies to restores into this database, not with target.database');
    }
    const backup = await this.backups.get(backupId);
    if (backup.status !== BackupStatus.Completed) {
      throw new BackupNotRestorableException(`backup ${backupId} is ${backup.status}; only a completed backup can be restored`);
    }
    // a safety backup of some tables restores just those, unless asked otherwise
    const scope = isPartial(options.scope) ? options.scope : isPartial(backup.origin?.scope) && !options.target ? backup.origin.scope : undefined;
    const target = options.target;
    if (target?.schema !== undefined && !scope) throw new BadRequestException('target.schema needs tables or schemas: the objects to restore beside the live ones');
    if (options.files && (scope || target)) throw new BadRequestException('files cannot be combined with tables, schemas or target: restore the files part with a whole-database restore');
    const id = randomUUID();
    const operation = await this.lock.acquire('restore', id, actor);
    try {
      const report = await this.integrity.check(backup, { full: false });
      if (!report.valid) {
        const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
        throw new BackupNotRestorableException(`backup ${backupId} is not intact (${failed.join('; ')}); nothing was changed`);
      }
      if (options.files) await this.filesRestore.check(backup, options.filesTarget);
      const plan = scope || target ? await this.plan(backup, report.source!, scope, target) : undefined;
      if (plan?.kind !== 'database') await this.runner.checkLockCapacity(backup, report.source!, plan?.entries);
      // the database's own settings come back with the whole database only
      const cluster = plan?.kind === 'database' ? undefined : await this.rolePreflight.plan(backup, options.roles, { databaseSettings: !plan });
      const restore = await this.restores.save(
        this.restores.create({
          id,
          backupId,
          status: RestoreStatus.Running,
          safetyBackupId: null,
          startedBy: actor,
          startedAt: new Date(),
          finishedAt: null,
          durationMs: null,
          error: null,
          detail: plan ? plannedDetail(plan) : null,
        }),
      );
      this.lock.runInBackground(operation, () => this.run(restore, backup, report.source!, operation, options, cluster, plan));
      return restore;
    } catch (error) {
      await operation.release();
      throw error;
    }
  }

  /** Which entries of the archive go where, and the SQL around them; refuses names the backup lacks and targets that cannot take it. */
  private async plan(backup: BackupHistory, source: BackupSource, scope: RestoreScope | undefined, target: RestoreTargetChoice | undefined): Promise<ScopedRestore> {
    let toc: ArchiveToc;
    try {
      toc = await this.integrity.archiveToc(source, { compression: backup.compression as Compression, encrypted: backup.encrypted });
    } catch (error) {
      throw new BackupNotRestorableException(`the table of contents of backup ${backup.id} cannot be read: ${(error as Error).message}; nothing was changed`);
    }
    const unknown = scope ? unknownNames(toc, scope) : [];
    if (unknown.length) throw new RestoreScopeUnknownException(backup.id, unknown);
    const entriesOf = (selection: Selection) => toc.entries.filter((e) => selection.dumpIds.includes(e.dumpId));
    if (target?.database !== undefined) {
      const { exists } = await this.targetDatabases.check(target.database);
      const selection = scope && selectEntries(toc, scope, 'elsewhere');
      return { kind: 'database', scope, target, database: target.database, exists, selection, runner: selection && { dumpIds: selection.dumpIds, prelude: '', epilogue: '' } };
    }
    if (target?.schema !== undefined) {
      const selection = selectEntries(toc, scope!, 'beside');
      if (selection.schemas.length !== 1) {
        throw new BadRequestException(`target.schema takes the tables of one schema, or one schema; these are in ${selection.schemas.join(', ')}`);
      }
      if (await this.database.schemaExists(target.schema)) {
        throw new RestoreTargetConflictException(`schema ${target.schema} already exists: choose a new schema for target.schema; nothing was changed`);
      }
      const sql = besideSql(selection.schemas[0], target.schema);
      return { kind: 'beside', scope, target, selection, entries: entriesOf(selection), runner: { dumpIds: selection.dumpIds, ...sql } };
    }
    const selection = selectEntries(toc, scope!, 'inPlace');
    const sql = inPlaceSql(scope!.tables, scope!.schemas, scope!.schemas.filter((schema) => !createsSchema(toc, schema)));
    return { kind: 'inPlace', scope, selection, entries: entriesOf(selection), runner: { dumpIds: selection.dumpIds, ...sql } };
  }

  async list(query: ListRestoresQuery): Promise<{ items: RestoreHistory[]; total: number }> {
    const [items, total] = await this.restores.findAndCount({
      order: { startedAt: 'DESC', id: 'DESC' },
      take: query.limit,
      skip: query.offset,
    });
    return { items, total };
  }

  async get(id: string): Promise<RestoreHistory> {
    const restore = await this.restores.findOneBy({ id });
    if (!restore) throw new RestoreNotFoundException(id);
    return restore;
  }

  /**
   * A restore past its point of no return runs to its end, however long the COMMIT takes, and is
   * recorded before the connections close: stopping it then would record a guess.
   */
  async beforeApplicationShutdown(): Promise<void> {
    for (const id of this.committing.values()) this.logger.warn(`restore ${id} is past its point of no return: shutdown waits for it to finish`);
    await Promise.all(this.committing.keys());
  }

  private async run(
    restore: RestoreHistory,
    backup: BackupHistory,
    source: BackupSource,
    operation: HeldOperation,
    options: RestoreRequest,
    cluster?: ClusterRestorePlan,
    plan?: ScopedRestore,
  ): Promise<void> {
    let recorded!: () => void;
    const done = new Promise<void>((resolve) => (recorded = resolve));
    const handle: OperationHandle = {
      type: operation.type,
      operationId: operation.operationId,
      startedBy: operation.startedBy,
      signal: operation.signal,
      reportBytes: (bytes) => operation.reportBytes(bytes),
      markIrrevocable: async () => {
        await operation.markIrrevocable();
        this.committing.set(done, restore.id);
      },
    };
    try {
      await this.restore(restore, backup, source, operation, handle, options, cluster, plan);
    } finally {
      this.committing.delete(done);
      recorded();
    }
  }

  private async restore(
    restore: RestoreHistory,
    backup: BackupHistory,
    source: BackupSource,
    operation: HeldOperation,
    handle: OperationHandle,
    options: RestoreRequest,
    cluster?: ClusterRestorePlan,
    plan?: ScopedRestore,
  ): Promise<void> {
    const scope = plan?.scope ?? { tables: [], schemas: [] };
    const context = { restoreId: restore.id, backupId: backup.id, actor: restore.startedBy, scope, target: options.target ?? null };
    const planned: RestoreDetail = { scope, ...(plan ? plannedDetail(plan) : {}) };
    let hooked = false;
    try {
      if (plan?.kind === 'database') {
        const detail = { ...planned, ...(await this.restoreIntoDatabase(restore, backup, source, handle, plan)) };
        await this.finish(restore, RestoreStatus.Completed, null, detail);
        return;
      }
      // beside, nothing live is replaced
      if (options.safetyBackup !== false && plan?.kind !== 'beside') await this.safetyBackup(restore, backup, operation, plan?.scope);
      hooked = true;
      try {
        await this.hooks.before(context, operation.signal);
      } catch (error) {
        throw new Error(`${failureMessage(error, operation.signal)}; the database was not touched`);
      }
      // beside, no live table changes: nothing to count
      const tables = plan?.kind === 'beside' ? null : restoredTables(backup, plan?.scope);
      const before = tables && (await this.countRows(restore, tables));
      const outcome = await this.runner.run(restore.id, backup, source, handle, undefined, { cluster, plan: plan?.runner });
      const detail: RestoreDetail = { ...planned, ...(outcome.terminatedPids.length ? { terminatedPids: outcome.terminatedPids } : {}), ...cluster?.detail };
      const after = tables && (await this.countRows(restore, tables));
      if (before && after) {
        const estimated = [...new Set([...before.estimated, ...after.estimated])].sort();
        detail.rowCounts = { before: before.tables, after: after.tables, ...(estimated.length ? { estimated } : {}) };
      }
      if (options.files) {
        const target = options.filesTarget ?? '/';
        try {
          detail.files = { target, ...(await this.filesRestore.restore(backup, target, operation.signal)) };
        } catch (error) {
          throw new Error(`the database was restored, but putting the files back into ${target} failed: ${failureMessage(error, operation.signal)}`);
        }
      }
      const hookError = await this.hooks.after({ ...context, outcome: RestoreStatus.Completed, error: null });
      if (hookError) detail.afterRestoreHookError = hookError;
      await this.finish(restore, RestoreStatus.Completed, null, detail);
    } catch (error) {
      const message = failureMessage(error, operation.signal);
      this.logger.error(`restore ${restore.id} of backup ${backup.id} failed: ${message}`);
      const detail: RestoreDetail = { ...planned };
      if (hooked) {
        const hookError = await this.hooks.after({ ...context, outcome: RestoreStatus.Failed, error: message });
        if (hookError) detail.afterRestoreHookError = hookError;
      }
      await this.finish(restore, RestoreStatus.Failed, message, detail);
    }
  }

  /** Rows of `tables` on the live database now (exact up to exactCountMaxBytes); null when counting failed: the record goes without. */
  private async countRows(restore: RestoreHistory, tables: string[]): Promise<CurrentRowCounts | null> {
    try {
      return await this.database.currentRowCounts(tables, {
        exactMaxBytes: this.options.exactCountMaxBytes ?? DEFAULT_EXACT_COUNT_MAX_BYTES,
        lockTimeoutMs: COUNT_LOCK_TIMEOUT_MS,
      });
    } catch (error) {
      this.logger.warn(`restore ${restore.id}: rows not counted: ${(error as Error).message}`);
      return null;
    }
  }

  /** Into another database: created when missing (and dropped again if the restore fails), the live one untouched. */
  private async restoreIntoDatabase(restore: RestoreHistory, backup: BackupHistory, source: BackupSource, handle: OperationHandle, plan: DatabasePlan): Promise<RestoreDetail> {
    if (!plan.exists) await this.targetDatabases.create(plan.database);
    try {
      await this.runner.run(restore.id, backup, source, handle, { scratchDatabase: plan.database }, { plan: plan.runner });
    } catch (error) {
      if (!plan.exists) await this.targetDatabases.drop(plan.database).catch((e: Error) => this.logger.warn(`dropping database ${plan.database} failed: ${e.message}`));
      throw new Error(`${failureMessage(error, handle.signal)}${plan.exists ? '' : ` (database ${plan.database}, created for it, was dropped)`}`);
    }
    return { databaseCreated: !plan.exists };
  }

  /**
   * A backup of what the restore replaces: everything, or only those of its tables or schemas that
   * exist (pg_dump refuses patterns matching nothing); none when none of them exists.
   */
  private async safetyBackup(restore: RestoreHistory, backup: BackupHistory, operation: HeldOperation, scope?: RestoreScope): Promise<void> {
    let only = {};
    if (scope) {
      const live = await this.database.existing(scope.tables, scope.schemas);
      if (!live.tables.length && !live.schemas.length) return;
      // pg_dump ignores --schema beside --table: a scope of both is backed up whole
      if (!live.tables.length || !live.schemas.length) only = { scope: live };
    }
    const safety = await this.backups.createUnderLock(
      restore.startedBy,
      { notes: `safety backup before restoring ${backup.id}`, tags: ['safety'] },
      BackupType.Safety,
      operation,
      { restoreId: restore.id, ...only },
    );
    restore.safetyBackupId = safety.id;
    await this.restores.update({ id: restore.id }, { safetyBackupId: safety.id });
    if (safety.status !== BackupStatus.Completed) {
      throw new Error(`the safety backup failed, so the database was not touched: ${safety.error}`);
    }
  }

  private async finish(restore: RestoreHistory, status: RestoreStatus, error: string | null, detail: RestoreDetail) {
    const finishedAt = new Date();
    Object.assign(restore, {
      status,
      error,
      finishedAt,
      durationMs: finishedAt.getTime() - restore.startedAt.getTime(),
      detail: Object.keys(detail).length ? detail : null,
    });
    await this.restores.update(
      { id: restore.id },
      { status, error, finishedAt, durationMs: restore.durationMs, detail: restore.detail },
    );
    await this.announce(restore);
  }

  /** The `restore.completed`/`restore.failed` event and the `restore.finish` audit entry of an ended restore. */
  private async announce(restore: RestoreHistory): Promise<void> {
    const completed = restore.status === RestoreStatus.Completed;
    this.events.emit(completed ? 'restore.completed' : 'restore.failed', { restore });
    await this.audit.record({
      action: 'restore.finish',
      actor: restore.startedBy,
      outcome: completed ? AuditOutcome.Success : AuditOutcome.Failure,
      target: restore.backupId,
      detail: { restoreId: restore.id, safetyBackupId: restore.safetyBackupId, error: restore.error, ...restore.detail },
    });
  }

  /**
   * With the lock held, a restore still `running` was interrupted. Its transaction wrote a marker
   * row just before COMMIT: present, the restore committed; absent, it rolled back. Either way it
   * is announced and audited as if it had ended in this process.
   */
  private async failInterrupted(): Promise<void> {
    const schema = quoteIdent(this.restores.metadata.schema!);
    const [committed]: [{ id: string }[], number] = await this.restores.query(
      `UPDATE ${schema}.restore_history r
          SET status = $1, error = NULL, finished_at = c.committed_at,
              duration_ms = greatest(0, round(extract(epoch FROM c.committed_at - r.started_at) * 1000))::int
         FROM ${schema}.restore_commit c
        WHERE r.status = $2 AND c.restore_id = r.id
        RETURNING r.id`,
      [RestoreStatus.Completed, RestoreStatus.Running],
    );
    const interrupted = await this.restores.findBy({ status: RestoreStatus.Running });
    await this.restores.update(
      { status: RestoreStatus.Running },
      { status: RestoreStatus.Failed, error: 'interrupted: the process running this restore stopped; its transaction was rolled back', finishedAt: new Date() },
    );
    for (const { id } of [...committed, ...interrupted]) {
      const restore = await this.restores.findOneBy({ id });
      if (restore) await this.announce(restore);
    }
  }
}

interface PlanBase {
  scope?: RestoreScope;
  target?: RestoreTargetChoice;
  selection?: Selection;
  runner?: RestorePlan;
}

interface DatabasePlan extends PlanBase {
  kind: 'database';
  database: string;
  exists: boolean;
}

/** A restore of some tables or schemas in place or beside the live ones, or of anything into another database. */
type ScopedRestore = DatabasePlan | (PlanBase & { kind: 'inPlace' | 'beside'; selection: Selection; entries: TocEntry[]; runner: RestorePlan });

/** The tables a restore replaces (`schema.table`): the backup's, or those of its scope. */
function restoredTables(backup: BackupHistory, scope: RestoreScope | undefined): string[] {
  const all = Object.keys(backup.metadata?.tables ?? {});
  if (!scope) return all;
  const inSchemas = all.filter((name) => scope.schemas.includes(name.slice(0, name.indexOf('.'))));
  return [...new Set([...scope.tables, ...inSchemas])].sort();
}

function plannedDetail(plan: ScopedRestore): RestoreDetail {
  return {
    ...(plan.scope && { scope: plan.scope }),
    ...(plan.target && { target: plan.target }),
    ...(plan.selection?.leftOut.length && { leftOut: plan.selection.leftOut }),
  };
}
