import { Command } from 'commander';
import { CommandRun, listArgument, uuidArgument } from '../command-run';
import type { CleanupOptions, CreateOptions, ListOptions } from './backup.handlers';

const handlers = () => import('./backup.handlers');

/** create, list, show, contents, verify, delete, cleanup, stats, import. */
export function registerBackupCommands(program: Command, run: CommandRun): void {
  program
    .command('create')
    .description('run a backup now and wait for it to finish (retention applies afterwards, as after a scheduled backup)')
    .option('--notes <text>', 'a note stored with the backup')
    .option('--tags <list>', 'comma-separated tags (letters, digits, . _ : -)', listArgument)
    .option('--no-encrypt', 'write this backup unencrypted even when encryption is configured')
    .option('--json', 'print the finished backup as JSON')
    .action(run.action(async (opts: CreateOptions) => (await handlers()).create(run, opts)));

  program
    .command('list')
    .description('list backups, newest first')
    .option('--limit <n>', 'at most this many (1–200, default 50)')
    .option('--offset <n>', 'skip this many')
    .option('--status <status>', 'running | completed | failed')
    .option('--type <type>', 'manual | scheduled | safety | event | startup | upload')
    .option('--json', 'print { items, total } as JSON')
    .action(run.action(async (opts: ListOptions) => (await handlers()).list(run, opts)));

  program
    .command('show')
    .description('show one backup')
    .argument('<id>', 'backup id', uuidArgument)
    .option('--json', 'print the backup as JSON')
    .action(run.action(async (id: string) => (await handlers()).show(run, id)));

  program
    .command('contents')
    .description("what a backup holds: schemas, tables with rows and sizes at backup time, views, functions, sequences, types, roles")
    .argument('<id>', 'backup id', uuidArgument)
    .option('--json', 'print the contents as JSON')
    .action(run.action(async (id: string) => (await handlers()).contents(run, id)));

  program
    .command('verify')
    .description('check a backup end to end: file, SHA-256, decryption, decompression, pg_restore --list (exit 1 when damaged)')
    .argument('<id>', 'backup id', uuidArgument)
    .option('--json', 'print the integrity report as JSON')
    .action(run.action(async (id: string) => (await handlers()).verify(run, id)));

  program
    .command('delete')
    .description('delete a backup: its files in every location and its history row')
    .argument('<id>', 'backup id', uuidArgument)
    .option('--json', 'print { deleted, filename } as JSON')
    .action(run.action(async (id: string) => (await handlers()).remove(run, id)));

  program
    .command('cleanup')
    .description('apply the retention policy (and archiving) now')
    .option('--dry-run', 'only show what would be deleted and archived, and why the rest is kept')
    .option('--json', 'print the result as JSON')
    .action(run.action(async (opts: CleanupOptions) => (await handlers()).cleanup(run, opts)));

  program
    .command('stats')
    .description('counts, sizes, last success and failure, last drill')
    .option('--json', 'print the statistics as JSON')
    .action(run.action(async () => (await handlers()).stats(run)));

  program
    .command('import')
    .description('register backups found in the backup locations (by their .json manifests) that the history lacks')
    .option('--json', 'print { imported, skipped } as JSON')
    .action(run.action(async () => (await handlers()).importBackups(run)));
}
