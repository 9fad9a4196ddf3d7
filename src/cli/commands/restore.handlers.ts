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
import { CliError, ExitCode } from '../exit-codes';
import { formatBytes, formatSeconds, table } from '../format';
import { ask } from '../prompt';
import { checkTargetName, restoreIntoDatabase } from '../target-database-restore';

const POLL_MS = 500;

export interface RestoreOptions {
  yes?: boolean;
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
 * Over the live database through RestoreService (safety backup first, as the API), or into
 * another database with `--target-db`. Asks for the database's name unless `--yes`.
 */
export async function restore(run: CommandRun, id: string, opts: RestoreOptions): Promise<ExitCode> {
  const context = await run.open();
  const backup = await completedBackup(context, id, 'restored');
  const target = opts.targetDb;
  if (target !== undefined) checkTargetName(context, target);
  if (!opts.yes) {
    const name = target ?? context.database;
    const question = target ? `Type the database name (${name}) to restore backup ${id} into it: ` : `Type the database name (${name}) to replace its content: `;
    if ((await ask(question)) !== name) throw new CliError('not confirmed; nothing was changed');
  }
  const progress = { label: 'restore', poll: context.operationBytes() };
  if (target !== undefined) {
    const result = await context.audited('backup.restore', { target: id, detail: { targetDatabase: target } }, () =>
      run.out.withProgress(progress, () => restoreIntoDatabase(context, backup, target)),
    );
    run.out.result(result, () => [
      `backup ${id} restored into database ${target}${result.created ? ' (created for it)' : ''} in ${formatSeconds(result.durationMs)}; ${context.database} was not touched`,
    ]);
    return ExitCode.Ok;
  }
  const restores = context.get(RestoreService);
  const done = await context.audited('backup.restore', { target: id, ok: (r: RestoreHistory) => r.status === RestoreStatus.Completed }, () =>
    run.out.withProgress(progress, async () => finished(restores, (await restores.start(context.actor, id, { files: false, roles: opts.roles })).id)),
  );
  run.out.result(done, () => [
    `restore ${done.id} of backup ${id} into ${context.database} ${done.status} in ${formatSeconds(done.durationMs)}` +
      (done.safetyBackupId ? ` (safety backup ${done.safetyBackupId})` : ''),
    ...rolesLines(done),
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
