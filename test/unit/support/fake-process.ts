import { Mock, mock } from 'node:test';
import { PassThrough, Readable, Writable } from 'node:stream';
import { ChildProcessHandle, ProcessFailedError } from '../../../src/infra/process/process.repository';

/**
 * A ChildProcessHandle without a process: the test writes the child's stdout and decides how it
 * exits. `kill()` is a mock; killing a child that has not exited rejects its completion as
 * SIGKILL would, and ends its stdout.
 */
export interface FakeChild extends ChildProcessHandle {
  readonly kill: Mock<() => void>;
  /**
   * Exit 0 resolves `completion`; anything else rejects it with the stderr tail. Takes effect
   * once stdout has been read to its end (or destroyed), as a real child's 'close' does.
   */
  exit(code: number, stderr?: string): void;
  readonly exited: boolean;
}

/** `stdout: null` is a child whose stdout goes to /dev/null (psql here); by default a PassThrough the test writes. */
export function fakeChild(options: { name?: string; stdout?: Readable | null; stdin?: Writable | null } = {}): FakeChild {
  const name = options.name ?? 'pg_dump';
  const stdout = options.stdout === undefined ? new PassThrough() : options.stdout;
  let stderr = '';
  let exited = false;
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const completion = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  completion.catch(() => undefined); // like the real handle: never an unhandled rejection
  const exit = (code: number, tail = '') => {
    const settle = () => {
      if (exited) return;
      exited = true;
      stderr = tail;
      if (code === 0) resolve();
      else reject(new ProcessFailedError(name, code, null, stderr));
    };
    // like a real child's 'close': the exit status is known once its stdout has been read to the end
    if (!stdout || stdout.readableEnded || stdout.destroyed) settle();
    else {
      stdout.once('end', settle);
      stdout.once('close', settle);
    }
  };
  const kill = mock.fn(() => {
    if (exited) return;
    exited = true;
    reject(new ProcessFailedError(name, null, 'SIGKILL', stderr));
    if (stdout instanceof PassThrough && !stdout.writableEnded) stdout.end();
  });
  return {
    pid: 4242,
    stdin: options.stdin ?? null,
    stdout,
    completion,
    stderrTail: () => stderr,
    kill,
    exit,
    get exited() {
      return exited;
    },
  };
}

/** A writable that keeps what it was given, like a file on disk. */
export class CollectingWritable extends Writable {
  readonly chunks: Buffer[] = [];

  constructor(private readonly failWith?: Error) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.failWith) return callback(this.failWith);
    this.chunks.push(Buffer.from(chunk));
    callback();
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Settles after `ms` with a failure, so a test waiting for something that never happens fails instead of hanging. */
export async function within<T>(promise: Promise<T>, ms = 2000, what = 'the awaited event'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => (resolve = res));
  return { promise, resolve };
}
