import { BackupConfig, SettingsService } from '../../settings/settings.service';
import { CliContext } from '../cli-context';
import { CommandRun } from '../command-run';
import { parseConfigAssignments } from '../config-assignments';
import { usageError } from '../exit-codes';
import { fields, formatDate } from '../format';

export async function get(run: CommandRun, key: string | undefined): Promise<void> {
  const current = await (await run.open()).get(SettingsService).get();
  if (key === undefined) return run.out.result(current, () => describeConfig(current));
  if (!(key in current)) throw usageError(`unknown setting "${key}"; one of: ${Object.keys(current).join(', ')}`);
  const value = current[key as keyof BackupConfig];
  run.out.result(value, () => [typeof value === 'string' ? value : JSON.stringify(value)]);
}

/** Checked as PUT /backups/config checks its body; an invalid value exits 2 with the reasons. */
export async function set(run: CommandRun, assignments: string[]): Promise<void> {
  let opened: CliContext | undefined;
  const open = async () => (opened ??= await run.open());
  const dto = await parseConfigAssignments(assignments, async () => (await open()).get(SettingsService).get());
  const context = await open();
  const settings = context.get(SettingsService);
  const updated = await context.audited('config.update', { detail: { body: dto } }, () => settings.update(context.actor, dto));
  run.out.result(updated, () => describeConfig(updated));
}

function describeConfig(c: BackupConfig): string[] {
  const r = c.retention;
  const tick = c.lastTick;
  return fields([
    ['enabled', String(c.enabled)],
    ['schedule', c.schedule ?? '-'],
    ['intervalMinutes', c.intervalMinutes === null ? '-' : String(c.intervalMinutes)],
    ['timezone', c.timezone ?? 'UTC'],
    ['nextRunAt', formatDate(c.nextRunAt)],
    ['retention', `keepLast ${r.keepLast}, maxAgeDays ${r.maxAgeDays}, daily ${r.daily}, weekly ${r.weekly}, monthly ${r.monthly}`],
    ['archiveAfterDays', c.archiveAfterDays === null ? '-' : String(c.archiveAfterDays)],
    ['compression', c.compression],
    ['verifyAfterCreate', String(c.verifyAfterCreate)],
    ['scrubIntervalHours', c.scrubIntervalHours === null ? '-' : String(c.scrubIntervalHours)],
    ['lastScrubAt', formatDate(c.lastScrubAt)],
    ['drillSchedule', c.drillSchedule ?? '-'],
    ['drillNextRunAt', formatDate(c.drillNextRunAt)],
    ['lastTick', tick ? `${formatDate(tick.scheduledAt)} ${tick.outcome}${tick.detail ? `: ${tick.detail}` : ''}` : '-'],
    ['updatedAt', `${formatDate(c.updatedAt)}${c.updatedBy ? ` by ${c.updatedBy}` : ''}`],
  ]);
}
