import { DatabaseInfoRepository, LockBlocker } from '../database/database-info.repository';

const POLL_MS = 250;

/** A backup waited for a table lock longer than the configured bound. */
export class LockWaitTimeoutError extends Error {}

/**
 * Watches the sessions of a backup (pg_dump's and its snapshot's) and fails `exceeded` once they
 * have been kept waiting for a lock, without a break, longer than `timeoutMs`; the error names the
 * sessions holding that lock.
 */
export class LockWaitGuard {
  readonly exceeded: Promise<never>;
  private readonly timer: NodeJS.Timeout;
  private fail!: (error: LockWaitTimeoutError) => void;
  private waitingSince: number | undefined;
  private polling = false;

  constructor(
    private readonly database: DatabaseInfoRepository,
    private readonly applicationNames: string[],
    private readonly timeoutMs: number,
  ) {
    this.exceeded = new Promise<never>((_resolve, reject) => (this.fail = reject));
    this.exceeded.catch(() => undefined); // raced by the caller while it still waits
    this.timer = setInterval(() => void this.poll(), POLL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      // a session queued ahead of ours is not the cause: it waits too (often for pg_dump itself)
      const blockers = (await this.database.blockersOf(...this.applicationNames)).filter((b) => !b.waiting);
      const now = Date.now();
      if (!blockers.length) {
        this.waitingSince = undefined;
        return;
      }
      this.waitingSince ??= now;
      if (now - this.waitingSince >= this.timeoutMs) {
        this.stop();
        this.fail(new LockWaitTimeoutError(`waited more than ${seconds(this.timeoutMs)} for a table lock held by ${blockers.map(describe).join(', ')}`));
      }
    } catch {
      // the next poll tries again; pg_dump's own --lock-wait-timeout is the backstop
    } finally {
      this.polling = false;
    }
  }
}

function describe(blocker: LockBlocker): string {
  const name = blocker.applicationName ? `application_name "${blocker.applicationName}"` : 'no application_name';
  return `session ${blocker.pid} (${name}, ${blocker.state || 'unknown state'}, query started ${blocker.queryStart ?? 'never'})`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
