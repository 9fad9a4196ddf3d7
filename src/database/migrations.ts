import { Logger } from '@nestjs/common';
import { DataSource, DataSourceOptions } from 'typeorm';
import { advisoryLockKey, LockPurpose } from '../lock/lock.constants';
import { quoteIdent } from '../infra/process/pg-connection';
import { APPLICATION_NAME } from './data-source';
import { newClient, openSession, sessionOptions } from './pg-client';
import { postgresVersionProblem, UnsupportedPostgresError } from './postgres-version';

/**
 * Opens the module's data source and brings its schema up to date. Migrations run under an
 * advisory lock, so replicas starting together apply each migration once.
 */
export async function initializeDataSource(options: DataSourceOptions & { url: string; schema: string }): Promise<DataSource> {
  const key = advisoryLockKey(options.schema, LockPurpose.Migrations);
  const lock = newClient(options.url, `${APPLICATION_NAME}:migrations`);
  const idleSessionTimeout = await openSession(lock);
  // the pool's sessions too: the server's version decides whether idle_session_timeout can be named
  const dataSource = new DataSource({ ...options, extra: { ...options.extra, options: sessionOptions({ idleSessionTimeout }) } });
  try {
    const { rows } = await lock.query<{ num: string; version: string }>(`SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS version`);
    const problem = postgresVersionProblem(Number(rows[0].num), rows[0].version);
    if (problem) throw new UnsupportedPostgresError(problem);
    await lock.query('SELECT pg_advisory_lock($1, $2)', [key.classId, key.objectId]);
    await lock.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(options.schema)}`);
    await dataSource.initialize();
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    for (const migration of applied) new Logger('PgBackupMigrations').log(`applied ${migration.name}`);
    return dataSource;
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    throw error;
  } finally {
    await lock.end().catch(() => undefined);
  }
}
