import type { BackupHistory } from '../backup/backup-history.entity';
import type { DrillResult } from '../backup/backup.types';
import { BackupEventMap, BackupEventName } from '../events/backup-events';
import type { RestoreHistory } from '../restore/restore-history.entity';

/** What notifies when a target lists no events: every failure and every restore; successes of backups and drills are opt-in. */
export const DEFAULT_NOTIFICATION_EVENTS: readonly BackupEventName[] = [
  'backup.failed',
  'restore.completed',
  'restore.failed',
  'drill.failed',
  'schedule.missed',
];

export function notifies(events: readonly BackupEventName[] | undefined, event: BackupEventName): boolean {
  return (events ?? DEFAULT_NOTIFICATION_EVENTS).includes(event);
}

/** One event as webhooks and e-mails carry it; `data` is JSON-ready. */
export interface Notification {
  event: BackupEventName;
  /** ISO time of the event. */
  at: string;
  data: Record<string, unknown>;
}

type Summaries = { [E in BackupEventName]: (payload: BackupEventMap[E]) => Record<string, unknown> };

const SUMMARIES: Summaries = {
  'backup.completed': ({ backup }) => backupSummary(backup),
  'backup.failed': ({ backup }) => backupSummary(backup),
  'restore.completed': ({ restore }) => restoreSummary(restore),
  'restore.failed': ({ restore }) => restoreSummary(restore),
  'drill.completed': ({ backup, drill }) => drillSummary(backup, drill),
  'drill.failed': ({ backup, drill }) => drillSummary(backup, drill),
  'schedule.missed': ({ kind, scheduledAt, reason }) => ({ kind, scheduledAt: scheduledAt.toISOString(), reason }),
};

export function toNotification<E extends BackupEventName>(event: E, payload: BackupEventMap[E]): Notification {
  return { event, at: new Date().toISOString(), data: SUMMARIES[event](payload) };
}

function backupSummary(b: BackupHistory): Record<string, unknown> {
  return {
    id: b.id,
    type: b.type,
    status: b.status,
    filename: b.filename,
    sizeBytes: b.sizeBytes,
    sha256: b.sha256,
    compression: b.compression,
    encrypted: b.encrypted,
    createdAt: iso(b.createdAt),
    finishedAt: iso(b.finishedAt),
    durationMs: b.durationMs,
    error: b.error,
  };
}

function restoreSummary(r: RestoreHistory): Record<string, unknown> {
  return {
    id: r.id,
    backupId: r.backupId,
    status: r.status,
    safetyBackupId: r.safetyBackupId,
    startedBy: r.startedBy,
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    durationMs: r.durationMs,
    error: r.error,
  };
}

function drillSummary(backup: BackupHistory, drill: DrillResult): Record<string, unknown> {
  return { backupId: backup.id, drill };
}

function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}
