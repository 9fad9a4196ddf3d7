import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { BackupHistory } from '../backup/backup-history.entity';
import type { DrillResult } from '../backup/backup.types';
import type { RestoreHistory } from '../restore/restore-history.entity';

/** What the module announces; notifications and metrics listen. */
export interface BackupEventMap {
  'backup.completed': { backup: BackupHistory };
  'backup.failed': { backup: BackupHistory };
  'restore.completed': { restore: RestoreHistory };
  'restore.failed': { restore: RestoreHistory };
  'drill.completed': { backup: BackupHistory; drill: DrillResult };
  'drill.failed': { backup: BackupHistory; drill: DrillResult };
  /** A scheduled tick that produced no backup or drill: another operation held the lock, or it could not start. */
  'schedule.missed': { kind: 'backup' | 'drill'; scheduledAt: Date; reason: string };
}

export type BackupEventName = keyof BackupEventMap;

export const BACKUP_EVENT_NAMES: readonly BackupEventName[] = [
  'backup.completed',
  'backup.failed',
  'restore.completed',
  'restore.failed',
  'drill.completed',
  'drill.failed',
  'schedule.missed',
];

type Listener<E extends BackupEventName> = (payload: BackupEventMap[E]) => unknown;

/**
 * The in-process event bus. A listener that throws or rejects is logged and never reaches the
 * emitter: a failing notifier cannot fail a backup.
 */
@Injectable()
export class BackupEvents {
  private readonly logger = new Logger(BackupEvents.name);
  private readonly emitter = new EventEmitter();

  on<E extends BackupEventName>(event: E, listener: Listener<E>): void {
    this.emitter.on(event, (payload: BackupEventMap[E]) => {
      try {
        Promise.resolve(listener(payload)).catch((error: Error) => this.logger.error(`${event} listener failed: ${error.message}`));
      } catch (error) {
        this.logger.error(`${event} listener failed: ${(error as Error).message}`);
      }
    });
  }

  emit<E extends BackupEventName>(event: E, payload: BackupEventMap[E]): void {
    this.emitter.emit(event, payload);
  }
}
