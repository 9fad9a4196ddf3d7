import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { BackupStatsRepository } from './backup-stats.repository';
import { CHECK_TIMEOUT_MS } from './health.constants';

const HOUR_MS = 3_600_000;

/** The newest completed backup finished within the allowed age; none at all is too old. */
@Injectable()
export class BackupAgeHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly stats: BackupStatsRepository,
  ) {}

  isRecent(key: string, maxAgeHours: number) {
    return this.health
      .check(key)
      .attempt(async () => {
        const at = await this.stats.lastSuccessAt();
        if (!at) throw new Error('no completed backup');
        const ageHours = (Date.now() - at.getTime()) / HOUR_MS;
        if (ageHours > maxAgeHours) throw new Error(`the newest completed backup is ${ageHours.toFixed(1)} h old, over the ${maxAgeHours} h allowed`);
        return { lastSuccessAt: at.toISOString() };
      })
      .withTimeout(CHECK_TIMEOUT_MS);
  }
}
