import { setTimeout as sleep } from 'node:timers/promises';
import { BackupHistory } from '../../backup/backup-history.entity';
import { BackupService } from '../../backup/backup.service';
import { BackupStatus } from '../../backup/backup.types';
import { DrillService } from '../../restore/drill.service';
import { RestoreHistory, RestoreStatus } from '../../restore/restore-history.entity';
import { RestorePreviewService } from '../../restore/restore-preview.service';
import { RestoreService } from '../../restore/restore.service';
import type { RolesMode } from '../../restore/restore-request';
import { CliContext } from '../cli-context';
import { CommandRun } from '../command-run';
import { CliError, ExitCode, usageError } from '../exit-codes';
import { formatBytes, formatSeconds, table } from '../format';
import { ask } from '../prompt';
import { RestoreBackupDto, toRestoreRequest } from '../../restore/dto/restore-backup.dto';
import { validated } from '../validation';

const POLL_MS = 500;

export interface RestoreOptions {
  yes?: boolean;
  table?: string[];
  schema?: string[];
  intoSchema?: string;
  targetDb?: string;
  roles?: RolesMode;
  dryRun?: boolean;
}

/** What a restore over the live database would do (RestorePreviewService, as the API's dryRun); changes nothing. */
export async function preview(run: CommandRun, id: string): Promise<ExitCode> {
  const context = await run.open();
  const p = await context.get(RestorePreviewService).preview(id, { files: false });
  run.out.result(p, () => {
    const changed = p.tables.filter((t) => t.current !== t.backup);
    const lines = [
      `restoring backup ${id} over ${context.database} would:`,
      ...(changed.length
        ? table(
            ['TABLE', 'ROWS NOW', 'ROWS IN BACKUP'],
            changed.map((t) => [t.name, t.current === null ? 'absent' : String(t.current), `${t.backup === null ? 'absent' : String(t.backup)}${t.estimated ? ' (estimate)' : ''}`]),
          )
        : ['  leave every table at its current row count']),
      `  ${p.tables.length - changed.length} table(s) keep their row count`,
      ...(p.vanishing.length ? ['  remove objects made after the backup:', ...p.vanishing.map((o) => `    ${o.kind} ${o.schema === null ? o.name : `${o.schema}.${o.name}`}`)] : ['  remove no object']),
    ];
    if (p.roles?.toCreate.length) lines.push(`  need roles the cluster lacks: ${p.roles.toCreate.join(', ')}`);
    if (p.locks) lines.push(`  take about ${p.locks.needed} locks of the ${p.locks.available} the server allows${p.locks.enough ? '' : ` (NOT ENOUGH: set max_locks_per_transaction to ${p.locks.requiredMaxLocksPerTransaction})`}`);
    if (p.safetyBackup) {
      lines.push(`  take a safety backup of about ${formatBytes(p.safetyBackup.expectedBytes)}; ${formatBytes(p.safetyBackup.freeBytes)} free${p.safetyBackup.enough ? '' : ' (NOT ENOUGH)'}`);
    }
    lines.push(p.estimatedDurationMs === null ? '  take an unknown time (no past restore to learn from)' : `  take about ${formatSeconds(p.estimatedDurationMs)}`);
    if (p.blockedBy) lines.push(`  wait: a ${p.blockedBy.type} started by ${p.blockedBy.startedBy} is running now`);
    return lines;
  });
  return ExitCode.Ok;
}

/**
 * Through RestoreService, as the API: over the live database (safety backup first), only some
 * tables or schemas (`--table`, `--schema`), beside the live ones (`--into-schema`), or into
 * another database (`--target-db`). Asks for the database's name unless `--yes`.
 */
