/** What `pg-backup` exits with; scripts may rely on these. */
export enum ExitCode {
  Ok = 0,
  /** The operation ran and failed: backup failed, verify found damage, drill or restore failed, not found. */
  Failure = 1,
  /** The invocation is wrong: unknown command or option, missing or malformed argument, invalid value or environment. */
  Usage = 2,
  /** Another backup, restore or other operation holds the lock (here or on a server). */
  LockHeld = 3,
  /** Stopped by SIGINT / SIGTERM (128 + signal number), as shells report it. */
  Interrupted = 130,
  Terminated = 143,
}

/** A failure the CLI reports as one line on stderr, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.Failure,
  ) {
    super(message);
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, ExitCode.Usage);
}
