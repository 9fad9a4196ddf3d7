import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintToNumber } from '../database/column-transformers';

/** Backups and restores; `delete`, `cleanup`, `import`, `upload` and `scrub` hold the lock so no file changes under a running operation. */
export type OperationType = 'backup' | 'restore' | 'drill' | 'delete' | 'cleanup' | 'import' | 'upload' | 'scrub';

/**
 * Who holds the advisory lock, for display. The advisory lock is the truth: a row whose
 * holder no longer holds the lock is stale and ignored.
 */
@Entity({ name: 'operation_lock' })
export class OperationLock {
  @PrimaryColumn('text')
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  type!: OperationType;

  @Column({ name: 'operation_id', type: 'uuid' })
  operationId!: string;

  @Column({ name: 'started_by', type: 'text' })
  startedBy!: string;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'bytes_done', type: 'bigint', default: 0, transformer: bigintToNumber })
  bytesDone!: number;

  /** Backend pid of the connection holding the advisory lock. */
  @Column({ name: 'holder_pid', type: 'integer' })
  holderPid!: number;

  @Column({ name: 'instance_id', type: 'text' })
  instanceId!: string;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  /** Past its point of no return (a restore sending COMMIT): no longer cancellable. */
  @Column({ type: 'boolean', default: false })
  irrevocable!: boolean;

  /** An admin asked to stop it: set by whichever instance took the request, read by the holder. */
  @Column({ name: 'cancel_requested', type: 'boolean', default: false })
  cancelRequested!: boolean;
}
