import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { BackupStatsRepository } from './backup-stats.repository';
import { CHECK_TIMEOUT_MS } from './health.constants';

/** The most recent restore drill succeeded; no drill yet is fine. */
@Injectable()
export class DrillHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly stats: BackupStatsRepository,
  ) {}

  lastDrillOk(key: string) {
    return this.health
      .check(key)
      .attempt(async () => {
        const drill = await this.stats.lastDrill();
        // the drill's error text stays in the admin API: this route is public
        if (drill && !drill.ok) throw new Error(`the last restore drill (${drill.at}) failed`);
        return drill ? { at: drill.at } : {};
      })
      .withTimeout(CHECK_TIMEOUT_MS);
  }
}
