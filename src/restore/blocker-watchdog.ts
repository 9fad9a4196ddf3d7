import { Logger } from '@nestjs/common';
import { BlockerPoller } from '../database/blocker-poller';
import { DatabaseInfoRepository, LockBlocker } from '../database/database-info.repository';

const POLL_MS = 500;

/**
 * Watches the restore's session and terminates sessions that keep it waiting for a lock
 * longer than the grace period, so a restore never hangs behind an idle transaction.
 */
export class BlockerWatchdog {
  private readonly logger = new Logger(BlockerWatchdog.name);
  private readonly firstSeen = new Map<number, number>();
  private readonly poller: BlockerPoller;
  readonly terminated: number[] = [];

  constructor(
    private readonly database: DatabaseInfoRepository,
    applicationName: string,
    private readonly graceMs: number,
  ) {
    this.poller = new BlockerPoller(
      database,
      [applicationName],
      POLL_MS,
      (blockers, now) => this.terminateOverdue(blockers, now),
      (error) => this.logger.warn(`blocker check failed: ${error.message}`),
    );
  }

  stop(): void {
    this.poller.stop();
  }

  private async terminateOverdue(blockers: LockBlocker[], now: number): Promise<void> {
    const current = new Set(blockers.map((b) => b.pid));
    for (const pid of this.firstSeen.keys()) if (!current.has(pid)) this.firstSeen.delete(pid);
    for (const blocker of blockers) {
      if (this.database.isOwnSession(blocker.applicationName)) continue;
      const since = this.firstSeen.get(blocker.pid) ?? now;
      this.firstSeen.set(blocker.pid, since);
      if (now - since >= this.graceMs && (await this.database.terminate(blocker.pid))) {
        this.terminated.push(blocker.pid);
        this.firstSeen.delete(blocker.pid);
        this.logger.warn(`terminated session ${blocker.pid} (${blocker.applicationName || 'no name'}) that blocked the restore`);
      }
    }
  }
}
