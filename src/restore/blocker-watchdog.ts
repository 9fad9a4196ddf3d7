import { Logger } from '@nestjs/common';
import { DatabaseInfoRepository } from '../database/database-info.repository';

const POLL_MS = 500;

/**
 * Watches the restore's session and terminates sessions that keep it waiting for a lock
 * longer than the grace period, so a restore never hangs behind an idle transaction.
 */
export class BlockerWatchdog {
  private readonly logger = new Logger(BlockerWatchdog.name);
  private readonly firstSeen = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;
  private polling = false;
  readonly terminated: number[] = [];

  constructor(
    private readonly database: DatabaseInfoRepository,
    private readonly applicationName: string,
    private readonly graceMs: number,
  ) {
    this.timer = setInterval(() => void this.poll(), POLL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const now = Date.now();
      const blockers = await this.database.blockersOf(this.applicationName);
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
    } catch (error) {
      this.logger.warn(`blocker check failed: ${(error as Error).message}`);
    } finally {
      this.polling = false;
    }
  }
}
