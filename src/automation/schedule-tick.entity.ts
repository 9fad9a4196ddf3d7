import { Column, Entity, PrimaryColumn } from 'typeorm';

export type TickKind = 'backup' | 'drill' | 'startup';
export type TickOutcome = 'running' | 'completed' | 'failed' | 'skipped';

/**
 * One scheduled tick, identified by what it is for and when it was due. The instance whose
 * insert wins runs it; every other instance sees the row and does nothing.
 */
@Entity({ name: 'schedule_tick' })
export class ScheduleTick {
  @PrimaryColumn({ type: 'varchar', length: 16 })
  kind!: TickKind;

  @PrimaryColumn({ name: 'scheduled_at', type: 'timestamptz' })
  scheduledAt!: Date;

  @Column({ name: 'instance_id', type: 'text' })
  instanceId!: string;

  @Column({ name: 'claimed_at', type: 'timestamptz' })
  claimedAt!: Date;

  @Column({ type: 'varchar', length: 16 })
  outcome!: TickOutcome;

  @Column({ name: 'backup_id', type: 'uuid', nullable: true })
  backupId!: string | null;

  /** Why it was skipped or failed. */
  @Column({ type: 'text', nullable: true })
  detail!: string | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
