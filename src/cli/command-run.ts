import { Command, InvalidArgumentError } from 'commander';
import type { CliContext, CliOverrides } from './cli-context';
import { ExitCode } from './exit-codes';
import { Output } from './output';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * One invocation: its output mode, the application context once a command opens it, the exit
 * code. Nest, TypeORM and the module are loaded only when a command opens the context, so
 * `--help` and usage errors answer at once.
 */
export class CommandRun {
  out = new Output(false);
  context?: CliContext;
  exitCode: ExitCode = ExitCode.Ok;

  async open(overrides: CliOverrides = {}): Promise<CliContext> {
    const { CliContext } = await import('./cli-context');
    this.context = await CliContext.open(overrides);
    return this.context;
  }

  /**
   * A commander action: sets the output mode from `--json`, runs `work` with the command's
   * arguments and options, and keeps the exit code it returns (default 0). Throwing ends the
   * invocation with the error's exit code.
   */
  action<A extends unknown[]>(work: (...args: A) => Promise<ExitCode | void>): (...args: unknown[]) => Promise<void> {
    return async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      this.out = new Output(Boolean(command.opts().json));
      this.exitCode = (await work(...(args.slice(0, -1) as A))) ?? ExitCode.Ok;
    };
  }
}

/** commander argument parser: a backup id must be a UUID (as the API's ParseUUIDPipe). */
export function uuidArgument(value: string): string {
  if (!UUID.test(value)) throw new InvalidArgumentError(`"${value}" is not a backup id (a UUID)`);
  return value.toLowerCase();
}

/** `a,b , c` → ['a', 'b', 'c']. */
export function listArgument(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter(Boolean);
}
