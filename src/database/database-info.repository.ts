import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { APPLICATION_NAME } from './data-source';

const SYSTEM_SCHEMAS = ['pg_catalog', 'information_schema', 'pg_toast'];

export interface ServerInfo {
  database: string;
  version: string;
  major: number;
}

/** Read-only questions about the backed-up database, and terminating sessions that block a restore. */
@Injectable()
export class DatabaseInfoRepository {
  constructor(
    @InjectDataSource(PG_BACKUP_CONNECTION) private readonly dataSource: DataSource,
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
  ) {}

  async server(): Promise<ServerInfo> {
    const [row] = await this.dataSource.query(
      `SELECT current_database() AS database, current_setting('server_version') AS version,
              current_setting('server_version_num')::int / 10000 AS major`,
    );
    return { database: row.database, version: row.version, major: Number(row.major) };
  }

  /** Planner row estimates of every user table that a backup contains. */
  async tableRowEstimates(): Promise<Record<string, number>> {
    const rows: { name: string; estimate: string }[] = await this.dataSource.query(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name, greatest(c.reltuples, 0)::bigint AS estimate
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname <> ALL($1) AND n.nspname NOT LIKE 'pg_temp%'
        ORDER BY 1`,
      [[...SYSTEM_SCHEMAS, this.options.schema]],
    );
    return Object.fromEntries(rows.map((r) => [r.name, Number(r.estimate)]));
  }

  /** Heap + TOAST bytes of the user tables: an upper bound of an uncompressed dump's data. */
  async userDataBytes(): Promise<number> {
    const [row] = await this.dataSource.query(
      `SELECT coalesce(sum(pg_table_size(c.oid)), 0)::bigint AS bytes
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'm') AND n.nspname <> ALL($1) AND n.nspname NOT LIKE 'pg_temp%'`,
      [[...SYSTEM_SCHEMAS, this.options.schema]],
    );
    return Number(row.bytes);
  }

  /** Sessions holding locks that the session named `applicationName` waits for. */
  async blockersOf(applicationName: string): Promise<{ pid: number; applicationName: string }[]> {
    return this.dataSource.query(
      `SELECT DISTINCT b.pid, coalesce(b.application_name, '') AS "applicationName"
         FROM pg_stat_activity w
         CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocker(pid)
         JOIN pg_stat_activity b ON b.pid = blocker.pid
        WHERE w.application_name = $1 AND w.datname = current_database()`,
      [applicationName],
    );
  }

  async terminate(pid: number): Promise<boolean> {
    const [row] = await this.dataSource.query('SELECT pg_terminate_backend($1) AS ok', [pid]);
    return row.ok === true;
  }

  /** True for the module's own connections, which a restore never terminates. */
  isOwnSession(applicationName: string): boolean {
    return applicationName.startsWith(APPLICATION_NAME);
  }
}
