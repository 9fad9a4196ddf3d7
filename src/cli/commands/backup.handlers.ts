import { BackupHistory } from '../../backup/backup-history.entity';
import { BackupImportService } from '../../backup/backup-import.service';
import { IntegrityReport } from '../../backup/backup-integrity.service';
import { BackupService } from '../../backup/backup.service';
import { BackupStatus, BackupType } from '../../backup/backup.types';
import { CreateBackupDto } from '../../backup/dto/create-backup.dto';
import { ListBackupsQuery } from '../../backup/dto/list-backups.query';
import { CommandRun } from '../command-run';
import { ExitCode } from '../exit-codes';
import { fields, formatBytes, formatDate, formatSeconds, table } from '../format';
import { validated } from '../validation';

export interface CreateOptions {
  notes?: string;
  tags?: string[];
  /** false with `--no-encrypt`. */
  encrypt: boolean;
}

export interface ListOptions {
  limit?: string;
  offset?: string;
  status?: string;
  type?: string;
}

export interface CleanupOptions {
  dryRun?: boolean;
}

/** A backup run to the end under the lock (BackupService.runNow, as a scheduled one); exit 1 when it failed. */
export async function create(run: CommandRun, opts: CreateOptions): Promise<ExitCode> {
  const dto = await validated(CreateBackupDto, { notes: opts.notes, tags: opts.tags });
  const context = await run.open({ encrypt: opts.encrypt });
  const backups = context.get(BackupService);
  // the newest completed backup's size: the expected size of this one, for the progress bar
  const [previous] = (await backups.list(Object.assign(new ListBackupsQuery(), { status: BackupStatus.Completed, limit: 1 }))).items;
  const backup = await context.audited(
    'backup.create',
    { detail: { notes: dto.notes, tags: dto.tags, encrypt: opts.encrypt }, targetOf: (b) => b.id, ok: (b) => b.status === BackupStatus.Completed },
    () =>
      run.out.withProgress({ label: 'backup', poll: context.operationBytes(), total: previous?.sizeBytes }, () =>
        backups.runNow(context.actor, dto, BackupType.Manual, {}),
      ),
  );
  run.out.result(backup, () => [
    `backup ${backup.id} ${backup.status}: ${backup.filename} (${formatBytes(backup.sizeBytes)}, ${describeFormat(backup)}) in ${formatSeconds(backup.durationMs)}`,
  ]);
  if (backup.status === BackupStatus.Completed) return ExitCode.Ok;
  run.out.error(`backup ${backup.id} failed: ${backup.error}`);
  return ExitCode.Failure;
}

export async function list(run: CommandRun, opts: ListOptions): Promise<void> {
  const query = await validated(ListBackupsQuery, { limit: opts.limit, offset: opts.offset, status: opts.status, type: opts.type });
  const { items, total } = await (await run.open()).get(BackupService).list(query);
  run.out.result({ items, total }, () => [
    ...table(
      ['ID', 'CREATED', 'TYPE', 'STATUS', 'SIZE', 'FLAGS', 'NOTES'],
      items.map((b) => [b.id, formatDate(b.createdAt), b.type, b.status, formatBytes(b.sizeBytes), flags(b), truncate(b.notes ?? '', 40)]),
    ),
    `${items.length} of ${total} backup(s)`,
  ]);
}

export async function show(run: CommandRun, id: string): Promise<void> {
  const backup = await (await run.open()).get(BackupService).get(id);
  run.out.result(backup, () => describeBackup(backup));
}

export async function contents(run: CommandRun, id: string): Promise<void> {
  const held = await (await run.open()).get(BackupService).contents(id);
  const others: [string, string[]][] = [
    ['views', held.views],
    ['materialized views', held.materializedViews],
    ['functions', held.functions],
    ['sequences', held.sequences],
    ['types', held.types],
    ['extensions', held.extensions],
    ['roles', held.roles],
  ];
  run.out.result(held, () => [
    ...table(
      ['TABLE', 'ROWS', 'SIZE'],
      held.tables.map((t) => [`${t.schema}.${t.name}`, t.rows === null ? '-' : `${t.rows}${t.rowsEstimated ? ' (estimate)' : ''}`, t.sizeBytes === null ? '-' : formatBytes(t.sizeBytes)]),
    ),
    `schemas: ${held.schemas.join(', ') || '-'}`,
    ...others.map(([label, names]) => `${label}: ${names.join(', ') || '-'}`),
    `large objects: ${held.largeObjects}`,
  ]);
}

