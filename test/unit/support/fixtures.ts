import { BackupHistory, newBackupRow } from '../../../src/backup/backup-history.entity';
import { BackupStatus, BackupType } from '../../../src/backup/backup.types';
import { PgTools } from '../../../src/infra/process/pg-tools.repository';

/** PostgreSQL 16 client tools, as PgToolsRepository finds them on Debian. */
export const PG16_TOOLS: PgTools = {
  binDir: '/usr/lib/postgresql/16/bin',
  pgDump: '/usr/lib/postgresql/16/bin/pg_dump',
  pgRestore: '/usr/lib/postgresql/16/bin/pg_restore',
  psql: '/usr/lib/postgresql/16/bin/psql',
  pgDumpVersion: 'pg_dump (PostgreSQL) 16.4',
  restrict: false,
  restoreToolsVersion: 'pg_restore (PostgreSQL) 16.4; psql (PostgreSQL) 16.4',
  major: 16,
};

/** A backup row with every field set; `overrides` changes what a test needs. */
export function backupRow(overrides: Partial<BackupHistory> = {}): BackupHistory {
  return newBackupRow({
    id: '0a1b2c3d-0000-4000-8000-000000000001',
    status: BackupStatus.Running,
    type: BackupType.Manual,
    filename: 'shop-manual-20250601T120000Z-0a1b2c3d.dump',
    sizeBytes: 0,
    sha256: null,
    compression: 'none',
    encrypted: false,
    createdBy: 'alice',
    createdAt: new Date('2025-06-01T12:00:00Z'),
    ...overrides,
  });
}
