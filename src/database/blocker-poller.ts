import { DatabaseInfoRepository, LockBlocker } from './database-info.repository';

/**
 * Asks, every `intervalMs`, which sessions keep the sessions named `applicationNames` waiting for
 * a lock, and hands the answer to `inspect`; one poll at a time, a failed poll hands its error to
 * `onError` and the next one tries again.
 */
export class BlockerPoller {
  private readonly timer: NodeJS.Timeout;
  private polling = false;

  constructor(
    private readonly database: DatabaseInfoRepository,
    private readonly applicationNames: string[],
    intervalMs: number,
    private readonly inspect: (blockers: LockBlocker[], now: number) => Promise<void> | void,
    private readonly onError: (error: Error) => void,
  ) {
    this.timer = setInterval(() => void this.poll(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      await this.inspect(await this.database.blockersOf(...this.applicationNames), Date.now());
    } catch (error) {
      this.onError(error as Error);
    } finally {
      this.polling = false;
    }
  }
}
