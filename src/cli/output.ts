import { Progress, ProgressMode, ProgressOptions } from './progress';

type Stream = NodeJS.WriteStream;

const written = new Set<string>();

/**
 * One line on stderr, once: a failure the module logs (`backup … failed: …`) and the command
 * then reports is the same line, and is shown once.
 */
export function stderrLine(line: string, stream: Stream = process.stderr): void {
  if (written.has(line)) return;
  written.add(line);
  stream.write(`${line}\n`);
}

/**
 * Where a command's results go. Human mode: text on stdout, with a progress bar when stdout is a
 * terminal and plain progress lines otherwise. `--json`: one JSON document on stdout and nothing
 * else there; progress only as a bar on stderr, when stderr is a terminal. Errors: one line on stderr.
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly stdout: Stream = process.stdout,
    private readonly stderr: Stream = process.stderr,
  ) {}

  /** The command's result: `value` as JSON, or the human lines. */
  result(value: unknown, human: () => string[]): void {
    if (this.json) this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else for (const line of human()) this.stdout.write(`${line}\n`);
  }

  /** A human-only note (nothing in `--json` mode). */
  note(line: string): void {
    if (!this.json) this.stdout.write(`${line}\n`);
  }

  error(message: string): void {
    stderrLine(`pg-backup: ${message}`, this.stderr);
  }

  progress(options: Omit<ProgressOptions, 'mode' | 'stream'>): Progress {
    const [mode, stream]: [ProgressMode, Stream] = this.json
      ? [this.stderr.isTTY ? 'bar' : 'off', this.stderr]
      : [this.stdout.isTTY ? 'bar' : 'lines', this.stdout];
    return Progress.start({ ...options, mode, stream });
  }

  /** `work` with a progress display that is cleared however it ends. */
  async withProgress<T>(options: Omit<ProgressOptions, 'mode' | 'stream'>, work: () => Promise<T>): Promise<T> {
    const progress = this.progress(options);
    try {
      return await work();
    } finally {
      progress.stop();
    }
  }
}