/** Exit 1 when the backup has no intact copy. */
export async function verify(run: CommandRun, id: string): Promise<ExitCode> {
  const context = await run.open();
  const report = await context.audited('backup.verify', { target: id, ok: (r: IntegrityReport) => r.valid }, () =>
    run.out.withProgress({ label: 'verify' }, () => context.get(BackupService).verify(id)),
  );
  run.out.result({ ...report, source: report.source?.location ?? null }, () => [
    `backup ${id}: ${report.valid ? 'intact' : 'DAMAGED'}`,
    ...report.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(10)}  ${c.detail ?? ''}`.trimEnd()),
  ]);
  if (report.valid) return ExitCode.Ok;
  run.out.error(`backup ${id} is damaged: ${report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('; ')}`);
  return ExitCode.Failure;
}

export async function remove(run: CommandRun, id: string): Promise<void> {
  const context = await run.open();
  const backups = context.get(BackupService);
  const { filename } = await backups.get(id);
  await context.audited('backup.delete', { target: id }, () => backups.remove(id, context.actor));
  run.out.result({ deleted: id, filename }, () => [`deleted backup ${id} (${filename})`]);
}

export async function cleanup(run: CommandRun, opts: CleanupOptions): Promise<void> {
  const context = await run.open();
  const backups = context.get(BackupService);
  if (opts.dryRun) {
    const preview = await backups.cleanupPreview();
    const listed = (verb: string, items: { id: string; createdAt: Date; filename: string }[]) => [
      `${verb} ${items.length} backup(s)${items.length ? ':' : ''}`,
      ...items.map((b) => `  ${b.id}  ${formatDate(b.createdAt)}  ${b.filename}`),
    ];
    run.out.result(preview, () => [
      ...listed('would delete', preview.delete),
      ...listed('would archive', preview.archive),
      `keeps ${preview.keep.length} backup(s)${preview.keep.length ? ':' : ''}`,
      ...preview.keep.map((k) => `  ${k.id}  ${k.reasons.join(', ')}`),
    ]);
    return;
  }
  const result = await context.audited('backup.cleanup', {}, () => backups.cleanup(context.actor));
  run.out.result(result, () => [`deleted ${result.deleted} backup(s), archived ${result.archived}`]);
}

export async function stats(run: CommandRun): Promise<void> {
  const s = await (await run.open()).get(BackupService).stats();
  const drill = s.lastDrill;
  run.out.result(s, () =>
    fields([
      ['backups', `${s.count} (${Object.entries(s.byStatus).map(([status, n]) => `${n} ${status}`).join(', ')})`],
      ['by type', Object.entries(s.byType).map(([type, n]) => `${n} ${type}`).join(', ') || '-'],
      ['total size', formatBytes(s.totalBytes)],
      ['oldest', formatDate(s.oldest)],
      ['newest', formatDate(s.newest)],
      ['last success', formatDate(s.lastSuccessAt)],
      ['last failure', formatDate(s.lastFailureAt)],
      ['last drill', drill ? `${drill.ok ? 'passed' : 'FAILED'} ${formatDate(drill.at)} (backup ${drill.backupId}, restore ${formatSeconds(drill.restoreMs)})` : '-'],
    ]),
  );
}

export async function importBackups(run: CommandRun): Promise<void> {
  const context = await run.open();
  const result = await context.audited('backup.import', {}, () => context.get(BackupImportService).importDirectory(context.actor));
  run.out.result(result, () => [
    `imported ${result.imported.length} backup(s)${result.imported.length ? ':' : ''}`,
    ...result.imported.map((f) => `  ${f}`),
    ...(result.skipped.length ? [`skipped ${result.skipped.length}:`, ...result.skipped.map((s) => `  ${s.file}: ${s.reason}`)] : []),
  ]);
}

function describeFormat(backup: BackupHistory): string {
  return `${backup.compression}, ${backup.encrypted ? 'encrypted' : 'not encrypted'}`;
}

function flags(backup: BackupHistory): string {
  const set = [backup.pinned && 'pinned', backup.encrypted && 'encrypted', backup.damaged && 'DAMAGED', backup.archived && 'archived', backup.verifiedAt && 'verified'];
  return set.filter(Boolean).join(',') || '-';
}

function truncate(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function describeBackup(b: BackupHistory): string[] {
  const entries: [string, string][] = [
    ['id', b.id],
    ['status', b.status],
    ['type', b.type],
    ['created', `${formatDate(b.createdAt)} by ${b.createdBy}`],
    ['finished', b.finishedAt ? `${formatDate(b.finishedAt)} (${formatSeconds(b.durationMs)})` : '-'],
    ['file', `${b.filename} (${formatBytes(b.sizeBytes)}, ${describeFormat(b)})`],
    ['sha256', b.sha256 ?? '-'],
    ['verified', formatDate(b.verifiedAt)],
    ['pinned', b.pinned ? 'yes' : 'no'],
    ['damaged', b.damaged ? 'YES' : 'no'],
    ['notes', b.notes ?? '-'],
    ['tags', b.tags.join(', ') || '-'],
  ];
  if (b.metadata) entries.push(['database', `${b.metadata.database} (PostgreSQL ${b.metadata.serverVersion}), ${Object.keys(b.metadata.tables ?? {}).length} tables`]);
  for (const copy of b.copies ?? []) entries.push([`copy (${copy.storage})`, `${copy.state} ${copy.location}${copy.error ? `: ${copy.error}` : ''}`]);
  if (b.files) entries.push(['files part', `${b.files.filename} (${formatBytes(b.files.sizeBytes)}: ${b.files.paths.join(', ')})`]);
  if (b.archived) entries.push(['archived', b.archivePath ?? 'yes']);
  if (b.drill) {
    entries.push([
      'last drill',
      `${b.drill.ok ? 'passed' : 'FAILED'} ${formatDate(b.drill.at)} (restore ${formatSeconds(b.drill.restoreMs)}, ${b.drill.tables.length} tables)${b.drill.error ? `: ${b.drill.error}` : ''}`,
    ]);
  }
  if (b.error) entries.push(['error', b.error]);
  return fields(entries);
}
