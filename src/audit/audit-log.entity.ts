import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export enum AuditOutcome {
  Success = 'success',
  Failure = 'failure',
  Denied = 'denied',
}

@Entity({ name: 'audit_log' })
export class AuditLog {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text')
  action!: string;

  /** The token's `sub`; null when no valid token was presented. */
  @Column({ type: 'text', nullable: true })
  actor!: string | null;

  @Column({ type: 'varchar', length: 16 })
  outcome!: AuditOutcome;

  @Column({ type: 'text', nullable: true })
  target!: string | null;

  @Column({ type: 'text', nullable: true })
  ip!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'jsonb', nullable: true })
  detail!: Record<string, unknown> | null;

  /**
   * How many refusals this entry stands for: those of one source, actor, action and reason within
   * a minute. Its `coalesce_key` column, written by AuditService alone, finds it again.
   */
  @Column({ type: 'integer', default: 1 })
  count!: number;
}
