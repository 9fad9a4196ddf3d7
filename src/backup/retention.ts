import { RetentionPolicy } from '../settings/backup-config.entity';

export interface RetentionCandidate {
  id: string;
  createdAt: Date;
  pinned?: boolean;
  type?: string;
}

export type KeepReason = 'newest' | 'pinned' | 'safety' | 'keepLast' | 'maxAgeDays' | 'daily' | 'weekly' | 'monthly';

export interface RetentionPlan {
  delete: string[];
  keep: { id: string; reasons: KeepReason[] }[];
}

/**
 * What a policy keeps, and why: the newest `keepLast`; everything younger than `maxAgeDays`;
 * the newest backup of each of the newest `daily` days, `weekly` ISO weeks and `monthly`
 * months (UTC). A backup kept by any rule stays. Pinned and safety backups and the newest
 * backup always stay; a policy of all zeros keeps everything.
 */
export function retentionPlan(backups: RetentionCandidate[], policy: RetentionPolicy, now = new Date()): RetentionPlan {
  const newestFirst = [...backups].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const reasons = new Map<string, KeepReason[]>(newestFirst.map((b) => [b.id, []]));
  const keep = (id: string, reason: KeepReason) => reasons.get(id)!.push(reason);
  const { keepLast, maxAgeDays, daily, weekly, monthly } = policy;
  const policyOff = keepLast + maxAgeDays + daily + weekly + monthly === 0;

  newestFirst.forEach((backup, index) => {
    if (index === 0) keep(backup.id, 'newest');
    if (backup.pinned) keep(backup.id, 'pinned');
    if (backup.type === 'safety') keep(backup.id, 'safety');
    if (index < keepLast) keep(backup.id, 'keepLast');
    if (maxAgeDays > 0 && now.getTime() - backup.createdAt.getTime() <= maxAgeDays * 86_400_000) keep(backup.id, 'maxAgeDays');
  });
  for (const [count, reason, bucket] of [
    [daily, 'daily', dayKey],
    [weekly, 'weekly', isoWeekKey],
    [monthly, 'monthly', monthKey],
  ] as const) {
    const seen = new Set<string>();
    for (const backup of newestFirst) {
      if (seen.size >= count) break;
      const key = bucket(backup.createdAt);
      if (!seen.has(key)) {
        seen.add(key);
        keep(backup.id, reason);
      }
    }
  }
  const plan: RetentionPlan = { delete: [], keep: [] };
  for (const backup of newestFirst) {
    const why = reasons.get(backup.id)!;
    if (why.length || policyOff) plan.keep.push({ id: backup.id, reasons: why });
    else plan.delete.push(backup.id);
  }
  return plan;
}

/** The ids a policy removes. */
export function backupsToDelete(backups: RetentionCandidate[], policy: RetentionPolicy, now = new Date()): string[] {
  return retentionPlan(backups, policy, now).delete;
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
