import { RetentionPolicy } from '../settings/backup-config.entity';

export interface RetentionCandidate {
  id: string;
  createdAt: Date;
  pinned?: boolean;
  type?: string;
  /** The last verification found no intact copy. */
  damaged?: boolean;
  /** The last verification could not open it with the configured key. */
  unreadable?: boolean;
  /** Its last restore drill failed. */
  drillFailed?: boolean;
  /** A full verification or a restore drill proved it restorable. */
  verified?: boolean;
}

export type KeepReason = 'newest' | 'pinned' | 'safety' | 'keepLast' | 'maxAgeDays' | 'daily' | 'weekly' | 'monthly';

export interface RetentionPlan {
  delete: string[];
  keep: { id: string; reasons: KeepReason[] }[];
}

/** Neither damaged, nor unreadable with the configured key, nor failed at its last drill. */
export const isIntact = (b: RetentionCandidate) => !b.damaged && !b.unreadable && !b.drillFailed;

/**
 * What a policy keeps, and why: the newest `keepLast`; everything younger than `maxAgeDays`;
 * the newest backup of each of the newest `daily` days, `weekly` ISO weeks and `monthly`
 * months (UTC). A backup kept by any rule stays. Only intact backups count toward and are
 * kept by `keepLast` and the buckets: a damaged, unreadable or drill-failed backup never takes
 * an intact one's place. Pinned and safety backups stay, and so do, as `newest`, the newest
 * intact backup and the newest verified intact one (the newest backup of all when none is
 * intact); a policy of all zeros keeps everything.
 */
export function retentionPlan(backups: RetentionCandidate[], policy: RetentionPolicy, now = new Date()): RetentionPlan {
  const newestFirst = [...backups].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const intact = newestFirst.filter(isIntact);
  const reasons = new Map<string, KeepReason[]>(newestFirst.map((b) => [b.id, []]));
  const keep = (id: string, reason: KeepReason) => {
    const why = reasons.get(id)!;
    if (!why.includes(reason)) why.push(reason);
  };
  const { keepLast, maxAgeDays, daily, weekly, monthly } = policy;
  const policyOff = keepLast + maxAgeDays + daily + weekly + monthly === 0;

  const lastKept = new Set(intact.slice(0, keepLast));
  for (const newest of [intact[0] ?? newestFirst[0], intact.find((b) => b.verified)]) if (newest) keep(newest.id, 'newest');
  for (const backup of newestFirst) {
    if (backup.pinned) keep(backup.id, 'pinned');
    if (backup.type === 'safety') keep(backup.id, 'safety');
    if (lastKept.has(backup)) keep(backup.id, 'keepLast');
    if (maxAgeDays > 0 && now.getTime() - backup.createdAt.getTime() <= maxAgeDays * 86_400_000) keep(backup.id, 'maxAgeDays');
  }
  for (const [count, reason, bucket] of [
    [daily, 'daily', dayKey],
    [weekly, 'weekly', isoWeekKey],
    [monthly, 'monthly', monthKey],
  ] as const) {
    const seen = new Set<string>();
    for (const backup of intact) {
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
