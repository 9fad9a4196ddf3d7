#!/usr/bin/env node
import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { PRODUCT_VERSION } from '../product-version';
import { CommandRun } from './command-run';
import { registerBackupCommands } from './commands/backup.commands';
import { registerConfigCommands } from './commands/config.commands';
import { registerRestoreCommands } from './commands/restore.commands';
import { CliError, ExitCode } from './exit-codes';

/** After the command, pending notifications (webhooks, e-mail) may finish; nothing may hold the process longer. */
const EXIT_GRACE_MS = 30_000;

export function buildProgram(run: CommandRun): Command {
  const program = new Command('pg-backup')
    .description(
      'PostgreSQL backups from the command line: the same database, backup directory, configuration and lock as the server (same environment variables), no server needed.',
    )
    .version(PRODUCT_VERSION, '-V, --version')
    .exitOverride()
    .showHelpAfterError('(pg-backup --help lists the commands)')
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 failure, 2 usage (or invalid configuration), 3 another operation holds the lock.\n' +
        'Environment: DATABASE_URL (required) and the server\'s BACKUP_* variables; LOG_LEVEL (default warn).',
    );
  registerBackupCommands(program, run);
  registerRestoreCommands(program, run);
  registerConfigCommands(program, run);
  return program;
}

/** Runs one invocation and resolves with its exit code; never throws. */
export async function main(argv: string[], run = new CommandRun()): Promise<ExitCode> {
  const interrupt = (signal: NodeJS.Signals, code: ExitCode) => {
    process.once(signal, () => {
      run.out.error(`${signal}: stopping; an operation still running is aborted and recorded as failed (${signal} again quits at once)`);
      process.once(signal, () => process.exit(code));
      void (run.context?.close() ?? Promise.resolve()).finally(() => process.exit(code));
    });
  };
  interrupt('SIGINT', ExitCode.Interrupted);
  interrupt('SIGTERM', ExitCode.Terminated);
  try {
    await buildProgram(run).parseAsync(argv);
    return run.exitCode;
  } catch (error) {
    // commander has printed its own errors (and the help); help and version exit 0
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    const [code, message] = error instanceof CliError ? [error.exitCode, error.message] : await describeFailure(error);
    if (run.out.json) run.out.result({ error: message, exitCode: code }, () => []);
    run.out.error(message);
    if (process.env.LOG_LEVEL === 'debug' && error instanceof Error && !(error instanceof CliError)) run.out.error(error.stack ?? '');
    return code;
  } finally {
    await run.context?.close().catch((error: Error) => run.out.error(`closing: ${error.message}`));
  }
}

/** Exit code and message of an error from the module (loaded only then: Nest's exceptions). */
async function describeFailure(error: unknown): Promise<[ExitCode, string]> {
  const { errorMessage, exitCodeFor } = await import('./failures');
  return [exitCodeFor(error), errorMessage(error)];
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  });
}
