import { CronTime, validateCronExpression } from 'cron';

/** A 5-field (minute precision) or 6-field (seconds first) cron expression. */
export function cronProblem(expression: string): string | null {
  const fields = expression.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) return `a cron expression has 5 or 6 fields, "${expression}" has ${fields}`;
  const result = validateCronExpression(expression);
  return result.valid ? null : `invalid cron expression "${expression}": ${result.error?.message ?? 'unreadable'}`;
}

export function nextRun(expression: string, from = new Date()): Date {
  return new CronTime(expression).getNextDateFrom(from).toJSDate();
}
