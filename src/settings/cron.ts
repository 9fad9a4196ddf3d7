import { CronTime, validateCronExpression } from 'cron';

/** What decides when scheduled work runs: a cron expression (in `timezone`, default UTC) or an interval. */
export interface ScheduleSpec {
  schedule: string | null;
  intervalMinutes: number | null;
  timezone: string | null;
}

/** A 5-field (minute precision) or 6-field (seconds first) cron expression. */
export function cronProblem(expression: string): string | null {
  const fields = expression.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) return `a cron expression has 5 or 6 fields, "${expression}" has ${fields}`;
  const result = validateCronExpression(expression);
  return result.valid ? null : `invalid cron expression "${expression}": ${result.error?.message ?? 'unreadable'}`;
}

/** An IANA time zone name such as `Europe/Berlin` or `UTC`. */
export function timezoneProblem(timezone: string): string | null {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
    return null;
  } catch {
    return `unknown time zone "${timezone}" (use an IANA name such as Europe/Berlin or UTC)`;
  }
}

/**
 * The first tick strictly after `after`, or null without a schedule. Interval ticks sit on whole
 * multiples of the interval since the Unix epoch, so every replica computes the same ones.
 */
export function nextTick(spec: ScheduleSpec, after: Date): Date | null {
  if (spec.intervalMinutes) {
    const period = spec.intervalMinutes * 60_000;
    return new Date((Math.floor(after.getTime() / period) + 1) * period);
  }
  if (!spec.schedule) return null;
  const timezone = spec.timezone ?? 'UTC';
  return new CronTime(spec.schedule, timezone).getNextDateFrom(after, timezone).toJSDate();
}

export function nextTicks(spec: ScheduleSpec, after: Date, count: number): Date[] {
  const ticks: Date[] = [];
  for (let tick = nextTick(spec, after); tick && ticks.length < count; tick = nextTick(spec, tick)) ticks.push(tick);
  return ticks;
}
