import { formatBytes, formatClock } from './format';

/** A bar redrawn in place (a terminal), a line now and then (a log file, a pipe), or nothing. */
export type ProgressMode = 'bar' | 'lines' | 'off';

export interface ProgressOptions {
  /** What runs: `backup`, `restore`, `drill`, `verify`… */
  label: string;
  mode: ProgressMode;
  stream: NodeJS.WritableStream & { columns?: number };
  /** Bytes done so far; null while unknown. Polled, and a failing poll is ignored. */
  poll?: () => Promise<number | null>;
  /** Expected bytes, when there is an estimate: the bar then shows a percentage (never 100 % before the end). */
  total?: number | null;
}

const TICK_MS = 500;
/** In `lines` mode a new line at most this often, and only when something changed. */
const LINE_EVERY_MS = 5000;
const BAR_WIDTH = 24;

export class Progress {
  private readonly started = Date.now();
  private readonly timer?: NodeJS.Timeout;
  private bytes: number | null = null;
  private lastLineAt = 0;
  private lastLineBytes: number | null = null;
  private frame = 0;
  private polling = false;
  private stopped = false;

  private constructor(private readonly options: ProgressOptions) {
    if (options.mode === 'off') return;
    if (options.mode === 'lines') this.write(`${options.label}: started\n`);
    this.lastLineAt = Date.now();
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
    if (options.mode === 'bar') this.draw();
  }

  static start(options: ProgressOptions): Progress {
    return new Progress(options);
  }

  /** Clears the bar, or ends the lines with how long it took. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    if (this.options.mode === 'bar') this.write('\r\x1b[K');
    if (this.options.mode === 'lines') this.write(`${this.options.label}: ended after ${formatClock(Date.now() - this.started)}${this.bytes ? ` (${formatBytes(this.bytes)})` : ''}\n`);
  }

  private async tick(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const bytes = await this.options.poll?.().catch(() => null);
      if (bytes !== null && bytes !== undefined) this.bytes = bytes;
    } finally {
      this.polling = false;
    }
    if (this.stopped) return;
    if (this.options.mode === 'bar') return this.draw();
    const now = Date.now();
    if (now - this.lastLineAt >= LINE_EVERY_MS && this.bytes !== this.lastLineBytes) {
      this.lastLineAt = now;
      this.lastLineBytes = this.bytes;
      this.write(`${this.options.label}: ${this.bytes === null ? 'running' : formatBytes(this.bytes)}, ${formatClock(now - this.started)} elapsed\n`);
    }
  }

  private draw(): void {
    const line = renderBar(this.options.label, this.bytes, this.options.total ?? null, Date.now() - this.started, this.frame++);
    const columns = this.options.stream.columns || 80; // 0 on a pty of unknown size
    this.write(`\r${line.slice(0, Math.max(columns - 1, 10))}\x1b[K`);
  }

  private write(text: string): void {
    this.options.stream.write(text);
  }
}

/**
 * `backup [#########·········]  45%  12.3 MiB / 27.0 MiB  0:05` with an estimate,
 * `restore [     <=>          ]  12.3 MiB  0:05` without one.
 */
export function renderBar(label: string, bytes: number | null, total: number | null, elapsedMs: number, frame: number): string {
  const done = bytes ?? 0;
  let bar: string;
  let figures: string;
  if (total && total > 0) {
    const fraction = Math.min(done / total, 0.99);
    const filled = Math.round(fraction * BAR_WIDTH);
    bar = '#'.repeat(filled) + '·'.repeat(BAR_WIDTH - filled);
    figures = `${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatBytes(done)} / ~${formatBytes(total)}`;
  } else {
    const span = BAR_WIDTH - 3;
    const position = frame % (2 * span);
    const at = position < span ? position : 2 * span - position;
    bar = ' '.repeat(at) + '<=>' + ' '.repeat(span - at);
    figures = bytes === null ? '' : formatBytes(done);
  }
  return `${label} [${bar}]  ${figures ? `${figures}  ` : ''}${formatClock(elapsedMs)}`;
}
