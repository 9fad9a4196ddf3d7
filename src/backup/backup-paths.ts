import { join } from 'node:path';
import { BackupFormat, formatExtension } from '../pipeline/backup-format';
import { BackupType } from './backup.types';

export const PARTIAL_SUFFIX = '.partial';
export const MANIFEST_SUFFIX = '.json';

/** `shop-manual-20261123T114512Z-1a2b3c4d.dump.zst`: sortable, unique, safe in any file system. */
export function backupFilename(database: string, type: BackupType, createdAt: Date, id: string, format: BackupFormat): string {
  const stamp = createdAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  // no leading dot: backupPath refuses hidden names, and a database may be called ".x"
  const safeDb = database.replace(/[^\w.-]/g, '_').replace(/^\./, '_').slice(0, 60) || 'db';
  return `${safeDb}-${type}-${stamp}-${id.slice(0, 8)}${formatExtension(format)}`;
}

/** Only names this module produced resolve to a path: no traversal out of the backup directory. */
export function backupPath(dir: string, filename: string): string {
  if (!/^[\w.-]+\.(dump|files\.tar)(\.zst|\.gz)?(\.age)?$/.test(filename) || filename.startsWith('.')) throw new Error(`invalid backup file name: ${filename}`);
  return join(dir, filename);
}

/** The directories that may hold a backup's file, primary first. */
export function backupDirs(options: { backupDir: string; externalDir?: string }): string[] {
  return options.externalDir ? [options.backupDir, options.externalDir] : [options.backupDir];
}

/** `x.dump.zst.age` → `x.files.tar.zst.age`: the files part carries the same layers. */
export function filesPartName(dumpFilename: string): string {
  return dumpFilename.replace(/\.dump(?=\.|$)/, '.files.tar');
}
