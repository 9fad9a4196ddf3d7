import { DataSourceOptions } from 'typeorm';
import { AuditLog } from '../audit/audit-log.entity';
import { BackupHistory } from '../backup/backup-history.entity';
import { OperationLock } from '../lock/operation-lock.entity';
import { RestoreHistory } from '../restore/restore-history.entity';
import { BackupConfigRow } from '../settings/backup-config.entity';
import { InitialSchema1763900000000 } from '../../migrations/1763900000000-InitialSchema';
import { BackupPinned1763910000000 } from '../../migrations/1763910000000-BackupPinned';
import { BackupCopies1763920000000 } from '../../migrations/1763920000000-BackupCopies';
import { BackupArchived1763930000000 } from '../../migrations/1763930000000-BackupArchived';
import { Scrub1763940000000 } from '../../migrations/1763940000000-Scrub';
import { BackupFiles1763950000000 } from '../../migrations/1763950000000-BackupFiles';
import { Automation1763960000000 } from '../../migrations/1763960000000-Automation';
import { CancelRequest1764100000000 } from '../../migrations/1764100000000-CancelRequest';
import { AuditCoalesce1764400000000 } from '../../migrations/1764400000000-AuditCoalesce';
import { RestoreCommit1764500000000 } from '../../migrations/1764500000000-RestoreCommit';
import { BackupUnreadable1764600000000 } from '../../migrations/1764600000000-BackupUnreadable';
import { ScheduleTick } from '../automation/schedule-tick.entity';
import { pgClientConfig } from './pg-client';

export const APPLICATION_NAME = 'nestjs-pg-backup';
export const ENTITIES = [BackupHistory, RestoreHistory, OperationLock, AuditLog, BackupConfigRow, ScheduleTick];

/** The one data-source definition, shared by the module and the TypeORM CLI. */
export function dataSourceOptions(databaseUrl: string, schema: string): DataSourceOptions & { url: string; schema: string } {
  return {
    type: 'postgres',
    url: databaseUrl,
    schema,
    applicationName: APPLICATION_NAME,
    entities: ENTITIES,
    migrations: [
      InitialSchema1763900000000,
      BackupPinned1763910000000,
      BackupCopies1763920000000,
      BackupArchived1763930000000,
      Scrub1763940000000,
      BackupFiles1763950000000,
      Automation1763960000000,
      CancelRequest1764100000000,
      AuditCoalesce1764400000000,
      RestoreCommit1764500000000,
      BackupUnreadable1764600000000,
    ],
    migrationsTableName: 'migrations',
    synchronize: false,
    // never CREATE EXTENSION in the user's database (TypeORM would add uuid-ossp to public)
    installExtensions: false,
    migrationsRun: false,
    // TLS as libpq reads the URL and PGSSL*, session settings and keepalive (initializeDataSource adds idle_session_timeout)
    extra: { max: 10, ...pgClientConfig(databaseUrl) },
  };
}
