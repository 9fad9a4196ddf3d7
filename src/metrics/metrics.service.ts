import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { collectDefaultMetrics, Counter, exponentialBuckets, Gauge, Histogram, Registry } from 'prom-client';
import { BackupStatus, BackupType } from '../backup/backup.types';
import { BackupEvents } from '../events/backup-events';
import { BackupStatsRepository } from '../health/backup-stats.repository';
import { LockService } from '../lock/lock.service';

/** What a new Registry exposes: the Prometheus text format 0.0.4. */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;
const PREFIX = 'pg_backup_';
const OUTCOMES = ['completed', 'failed'] as const;
const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400];
/** 1 MiB to 256 GiB. */
const SIZE_BUCKETS = exponentialBuckets(1 << 20, 4, 10);

/** Calls `read` once for callers that overlap: the gauges of one scrape share a query. */
function shared<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () => (pending ??= read().finally(() => (pending = null)));
}

/**
 * Prometheus metrics in a registry of their own (a host app's metrics cannot collide): counters and
 * histograms fed by BackupEvents, gauges read from the database and the lock at scrape time.
 */
@Injectable()
export class MetricsService implements OnModuleInit {
  private readonly logger = new Logger(MetricsService.name);
  private readonly registry = new Registry();
  private readonly backups = new Counter({
    name: `${PREFIX}backups_total`,
    help: 'Backups that ended, by type and outcome.',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly restores = new Counter({
    name: `${PREFIX}restores_total`,
    help: 'Restores that ended, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly drills = new Counter({
    name: `${PREFIX}drills_total`,
    help: 'Restore drills that ended, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly backupDuration = new Histogram({
    name: `${PREFIX}backup_duration_seconds`,
    help: 'Duration of completed backups.',
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly restoreDuration = new Histogram({
    name: `${PREFIX}restore_duration_seconds`,
    help: 'Duration of completed restores.',
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly backupSize = new Histogram({
    name: `${PREFIX}backup_size_bytes`,
    help: 'Size of completed backup files.',
    buckets: SIZE_BUCKETS,
    registers: [this.registry],
  });
  private readonly stored = shared(() => this.stats.stored());
  private readonly lockState = shared(() => this.lock.current());

  constructor(
    private readonly events: BackupEvents,
    private readonly stats: BackupStatsRepository,
    private readonly lock: LockService,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    for (const type of Object.values(BackupType)) for (const outcome of OUTCOMES) this.backups.inc({ type, outcome }, 0);
    for (const outcome of OUTCOMES) {
      this.restores.inc({ outcome }, 0);
      this.drills.inc({ outcome }, 0);
    }
    this.gauge('last_backup_success_timestamp_seconds', 'When the newest completed backup finished (Unix time).', async (g) => {
      const at = await this.stats.lastSuccessAt();
      if (at) g.set(at.getTime() / 1000);
      else g.remove();
    });
    this.gauge('last_drill_ok', '1 if the most recent restore drill succeeded, 0 if it failed; absent before the first.', async (g) => {
      const drill = await this.stats.lastDrill();
      if (drill) g.set(drill.ok ? 1 : 0);
      else g.remove();
    });
    this.gauge('lock_held', '1 while a backup, restore or other operation holds the operation lock (any instance).', async (g) => {
      g.set((await this.lockState()).locked ? 1 : 0);
    });
    this.gauge('bytes_in_flight', 'Bytes the running operation has processed so far; 0 when idle.', async (g) => {
      g.set((await this.lockState()).operation?.bytesDone ?? 0);
    });
    this.gauge(
      'backups_stored',
      'Backup history rows by status.',
      async (g) => {
        const { count } = await this.stored();
        for (const status of Object.values(BackupStatus)) g.set({ status }, count[status]);
      },
      ['status'],
    );
    this.gauge('backups_stored_bytes', 'Total size of the completed backups.', async (g) => {
      g.set((await this.stored()).completedBytes);
    });
  }

  onModuleInit(): void {
    this.events.on('backup.completed', ({ backup }) => {
      this.backups.inc({ type: backup.type, outcome: 'completed' });
      if (backup.durationMs !== null) this.backupDuration.observe(backup.durationMs / 1000);
      this.backupSize.observe(backup.sizeBytes);
    });
    this.events.on('backup.failed', ({ backup }) => this.backups.inc({ type: backup.type, outcome: 'failed' }));
    this.events.on('restore.completed', ({ restore }) => {
      this.restores.inc({ outcome: 'completed' });
      if (restore.durationMs !== null) this.restoreDuration.observe(restore.durationMs / 1000);
    });
    this.events.on('restore.failed', () => this.restores.inc({ outcome: 'failed' }));
    this.events.on('drill.completed', () => this.drills.inc({ outcome: 'completed' }));
    this.events.on('drill.failed', () => this.drills.inc({ outcome: 'failed' }));
  }

  /** The text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** A gauge set by `read` at scrape time; when `read` fails it is logged and the gauge left out of that scrape. */
  private gauge(name: string, help: string, read: (gauge: Gauge<string>) => Promise<void>, labelNames: string[] = []): void {
    const logger = this.logger;
    new Gauge({
      name: `${PREFIX}${name}`,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        try {
          await read(this);
        } catch (error) {
          logger.warn(`${PREFIX}${name} left out of this scrape: ${(error as Error).message}`);
          if (labelNames.length) this.reset();
          else this.remove();
        }
      },
    });
  }
}
