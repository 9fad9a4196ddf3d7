import { Logger } from '@nestjs/common';
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { BackupStatus, BackupType, DrillResult } from '../../src/backup/backup.types';
import { BackupEvents } from '../../src/events/backup-events';
import { BackupStatsRepository, StoredBackups } from '../../src/health/backup-stats.repository';
import { CurrentOperation, LockService } from '../../src/lock/lock.service';
import { MetricsService } from '../../src/metrics/metrics.service';
import { RestoreHistory, RestoreStatus } from '../../src/restore/restore-history.entity';
import { backupRow } from './support/fixtures';

Logger.overrideLogger(false);

const drill = (ok: boolean): DrillResult => ({ at: '2026-11-23T12:00:00.000Z', ok, durationMs: 900, restoreMs: 700, database: 'drill_x', tables: [] });

function restoreRow(status: RestoreStatus, durationMs: number | null): RestoreHistory {
  return Object.assign(new RestoreHistory(), { id: 'r1', backupId: 'b1', status, durationMs, startedBy: 'alice', startedAt: new Date(), finishedAt: new Date() });
}

/** The value of one sample line, e.g. `pg_backup_restores_total{outcome="failed"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('MetricsService', () => {
  let events: BackupEvents;
  let stats: { lastSuccessAt: () => Promise<Date | null>; lastDrill: () => Promise<DrillResult | null>; stored: () => Promise<StoredBackups> };
  let lock: { current: () => Promise<CurrentOperation> };
  let metrics: MetricsService;

  beforeEach(() => {
    events = new BackupEvents();
    stats = {
      lastSuccessAt: async () => null,
      lastDrill: async () => null,
      stored: async () => ({ count: { running: 0, completed: 0, failed: 0 }, completedBytes: 0 }),
    };
    lock = { current: async () => ({ locked: false, operation: null }) };
    metrics = new MetricsService(events, stats as unknown as BackupStatsRepository, lock as unknown as LockService);
    metrics.onModuleInit();
  });

  it('starts every outcome counter at 0, so rates work from the first scrape', async () => {
    const text = await metrics.render();
    assert.equal(sample(text, 'pg_backup_backups_total{type="scheduled",outcome="failed"}'), 0);
    assert.equal(sample(text, 'pg_backup_restores_total{outcome="completed"}'), 0);
    assert.equal(sample(text, 'pg_backup_drills_total{outcome="failed"}'), 0);
  });

  it('counts backups by type and outcome, with duration and size of the completed ones', async () => {
    events.emit('backup.completed', { backup: backupRow({ status: BackupStatus.Completed, type: BackupType.Scheduled, durationMs: 2500, sizeBytes: 3_000_000 }) });
    events.emit('backup.completed', { backup: backupRow({ status: BackupStatus.Completed, type: BackupType.Scheduled, durationMs: 500, sizeBytes: 1000 }) });
    events.emit('backup.failed', { backup: backupRow({ status: BackupStatus.Failed, type: BackupType.Manual }) });
    const text = await metrics.render();
    assert.equal(sample(text, 'pg_backup_backups_total{type="scheduled",outcome="completed"}'), 2);
    assert.equal(sample(text, 'pg_backup_backups_total{type="manual",outcome="failed"}'), 1);
    assert.equal(sample(text, 'pg_backup_backups_total{type="manual",outcome="completed"}'), 0);
    assert.equal(sample(text, 'pg_backup_backup_duration_seconds_count'), 2);
    assert.equal(sample(text, 'pg_backup_backup_duration_seconds_sum'), 3);
    assert.equal(sample(text, 'pg_backup_backup_size_bytes_sum'), 3_001_000);
    assert.equal(sample(text, 'pg_backup_backup_size_bytes_bucket{le="1048576"}'), 1);
  });

  it('counts restores and drills by outcome', async () => {
    events.emit('restore.completed', { restore: restoreRow(RestoreStatus.Completed, 12_000) });
    events.emit('restore.failed', { restore: restoreRow(RestoreStatus.Failed, null) });
    events.emit('restore.failed', { restore: restoreRow(RestoreStatus.Failed, null) });
    events.emit('drill.completed', { backup: backupRow(), drill: drill(true) });
    events.emit('drill.failed', { backup: backupRow(), drill: drill(false) });
    const text = await metrics.render();
    assert.equal(sample(text, 'pg_backup_restores_total{outcome="completed"}'), 1);
    assert.equal(sample(text, 'pg_backup_restores_total{outcome="failed"}'), 2);
    assert.equal(sample(text, 'pg_backup_restore_duration_seconds_count'), 1);
    assert.equal(sample(text, 'pg_backup_restore_duration_seconds_sum'), 12);
    assert.equal(sample(text, 'pg_backup_drills_total{outcome="completed"}'), 1);
    assert.equal(sample(text, 'pg_backup_drills_total{outcome="failed"}'), 1);
  });

  it('reads the gauges at scrape time from the history and the lock', async () => {
    stats.lastSuccessAt = async () => new Date('2026-11-23T12:00:00Z');
    stats.lastDrill = async () => drill(false);
    stats.stored = async () => ({ count: { running: 1, completed: 4, failed: 2 }, completedBytes: 123456 });
    lock.current = async () => ({
      locked: true,
      operation: { type: 'backup', id: 'b9', startedBy: 'alice', startedAt: new Date(), bytesDone: 777, irrevocable: false },
    });
    const text = await metrics.render();
    assert.equal(sample(text, 'pg_backup_last_backup_success_timestamp_seconds'), Date.parse('2026-11-23T12:00:00Z') / 1000);
    assert.equal(sample(text, 'pg_backup_last_drill_ok'), 0);
    assert.equal(sample(text, 'pg_backup_lock_held'), 1);
    assert.equal(sample(text, 'pg_backup_bytes_in_flight'), 777);
    assert.equal(sample(text, 'pg_backup_backups_stored{status="completed"}'), 4);
    assert.equal(sample(text, 'pg_backup_backups_stored{status="failed"}'), 2);
    assert.equal(sample(text, 'pg_backup_backups_stored_bytes'), 123456);
  });

  it('leaves out the timestamp and drill gauges while there is no backup or drill', async () => {
    const text = await metrics.render();
    assert.equal(sample(text, 'pg_backup_last_backup_success_timestamp_seconds'), undefined);
    assert.equal(sample(text, 'pg_backup_last_drill_ok'), undefined);
    assert.equal(sample(text, 'pg_backup_lock_held'), 0);
    assert.equal(sample(text, 'pg_backup_bytes_in_flight'), 0);
  });

  it('shares one lock and one history read between the gauges of a scrape', async () => {
    let lockReads = 0;
    let storedReads = 0;
    const current = lock.current;
    const stored = stats.stored;
    lock.current = () => (lockReads++, current());
    stats.stored = () => (storedReads++, stored());
    await metrics.render();
    assert.equal(lockReads, 1);
    assert.equal(storedReads, 1);
  });

  it('a failing read drops only its gauges from the scrape, and a later scrape has them again', async () => {
    stats.lastSuccessAt = async () => new Date('2026-11-23T12:00:00Z');
    await metrics.render();
    stats.lastSuccessAt = async () => {
      throw new Error('connection terminated');
    };
    stats.stored = async () => {
      throw new Error('connection terminated');
    };
    const text = await metrics.render();
    assert.equal(sample(text, 'pg_backup_last_backup_success_timestamp_seconds'), undefined, 'no stale value');
    assert.equal(sample(text, 'pg_backup_backups_stored{status="completed"}'), undefined);
    assert.equal(sample(text, 'pg_backup_backups_stored_bytes'), undefined);
    assert.equal(sample(text, 'pg_backup_lock_held'), 0, 'the other gauges are still there');
    assert.ok(sample(text, 'pg_backup_process_cpu_user_seconds_total')! >= 0, 'process metrics, prefixed');
    stats.lastSuccessAt = async () => new Date('2026-11-23T13:00:00Z');
    assert.equal(sample(await metrics.render(), 'pg_backup_last_backup_success_timestamp_seconds'), Date.parse('2026-11-23T13:00:00Z') / 1000);
  });
});
