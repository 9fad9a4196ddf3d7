import { Injectable } from '@nestjs/common';
import { spawn } from 'node:child_process';
import { getPriority, setPriority } from 'node:os';
import { Readable, Writable } from 'node:stream';

const STDERR_TAIL_BYTES = 8 * 1024;
/**
 * pg_dump, zstd, pg_restore and psql run at a lower CPU priority than the server: under load the
 * API's requests come first, while an otherwise idle machine runs them at full speed.
 */
const CHILD_NICENESS = 10;

export class ProcessFailedError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderrTail: string,
  ) {
    const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
    super(`${command} ${how}${stderrTail ? `: ${stderrTail.trim()}` : ''}`);
  }
}

/** A failure that only follows another: a process killed by SIGPIPE, or a write into a pipe whose reader is gone. */
export function isBrokenPipe(error: unknown): boolean {
  if (error instanceof ProcessFailedError) return error.signal === 'SIGPIPE';
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  /**
   * stdin is a pipe when true, /dev/null when false or absent. Another child's stdout is handed
   * over fd-to-fd: the bytes go from one process to the other without passing through Node. A
   * number is an open file the child reads itself.
   */
  stdin?: boolean | Readable | number;
  /** stdout is a pipe when true (the default), /dev/null when false; a number is an open file the child writes itself. */
  stdout?: boolean | number;
}

export interface ChildProcessHandle {
  readonly pid: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  /** Resolves when the process exits 0; rejects with ProcessFailedError (stderr tail included) otherwise. */
  readonly completion: Promise<void>;
  readonly stderrTail: () => string;
  /** Kills the process if it still runs; safe to call at any time. */
  kill(): void;
}

/** Every child process goes through here, so services can be tested without spawning. */
@Injectable()
export class ProcessRepository {
  spawn(command: string, args: string[], options: SpawnOptions): ChildProcessHandle {
    const handedOver = options.stdin instanceof Readable ? options.stdin : undefined;
    const child = spawn(command, args, {
      env: options.env,
      stdio: [
        handedOver ?? (typeof options.stdin === 'number' ? options.stdin : options.stdin ? 'pipe' : 'ignore'),
        typeof options.stdout === 'number' ? options.stdout : options.stdout === false ? 'ignore' : 'pipe',
        'pipe',
      ],
    });
    // Node must not read what is now the child's input; nothing was read yet (same tick).
    handedOver?.destroy();
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, Math.min(19, getPriority() + CHILD_NICENESS));
      } catch {
        // it may already have exited; its exit status tells
      }
    }
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL_BYTES);
    });
    const name = command.split('/').pop() ?? command;
    const completion = new Promise<void>((resolve, reject) => {
      child.once('error', (error) => reject(new ProcessFailedError(name, null, null, error.message)));
      child.once('close', (code, signal) =>
        code === 0 ? resolve() : reject(new ProcessFailedError(name, code, signal, stderr)),
      );
    });
    completion.catch(() => undefined); // observed by the caller; never an unhandled rejection
    return {
      pid: child.pid,
      stdin: child.stdin,
      stdout: child.stdout,
      completion,
      stderrTail: () => stderr,
      kill: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      },
    };
  }
}
