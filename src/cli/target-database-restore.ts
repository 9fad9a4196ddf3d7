import { randomUUID } from 'node:crypto';
import { newClient, openSession } from '../database/pg-client';
import { BackupHistory } from '../backup/backup-history.entity';
import { BackupIntegrityService } from '../backup/backup-integrity.service';
import { failureMessage } from '../backup/backup-runner.service';
import { APPLICATION_NAME } from '../database/data-source';
import { DatabaseInfoRepository } from '../database/database-info.repository';
import { LockService } from '../lock/lock.service';
import { RestoreRunner, withDatabase } from '../restore/restore-runner.service';
import { CliContext } from './cli-context';
import { CliError, usageError } from './exit-codes';

/** PostgreSQL's identifier limit, in bytes. */
const MAX_DATABASE_NAME_BYTES = 63;

export interface TargetRestoreResult {
  backupId: string;
  database: string;
  /** The database did not exist and was created for the restore. */
  created: boolean;
  durationMs: number;
}

/**
 * `restore ID --target-db NAME`: the backup restored into another database of the same server,
 * the live one untouched (no safety backup is needed: nothing is replaced). The drill's path:
 * under the operation lock, integrity checked first, one transaction, no wipe, no watchdog. The
 * database is created (template0, this database's encoding and locale) when missing; an existing
 * one must be empty. A database created here is dropped again if the restore fails.
 */
export async function restoreIntoDatabase(context: CliContext, backup: BackupHistory, database: string): Promise<TargetRestoreResult> {
  checkTargetName(context, database);
  const lock = context.get(LockService);
  const operation = await lock.acquire('restore', randomUUID(), context.actor);
  return lock.runHeld(operation, async () => {
    const started = Date.now();
    const report = await context.get(BackupIntegrityService).check(backup, { full: false });
    if (!report.valid) {
      const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
      throw new CliError(`backup ${backup.id} is not intact (${failed.join('; ')}); nothing was changed`);
    }
    const databases = context.get(DatabaseInfoRepository);
    const [existing]: { template: boolean }[] = await context.dataSource.query(
      'SELECT datistemplate AS template FROM pg_database WHERE datname = $1',
      [database],
    );
    if (existing?.template) throw new CliError(`${database} is a template database; restore into another one`);
    const targetUrl = withDatabase(context.options.databaseUrl, database);
    if (existing) {
      const relations = await userRelations(targetUrl);
      if (relations > 0) {
        throw new CliError(`database ${database} already exists and holds ${relations} user tables, views or sequences; restore into a new or empty database`);
      }
    } else {
      await databases.createScratchDatabase(database);
    }
    try {
      await context.get(RestoreRunner).run(operation.operationId, backup, report.source!, operation, { scratchDatabase: database });
    } catch (error) {
      const message = failureMessage(error, operation.signal);
      if (!existing) await databases.dropDatabase(database).catch(() => undefined);
      throw new CliError(`restore of backup ${backup.id} into ${database} failed${existing ? '' : ' (the database created for it was dropped)'}: ${message}`);
    }
    return { backupId: backup.id, database, created: !existing, durationMs: Date.now() - started };
  });
}

/** A name PostgreSQL accepts, and not the live database (usage error otherwise). */
export function checkTargetName(context: CliContext, database: string): void {
  if (database === context.database) {
    throw usageError(`--target-db names the live database ${database}; leave --target-db out to restore over it`);
  }
  if (!database || Buffer.byteLength(database) > MAX_DATABASE_NAME_BYTES) {
    throw usageError(`--target-db must be a database name of 1–${MAX_DATABASE_NAME_BYTES} bytes`);
  }
}

/** Relations outside the system schemas: tables, views, materialized views, sequences, foreign tables. */
async function userRelations(databaseUrl: string): Promise<number> {
  const client = newClient(databaseUrl, `${APPLICATION_NAME}:cli`);
  client.on('error', () => undefined);
  try {
    await openSession(client);
    const { rows } = await client.query<{ count: string }>(
      `SELECT count(*) AS count FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
    );
    return Number(rows[0].count);
  } finally {
    await client.end().catch(() => undefined);
  }
}
