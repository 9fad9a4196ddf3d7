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
    error: withoutRowData(b.error),
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
    error: withoutRowData(r.error),
  };
}

function drillSummary(backup: BackupHistory, drill: DrillResult): Record<string, unknown> {
  return { backupId: backup.id, drill: drill.error ? { ...drill, error: withoutRowData(drill.error) } : drill };
}

/** A server message's lines that quote the data or the SQL around an error rather than the error itself. */
const DATA_LINE = /^\s*(?:psql:\S*:\s*)?(?:DETAIL|CONTEXT|HINT|QUERY|STATEMENT|WHERE|LINE \d+):/;
/** Where a message of its own starts again after such lines (their continuation lines have no prefix). */
const MESSAGE_LINE = /^\s*(?:psql|pg_restore|pg_dump|zstd|age)\b|^\s*(?:\S+:\s*)?(?:ERROR|FATAL|PANIC|WARNING|error):/;

/**
 * An error as it may leave the process (webhooks, e-mail: third parties): the message without
 * the row data PostgreSQL quotes in it. The DETAIL/CONTEXT/LINE/HINT lines go (`Key (email)=(…)`,
 * `COPY accounts, line 3: "…"`), and so does a quoted value after a colon (`invalid input syntax
 * for type integer: "…"`). The full text stays in the history, for admins.
 */
export function withoutRowData(error: string | null): string | null {
  if (!error) return error;
  const kept: string[] = [];
  let skipping = false;
  for (const line of error.split('\n')) {
    if (DATA_LINE.test(line)) skipping = true;
    else if (MESSAGE_LINE.test(line)) skipping = false;
    if (!skipping) kept.push(line.replace(/: "(?:[^"]|"")*"/g, ': "…"'));
  }
  return kept.join('\n');
}

function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}
