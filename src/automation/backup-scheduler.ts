import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { BackupService } from '../backup/backup.service';
import { BackupStatus, BackupType } from '../backup/backup.types';
import { OperationInProgressException } from '../common/exceptions';
import { DatabaseSignals } from '../database/database-signals';
import { BackupEvents } from '../events/backup-events';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { DrillService } from '../restore/drill.service';
import { nextTick, nextTicks, ScheduleSpec } from '../settings/cron';
import { backupSchedule, drillSchedule, SettingsService } from '../settings/settings.service';
import { ScheduleTickRepository } from './schedule-tick.repository';
import { TickKind } from './schedule-tick.entity';

/** Fallback for a missed NOTIFY (a listening connection that was down): reload the config this often. */
const RELOAD_MS = 30_000;
/** Ticks younger than this are left to the instances that may be running them right now. */
const MISSED_GRACE_MS = 60_000;
/** At most this many missed ticks are recorded after an outage (a 5-second schedule down for a day…). */
const MAX_MISSED = 100;
/** setTimeout's limit; a tick further away is reached in steps. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

type ScheduledKind = Extract<TickKind, 'backup' | 'drill'>;

interface ArmedTimer {
  spec: string;
  tick: Date;
  timer: NodeJS.Timeout;
}

/**
 * Runs scheduled backups and drills on every instance, once per tick across all of them: each
 * instance arms a timer for the next tick, and at the tick the instances race to insert its row
 * (`schedule_tick`); the winner runs it, the others see the row and do nothing, however late
 * their timer fires. A tick that finds another operation running is recorded as skipped and
 * announced (`schedule.missed`). Also the optional backup on startup.
 */
