import { Command } from 'commander';
import { CommandRun, uuidArgument } from '../command-run';
import { ROLES_MODES, RolesMode } from '../../restore/restore-request';
import { usageError } from '../exit-codes';
import type { RestoreOptions } from './restore.handlers';

const handlers = () => import('./restore.handlers');

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** restore, drill. */
export function registerRestoreCommands(program: Command, run: CommandRun): void {
  program
    .command('restore')
    .description("replace the live database's content with a backup, after a safety backup; asks for the database name first unless --yes")
    .argument('<id>', 'backup id', uuidArgument)
    .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .option('--table <schema.table>', 'only this table, with its indexes, constraints, triggers, owned sequences, policies and grants (repeatable)', collect, [])
    .option('--schema <name>', 'only this schema, with everything in it (repeatable)', collect, [])
    .option('--into-schema <name>', 'restore the tables or schema into this new schema instead, beside the live ones')
    .option('--target-db <name>', 'restore into this database of the same server instead: created when missing, refused unless empty; the live database is not touched')
    .option('--roles <mode>', `roles the backup needs that the cluster lacks: ${ROLES_MODES.join(' | ')} (default create, where the role may create roles)`)
    .option('--dry-run', 'only show what the restore would do (row counts now and in the backup, objects that would vanish, roles, locks, space, duration); changes nothing')
    .option('--json', 'print the finished restore (or the preview) as JSON')
    .action(
      run.action(async (id: string, opts: RestoreOptions) => {
        if (opts.dryRun && opts.targetDb !== undefined) throw usageError('--dry-run previews a restore over the live database; it does not combine with --target-db');
        if (opts.dryRun) return (await handlers()).preview(run, id);
        // before connecting: a script that forgot --yes learns it at once
        if (!opts.yes && !process.stdin.isTTY) throw usageError('refusing to restore without --yes when not interactive');
        if (opts.roles !== undefined && !ROLES_MODES.includes(opts.roles as RolesMode)) throw usageError(`--roles must be one of ${ROLES_MODES.join(', ')}`);
        if (opts.roles !== undefined && opts.targetDb !== undefined) throw usageError('--roles applies to a restore over the live database, not with --target-db');
        return (await handlers()).restore(run, id, opts);
      }),
    );

  program
    .command('drill')
    .description("restore a backup into a scratch database, compare each table's rows with the backup's, drop it (exit 1 when it fails)")
    .argument('<id>', 'backup id', uuidArgument)
    .option('--json', 'print the drill result as JSON')
    .action(run.action(async (id: string) => (await handlers()).drill(run, id)));
}
