import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { advisoryLockKey, LockPurpose } from '../lock/lock.constants';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { ScheduleTick, TickKind, TickOutcome } from './schedule-tick.entity';

/** Ticks older than this are pruned as new ones are claimed. */
const KEEP_TICKS_DAYS = 90;

/** The shared record of scheduled ticks: whoever inserts a tick first runs it. */
@Injectable()
export class ScheduleTickRepository {
  constructor(
    @InjectRepository(ScheduleTick, PG_BACKUP_CONNECTION) private readonly ticks: Repository<ScheduleTick>,
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
  ) {}

  /** True for the one instance whose insert of (`kind`, `scheduledAt`) won; false for every other. */
  async claim(kind: TickKind, scheduledAt: Date, instanceId: string): Promise<boolean> {
    const result = await this.ticks
      .createQueryBuilder()
      .insert()
      .values({ kind, scheduledAt, instanceId, claimedAt: new Date(), outcome: 'running' })
      .orIgnore()
      .returning(['kind'])
      .execute();
    await this.ticks.createQueryBuilder().delete().where(`scheduled_at < now() - make_interval(days => :days)`, { days: KEEP_TICKS_DAYS }).execute();
    return result.raw.length === 1;
  }

  /**
   * Claims a startup backup unless one was claimed within the last `windowMinutes`, deciding
   * under a transaction-scoped advisory lock so two instances starting together cannot both win.
   */
  async claimStartup(windowMinutes: number, instanceId: string): Promise<Date | null> {
    const key = advisoryLockKey(this.options.schema, LockPurpose.StartupBackup);
    return this.ticks.manager.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1, $2)', [key.classId, key.objectId]);
      const recent = await manager
        .getRepository(ScheduleTick)
        .createQueryBuilder('t')
        .where(`t.kind = 'startup' AND t.scheduled_at > now() - make_interval(mins => :minutes)`, { minutes: windowMinutes })
        .getExists();
      if (recent) return null;
      const scheduledAt = new Date();
      await manager.getRepository(ScheduleTick).insert({ kind: 'startup', scheduledAt, instanceId, claimedAt: scheduledAt, outcome: 'running' });
      return scheduledAt;
    });
  }

  /** When the newest tick of `kind` was due, or null if none was ever claimed. */
  async latest(kind: TickKind): Promise<Date | null> {
    const tick = await this.ticks.findOne({ where: { kind }, order: { scheduledAt: 'DESC' }, select: { scheduledAt: true } });
    return tick?.scheduledAt ?? null;
  }

  /** Records `scheduledAt` ticks that nobody ran as skipped; returns the ones this call recorded (not another instance). */
  async recordMissed(kind: TickKind, scheduledAt: Date[], instanceId: string, reason: string): Promise<Date[]> {
    if (!scheduledAt.length) return [];
    const now = new Date();
    const result = await this.ticks
      .createQueryBuilder()
      .insert()
      .values(scheduledAt.map((at) => ({ kind, scheduledAt: at, instanceId, claimedAt: now, outcome: 'skipped' as const, detail: reason, finishedAt: now })))
      .orIgnore()
      .returning(['scheduledAt'])
      .execute();
    return (result.raw as { scheduled_at: Date }[]).map((row) => row.scheduled_at);
  }

  async recordBackup(kind: TickKind, scheduledAt: Date, backupId: string): Promise<void> {
    await this.ticks.update({ kind, scheduledAt }, { backupId });
  }

  async finish(kind: TickKind, scheduledAt: Date, outcome: TickOutcome, detail: string | null, backupId?: string): Promise<void> {
    await this.ticks.update({ kind, scheduledAt }, { outcome, detail, finishedAt: new Date(), ...(backupId ? { backupId } : {}) });
  }
}