@Injectable()
export class BackupScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BackupScheduler.name);
  private readonly instanceId = randomUUID();
  private readonly armed = new Map<ScheduledKind, ArmedTimer>();
  private readonly inFlight = new Set<Promise<void>>();
  private reloadTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    private readonly settings: SettingsService,
    private readonly ticks: ScheduleTickRepository,
    private readonly backups: BackupService,
    private readonly drills: DrillService,
    private readonly events: BackupEvents,
    signals: DatabaseSignals,
  ) {
    signals.onSignal((signal) => {
      if (signal.kind === 'config') void this.reload();
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.runSchedules === false) return; // the CLI: no schedule, no startup backup
    await this.reload();
    this.reloadTimer = setInterval(() => void this.reload(), RELOAD_MS);
    this.reloadTimer.unref();
    if (this.options.backupOnStartup) this.track(this.backupOnStartup(this.options.backupOnStartup.windowMinutes));
    this.track(this.recordOutage());
  }

  /** Stops arming ticks and waits for the ones running here (their operations stop with the lock service). */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.reloadTimer);
    for (const { timer } of this.armed.values()) clearTimeout(timer);
    this.armed.clear();
    await Promise.all(this.inFlight);
  }

  /** Re-reads the config and re-arms whichever schedule changed. */
  async reload(): Promise<void> {
    if (this.options.runSchedules === false) return; // a config NOTIFY must not arm timers either
    try {
      const config = await this.settings.get();
      this.arm('backup', backupSchedule(config));
      this.arm('drill', drillSchedule(config));
    } catch (error) {
      this.logger.error(`schedule not reloaded: ${(error as Error).message}`);
    }
  }

  /** Arms `kind` for `spec` unless it is armed for it already. */
  private arm(kind: ScheduledKind, spec: ScheduleSpec | null): void {
    if (this.armed.get(kind)?.spec !== JSON.stringify(spec)) this.armAfter(kind, spec, new Date());
  }

  /** Arms a timer for the first tick after `after`, replacing any armed one. */
  private armAfter(kind: ScheduledKind, spec: ScheduleSpec | null, after: Date): void {
    clearTimeout(this.armed.get(kind)?.timer);
    this.armed.delete(kind);
    const tick = spec && !this.stopped ? nextTick(spec, after) : null;
    if (!spec || !tick) return;
    const delay = tick.getTime() - Date.now();
    const timer = setTimeout(() => {
      if (delay > MAX_TIMEOUT_MS) return this.armAfter(kind, spec, after); // still far away: wait on
      // the next tick first, so a long backup never delays it; ticks missed while the process stalled are not replayed
      this.armAfter(kind, spec, new Date(Math.max(tick.getTime(), Date.now())));
      this.track(this.runTick(kind, tick));
    }, Math.max(0, Math.min(delay, MAX_TIMEOUT_MS)));
    timer.unref();
    this.armed.set(kind, { spec: JSON.stringify(spec), tick, timer });
  }

  /** The tick this instance waits for, per kind (null: that schedule is off here). */
  armedTicks(): Record<ScheduledKind, Date | null> {
    return { backup: this.armed.get('backup')?.tick ?? null, drill: this.armed.get('drill')?.tick ?? null };
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async runTick(kind: ScheduledKind, scheduledAt: Date): Promise<void> {
    try {
      if (!(await this.ticks.claim(kind, scheduledAt, this.instanceId))) return; // another instance has it
    } catch (error) {
      this.logger.error(`${kind} tick ${scheduledAt.toISOString()} not claimed: ${(error as Error).message}`);
      return;
    }
    if (kind === 'backup') await this.runBackup('backup', BackupType.Scheduled, scheduledAt);
    else await this.runDrill(scheduledAt);
  }

  private async runBackup(kind: TickKind, type: BackupType, scheduledAt: Date): Promise<void> {
    const at = scheduledAt.toISOString();
    await this.outcome(kind, scheduledAt, async () => {
      const backup = await this.backups.runNow(
        'scheduler',
        { notes: `${type} backup for ${at}`, tags: [type] },
        type,
        { scheduledFor: at },
        (row) => this.ticks.recordBackup(kind, scheduledAt, row.id),
      );
      return { ok: backup.status === BackupStatus.Completed, backupId: backup.id, detail: backup.error };
    });
  }

  private async runDrill(scheduledAt: Date): Promise<void> {
    await this.outcome('drill', scheduledAt, async () => {
      const backup = await this.drills.newestDrillable();
      if (!backup) return { ok: true, skipped: 'no completed backup to drill yet' };
      const drill = await this.drills.runNow('scheduler', backup);
      return { ok: drill.ok, backupId: backup.id, detail: drill.error ?? null };
    });
  }

  /** Runs a claimed tick's work and records how it ended; a tick that could not run is announced. */
  private async outcome(
    kind: TickKind,
    scheduledAt: Date,
    work: () => Promise<{ ok: boolean; backupId?: string; detail?: string | null; skipped?: string }>,
  ): Promise<void> {
    try {
      const result = await work();
      if (result.skipped) return await this.ticks.finish(kind, scheduledAt, 'skipped', result.skipped);
      await this.ticks.finish(kind, scheduledAt, result.ok ? 'completed' : 'failed', result.detail ?? null, result.backupId);
    } catch (error) {
      const busy = error instanceof OperationInProgressException;
      const reason = (error as Error).message;
      this.logger.warn(`${kind} tick ${scheduledAt.toISOString()} ${busy ? 'skipped' : 'failed'}: ${reason}`);
      await this.ticks.finish(kind, scheduledAt, busy ? 'skipped' : 'failed', reason).catch(() => undefined);
      if (kind !== 'startup') this.events.emit('schedule.missed', { kind: kind as ScheduledKind, scheduledAt, reason });
    }
  }

  /**
   * Ticks that passed while no instance ran (all down, a deploy gone wrong): recorded as skipped
   * and announced, so a night without a backup is never silent. Ticks are counted from the newest
   * recorded tick or the last config change, whichever is later.
   */
  private async recordOutage(): Promise<void> {
    try {
      const config = await this.settings.get();
      const until = new Date(Date.now() - MISSED_GRACE_MS);
      for (const [kind, spec] of [['backup', backupSchedule(config)], ['drill', drillSchedule(config)]] as const) {
        if (!spec) continue;
        const latest = await this.ticks.latest(kind);
        const from = new Date(Math.max(latest?.getTime() ?? 0, config.updatedAt.getTime()));
        const passed = nextTicks(spec, from, MAX_MISSED).filter((tick) => tick <= until);
        const recorded = await this.ticks.recordMissed(kind, passed, this.instanceId, 'no instance was running');
        if (!recorded.length) continue;
        const reason = `${recorded.length} scheduled ${kind}${recorded.length > 1 ? 's were' : ' was'} missed while no instance was running (${passed[0].toISOString()} … ${passed.at(-1)!.toISOString()})`;
        this.logger.warn(reason);
        this.events.emit('schedule.missed', { kind, scheduledAt: recorded.at(-1)!, reason });
      }
    } catch (error) {
      this.logger.error(`missed ticks not checked: ${(error as Error).message}`);
    }
  }

  /** One backup per `windowMinutes` however many instances start (a rolling deploy restarts them all). */
  private async backupOnStartup(windowMinutes: number): Promise<void> {
    try {
      const claimed = await this.ticks.claimStartup(windowMinutes, this.instanceId);
      if (claimed) await this.runBackup('startup', BackupType.Startup, claimed);
    } catch (error) {
      this.logger.error(`startup backup not run: ${(error as Error).message}`);
    }
  }
}
