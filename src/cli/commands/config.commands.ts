import { Command } from 'commander';
import { CommandRun } from '../command-run';

const handlers = () => import('./config.handlers');

/** config get, config set: the persisted configuration the API edits at /backups/config. */
export function registerConfigCommands(program: Command, run: CommandRun): void {
  const config = program.command('config').description('show or change the persisted configuration (schedule, retention, compression…)');

  config
    .command('get')
    .description('show the configuration, or one setting')
    .argument('[key]', 'one setting, e.g. schedule or retention')
    .option('--json', 'print it as JSON')
    .action(run.action(async (key: string | undefined) => (await handlers()).get(run, key)));

  config
    .command('set')
    .description("change settings: key=value … (values as JSON, else as text), e.g. schedule='0 3 * * *' enabled=true retention.keepLast=14")
    .argument('<assignments...>', 'key=value pairs; the same fields and rules as PUT /backups/config')
    .option('--json', 'print the new configuration as JSON')
    .action(run.action(async (assignments: string[]) => (await handlers()).set(run, assignments)));
}
