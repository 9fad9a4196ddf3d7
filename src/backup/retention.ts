import { RetentionPolicy } from '../settings/backup-config.entity';

export interface RetentionCandidate {
  id: string;
  createdAt: Date;
}

/**
 * Which completed backups a policy removes. Kept: the newest `keepLast`; the newest backup of
 * each of the newest `daily` days, `weekly` ISO weeks and `monthly` months (UTC); then anything
 * older than `maxAgeDays` goes unless kept by `keepLast`. A policy of all zeros keeps
 * everything, and the newest backup is never removed.
 */
export function backupsToDelete(backups: RetentionCandidate[], policy: RetentionPolicy, now = new Date()): string[] {
  const { keepLast, maxAgeDays, daily, weekly, monthly } = policy;
  if (keepLast + maxAgeDays + daily + weekly + monthly === 0 || backups.length === 0) return [];
  const newestFirst = [...backups].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const pinned = new Set(newestFirst.slice(0, Math.max(1, keepLast)).map((b) => b.id));
  const kept = new Set(pinned);
  const gfs = keepLast + daily + weekly + monthly > 0;
  for (const [count, bucket] of [
    [daily, dayKey],
    [weekly, isoWeekKey],
    [monthly, monthKey],
  ] as const) {
    const seen = new Set<string>();
    for (const backup of newestFirst) {
      if (seen.size >= count) break;
      const key = bucket(backup.createdAt);
      if (!seen.has(key)) {
        seen.add(key);
        kept.add(backup.id);
      }
    }
  }
  const maxAgeMs = maxAgeDays * 86_400_000;
  return newestFirst
    .filter((b) => {
      if (pinned.has(b.id)) return false;
      const tooOld = maxAgeDays > 0 && now.getTime() - b.createdAt.getTime() > maxAgeMs;
      return tooOld || (gfs && !kept.has(b.id));
    })
    .map((b) => b.id);
}

const dayKey = (d: Date) => d.toISOString().slice(0, 10);
const monthKey = (d: Date) => d.toISOString().slice(0, 7);

function isoWeekKey(d: Date): string {
  const date = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${date.getUTCFullYear()}-W${week}`;
}
