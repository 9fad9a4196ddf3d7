import { BlockerPoller } from '../database/blocker-poller';
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
  private readonly poller: BlockerPoller;
  private fail!: (error: LockWaitTimeoutError) => void;
  private waitingSince: number | undefined;

  constructor(database: DatabaseInfoRepository, applicationNames: string[], timeoutMs: number) {
    this.exceeded = new Promise<never>((_resolve, reject) => (this.fail = reject));
    this.exceeded.catch(() => undefined); // raced by the caller while it still waits
    this.poller = new BlockerPoller(
      database,
      applicationNames,
      POLL_MS,
      (found, now) => {
        // a session queued ahead of ours is not the cause: it waits too (often for pg_dump itself)
        const blockers = found.filter((b) => !b.waiting);
        if (!blockers.length) {
          this.waitingSince = undefined;
          return;
        }
        this.waitingSince ??= now;
        if (now - this.waitingSince >= timeoutMs) {
          this.stop();
          this.fail(new LockWaitTimeoutError(`waited more than ${seconds(timeoutMs)} for a table lock held by ${blockers.map(describe).join(', ')}`));
        }
      },
      // the next poll tries again; pg_dump's own --lock-wait-timeout is the backstop
      () => undefined,
    );
  }

  stop(): void {
    this.poller.stop();
  }
}

function describe(blocker: LockBlocker): string {
  const name = blocker.applicationName ? `application_name "${blocker.applicationName}"` : 'no application_name';
  return `session ${blocker.pid} (${name}, ${blocker.state || 'unknown state'}, query started ${blocker.queryStart ?? 'never'})`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