export async function restore(run: CommandRun, id: string, opts: RestoreOptions): Promise<ExitCode> {
  if (opts.intoSchema !== undefined && opts.targetDb !== undefined) throw usageError('--into-schema and --target-db exclude each other');
  const dto = await validated(RestoreBackupDto, {
    confirm: true,
    tables: opts.table?.length ? opts.table : undefined,
    schemas: opts.schema?.length ? opts.schema : undefined,
    target: opts.intoSchema !== undefined ? { schema: opts.intoSchema } : opts.targetDb !== undefined ? { database: opts.targetDb } : undefined,
    roles: opts.roles,
  });
  const request = toRestoreRequest(dto);
  const context = await run.open();
  await completedBackup(context, id, 'restored');
  const target = opts.targetDb;
  if (target === context.database) throw usageError(`--target-db names the live database ${target}; leave --target-db out to restore over it`);
  if (!opts.yes) {
    const name = target ?? context.database;
    const question = target ? `Type the database name (${name}) to restore backup ${id} into it: ` : `Type the database name (${name}) to replace its content: `;
    if ((await ask(question)) !== name) throw new CliError('not confirmed; nothing was changed');
  }
  const progress = { label: 'restore', poll: context.operationBytes() };
  const restores = context.get(RestoreService);
  const done = await context.audited('backup.restore', { target: id, detail: { ...request }, ok: (r: RestoreHistory) => r.status === RestoreStatus.Completed }, () =>
    run.out.withProgress(progress, async () => finished(restores, (await restores.start(context.actor, id, request)).id)),
  );
  const where = target !== undefined ? `database ${target}${done.detail?.databaseCreated ? ' (created for it)' : ''}` : context.database;
  const what = describeScope(done);
  run.out.result(target !== undefined ? { ...done, database: target, created: done.detail?.databaseCreated ?? false } : done, () => [
    `restore ${done.id} of backup ${id}${what} into ${where} ${done.status} in ${formatSeconds(done.durationMs)}` +
      (done.safetyBackupId ? ` (safety backup ${done.safetyBackupId})` : '') +
      (target !== undefined && done.status === RestoreStatus.Completed ? `; restored into database ${target}${done.detail?.databaseCreated ? ' (created for it)' : ''}, ${context.database} was not touched` : ''),
    ...rolesLines(done),
    ...(done.detail?.leftOut?.length ? [`foreign keys left out (they reference tables not restored): ${done.detail.leftOut.join(', ')}`] : []),
  ]);
  if (done.status === RestoreStatus.Completed) return ExitCode.Ok;
  run.out.error(`restore ${done.id} of backup ${id} failed: ${done.error}`); // as RestoreService logs it
  return ExitCode.Failure;
}

/** What the restore did about the cluster's roles, tablespaces and database settings. */
function rolesLines(done: RestoreHistory): string[] {
  const { roles, tablespacesMissing, settingsNotApplied } = done.detail ?? {};
  return [
    ...(roles?.created.length ? [`roles created: ${roles.created.join(', ')}`] : []),
    ...(roles?.needPassword.length ? [`login roles that need a password (ALTER ROLE … PASSWORD): ${roles.needPassword.join(', ')}`] : []),
    ...(roles?.skipped.length ? [`roles left out, with their owners and grants: ${roles.skipped.join(', ')}`] : []),
    ...(tablespacesMissing?.length ? [`tablespaces missing here, everything went into the default one: ${tablespacesMissing.join(', ')}`] : []),
    ...(settingsNotApplied?.length ? [`database settings not applied (owner or superuser only): ${settingsNotApplied.join('; ')}`] : []),
  ];
}

function describeScope(done: RestoreHistory): string {
  const names = [...(done.detail?.scope?.tables ?? []), ...(done.detail?.scope?.schemas ?? []).map((s) => `schema ${s}`)];
  const beside = done.detail?.target?.schema;
  return `${names.length ? ` (${names.join(', ')})` : ''}${beside ? ` beside the live objects, in schema ${beside},` : ''}`;
}

/** DrillService.runNow, as a scheduled drill; exit 1 when the drill fails. */
export async function drill(run: CommandRun, id: string): Promise<ExitCode> {
  const context = await run.open();
  const backup = await completedBackup(context, id, 'drilled');
  const result = await context.audited('backup.drill', { target: id, ok: (d) => d.ok }, () =>
    run.out.withProgress({ label: 'drill', poll: context.operationBytes() }, () => context.get(DrillService).runNow(context.actor, backup)),
  );
  run.out.result({ backupId: id, ...result }, () => [
    `drill of backup ${id} ${result.ok ? 'passed' : 'FAILED'}: restore ${formatSeconds(result.restoreMs)}, whole drill ${formatSeconds(result.durationMs)}`,
    ...table(
      ['TABLE', 'EXPECTED', 'ACTUAL', 'RESULT'],
      result.tables.map((t) => [t.name, `${t.expected}${t.exact ? '' : ' (estimate)'}`, t.actual === null ? 'missing' : String(t.actual), t.ok ? 'ok' : 'DIFFERS']),
    ),
  ]);
  if (result.ok) return ExitCode.Ok;
  run.out.error(`drill of backup ${id} failed: ${result.error}`);
  return ExitCode.Failure;
}

async function completedBackup(context: CliContext, id: string, verb: string): Promise<BackupHistory> {
  const backup = await context.get(BackupService).get(id);
  if (backup.status !== BackupStatus.Completed) throw new CliError(`backup ${id} is ${backup.status}; only a completed backup can be ${verb}`);
  return backup;
}

/** The restore once it has left `running` (RestoreService runs it in the background). */
async function finished(restores: RestoreService, id: string): Promise<RestoreHistory> {
  for (;;) {
    const restore = await restores.get(id);
    if (restore.status !== RestoreStatus.Running) return restore;
    await sleep(POLL_MS);
  }
}
