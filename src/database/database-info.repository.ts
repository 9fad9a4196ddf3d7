import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { Client, QueryResult } from 'pg';
import { DataSource } from 'typeorm';
import { quoteIdent, quoteLiteral } from '../infra/process/pg-connection';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { ClusterObjects, readClusterObjects } from './cluster-objects';
import { APPLICATION_NAME } from './data-source';
import { newClient, openSession } from './pg-client';
import { dropTrashBatchSql, dropTrashSchemasSql, TRASH_PATTERN } from './trash-schemas';

const SYSTEM_SCHEMAS = ['pg_catalog', 'information_schema', 'pg_toast'];
/** application_name of the session whose snapshot pg_dump shares. */
export const SNAPSHOT_SESSION = `${APPLICATION_NAME}:snapshot`;
/** Trash relations dropped per transaction: with their indexes, sequences and types, well inside the smallest lock table. */
const TRASH_BATCH = 200;
/** The share of the shared lock table's estimated size one restore may plan to use (see lockCapacity()). */
const LOCK_TABLE_USABLE = 1.4;
/** SQLSTATE of a lock_timeout. */
const LOCK_NOT_AVAILABLE = '55P03';
const isLockTimeout = (error: unknown) => (error as { code?: string }).code === LOCK_NOT_AVAILABLE;
/** Tables counted per round trip. */
const COUNT_BATCH = 100;
/** What marks a schema as holding an installation of this module (any version): its three core tables. */
const INSTALLATION_TABLES = ['backup_history', 'restore_history', 'operation_lock'];
/**
 * Heap + TOAST size of `c` (with its TOAST table `t`) from the catalog's page counts, as of the
 * last VACUUM/ANALYZE: unlike pg_table_size() it takes no lock, so a table locked by a long
 * migration never stalls a backup before it starts.
 */
const RELATION_BYTES = `((c.relpages + coalesce(t.relpages, 0))::bigint * current_setting('block_size')::int)`;

/** Rows per table (`schema.table`) at backup time; `estimated` lists the tables whose figure is the planner's estimate. */
export interface TableRowCounts {
  tables: Record<string, number>;
  estimated: string[];
  /** Heap + TOAST bytes per table, from the catalog's page counts. */
  bytes: Record<string, number>;
  largeObjects: number;
}

/** Some tables (`schema.table`) and schemas, of a dump that holds only those. */
export type TableScope = { tables: readonly string[]; schemas: readonly string[] };

/** Rows per live table now (null: the table does not exist); `estimated` lists the planner's estimates among them. */
export interface CurrentRowCounts {
  tables: Record<string, number | null>;
  estimated: string[];
}

/** An object of the live database as `pg_restore --list` would name it (`kind` is its desc; `schema` null for a schema). */
export interface LiveObject {
  kind: string;
  schema: string | null;
  name: string;
}

export interface DumpSnapshot {
  /** For `pg_dump --snapshot`. */
  id: string;
  /** `only`: the tables of a dump of some tables or schemas. */
  rowCounts(exactMaxBytes: number, only?: TableScope): Promise<TableRowCounts>;
  /** The roles, tablespaces and database settings the dumped objects need, as of the snapshot. */
  clusterObjects(): Promise<ClusterObjects>;
  /** Ends the transaction (closing its connection), cancelling a count still running. */
  close(): Promise<void>;
}

/**
 * What a restore's COMMIT waits for when Node does not carry the script: two advisory locks held
 * on a connection of Node's own. `sql`, run by psql just before its COMMIT, waits for the first
 * and then fails unless the second is still held: `open()` (release the first) lets the COMMIT
 * through; `close()` before that, or Node dying, leaves both free and the restore rolls back.
 */
export interface CommitGate {
  readonly sql: string;
  open(): Promise<void>;
  close(): Promise<void>;
}

/** A session holding a lock another session waits for, as pg_stat_activity shows it. */
export interface LockBlocker {
  pid: number;
  applicationName: string;
  /** `idle in transaction`, `active`, … */
  state: string;
  /** When its current or last query started (ISO 8601). */
  queryStart: string | null;
  /** Itself waiting for a lock: only queued ahead, not holding the lock. */
  waiting: boolean;
}

/** How many locks the server's shared lock table holds (it is shared by all sessions). */
export interface LockCapacity {
  maxLocksPerTransaction: number;
  /** max_connections + max_prepared_transactions: the documented size is their product with the above. */
  slots: number;
  /** What one transaction can take in practice (see lockCapacity()). */
  estimated: number;
}

/** What this cluster has of what a backup needs, and what the restoring role may do about the rest. */
export interface ClusterState {
  /** Those of the roles asked about that exist. */
  roles: string[];
  /** Those of the tablespaces asked about that exist. */
  tablespaces: string[];
  superuser: boolean;
  createRole: boolean;
  /** Owns the database (or is a member of its owner): may ALTER DATABASE … SET. */
  databaseOwner: boolean;
  /** The database's own settings now, `name=value`. */
  settings: string[];
  /** Of the settings asked about, those only a superuser may set per database: not `user` context, or unknown here (a placeholder). */
  superuserSettings: string[];
}

export interface ServerInfo {
  database: string;
  version: string;
  major: number;
}

/** A LIKE pattern matching `text` alone. */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
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

  /**
   * A REPEATABLE READ transaction whose snapshot pg_dump shares (`--snapshot`), so row counts
   * taken in it are exactly what the dump contains. Close it once pg_dump has finished.
   * `lockTimeoutMs` bounds each count's wait for a table lock.
   */
  async openSnapshot({ lockTimeoutMs }: { lockTimeoutMs?: number } = {}): Promise<DumpSnapshot> {
    // a connection of its own, never returned to the pool in an unknown state
    const client = newClient(this.options.databaseUrl, SNAPSHOT_SESSION);
    client.on('error', () => undefined); // a broken connection fails the query in flight
    try {
      await openSession(client);
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      if (lockTimeoutMs) await client.query(`SET LOCAL lock_timeout = ${Math.ceil(lockTimeoutMs)}`);
      const { rows } = await client.query('SELECT pg_export_snapshot() AS id, pg_backend_pid() AS pid');
      const [{ id, pid }] = rows;
      return {
        id,
        rowCounts: (exactMaxBytes, only) => this.rowCounts(client, exactMaxBytes, only),
        clusterObjects: async () => readClusterObjects(client, [...(await this.installationSchemas()).map(likeLiteral), TRASH_PATTERN]),
        close: async () => {
          // a count still waiting for a table lock would outlive the connection: cancel it
          await this.dataSource.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
          await client.end().catch(() => undefined);
        },
      };
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  /** Rows of every user table a backup contains: counted up to `exactMaxBytes` of table size, the planner's estimate above. */
  private async rowCounts(client: Client, exactMaxBytes: number, only?: TableScope): Promise<TableRowCounts> {
    const tables = await this.userTables(client, only);
    const { rows: lo } = await client.query('SELECT count(*) AS n FROM pg_catalog.pg_largeobject_metadata');
    return { ...(await this.countTables(client, tables, exactMaxBytes)), largeObjects: Number(lo[0].n) };
  }

  /**
   * Rows of the live database's user tables now (`only`: just these `schema.table`, null for
   * one that does not exist), counted as at backup time, in a read-only transaction of its own.
   * A count that waits longer than `lockTimeoutMs` for a table lock falls back to the estimate.
   */
  async currentRowCounts(only: string[] | null, { exactMaxBytes, lockTimeoutMs }: { exactMaxBytes: number; lockTimeoutMs: number }): Promise<CurrentRowCounts> {
    const client = newClient(this.options.databaseUrl, `${APPLICATION_NAME}:count`);
    client.on('error', () => undefined);
    try {
      await openSession(client);
      await client.query('BEGIN READ ONLY');
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.ceil(lockTimeoutMs))}`);
      const wanted = only && new Set(only);
      const tables = (await this.userTables(client)).filter((t) => !wanted || wanted.has(`${t.schema}.${t.table}`));
      const counted = await this.countTables(client, tables, exactMaxBytes, { estimateOnLockTimeout: true });
      await client.query('ROLLBACK');
      const rows: Record<string, number | null> = {};
      for (const key of only ?? Object.keys(counted.tables)) rows[key] = counted.tables[key] ?? null;
      return { tables: rows, estimated: counted.estimated };
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** `only`: the tables named, and those of the schemas named. */
  private async userTables(client: Client, only?: TableScope): Promise<{ schema: string; table: string; bytes: string; estimate: string }[]> {
    const { rows } = await client.query<{ schema: string; table: string; bytes: string; estimate: string }>(
      `SELECT n.nspname AS schema, c.relname AS table, ${RELATION_BYTES} AS bytes, greatest(c.reltuples, 0)::bigint AS estimate
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
        WHERE c.relkind IN ('r', 'p') AND n.nspname <> ALL($1) AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE $2
          AND ($3::text[] IS NULL OR n.nspname || '.' || c.relname = ANY($3) OR n.nspname = ANY($4))
        ORDER BY 1, 2`,
      [[...SYSTEM_SCHEMAS, ...(await this.installationSchemas())], TRASH_PATTERN, only ? [...only.tables] : null, [...(only?.schemas ?? [])]],
    );
    return rows;
  }

  /** Exact counts up to `exactMaxBytes` of table size, the planner's estimate above (and, with `estimateOnLockTimeout`, for a batch that waited too long). */
  private async countTables(
    client: Client,
    tables: { schema: string; table: string; bytes: string; estimate: string }[],
    exactMaxBytes: number,
    { estimateOnLockTimeout = false } = {},
  ): Promise<Omit<TableRowCounts, 'largeObjects'>> {
    const counts: Omit<TableRowCounts, 'largeObjects'> = { tables: {}, estimated: [], bytes: {} };
    const exact: { key: string; name: string }[] = [];
    for (const t of tables) {
      const key = `${t.schema}.${t.table}`;
      counts.tables[key] = Number(t.estimate);
      counts.bytes[key] = Number(t.bytes);
      if (Number(t.bytes) > exactMaxBytes) counts.estimated.push(key);
      else exact.push({ key, name: `${quoteIdent(t.schema)}.${quoteIdent(t.table)}` });
    }
    // Each count's locks (table and indexes) go with the rollback to the savepoint: pg_dump already
    // holds one lock per table, and the server's shared lock table may not have room for two.
    await client.query('SAVEPOINT pgb_count');
    for (let i = 0; i < exact.length; i += COUNT_BATCH) {
      const batch = exact.slice(i, i + COUNT_BATCH);
      const sql = batch.map((t) => `SELECT count(*) AS rows FROM ONLY ${t.name}; ROLLBACK TO SAVEPOINT pgb_count;`).join('\n');
      try {
        const results = (await client.query(sql)) as unknown as QueryResult[];
        batch.forEach((t, j) => (counts.tables[t.key] = Number(results[2 * j].rows[0].rows)));
      } catch (error) {
        if (!estimateOnLockTimeout || !isLockTimeout(error)) throw error;
        await client.query('ROLLBACK TO SAVEPOINT pgb_count');
        // one by one: only the tables still locked keep their estimate
        for (const t of batch) {
          try {
            const { rows } = await client.query(`SELECT count(*) AS rows FROM ONLY ${t.name}`);
            counts.tables[t.key] = Number(rows[0].rows);
          } catch (tableError) {
            if (!isLockTimeout(tableError)) throw tableError;
            counts.estimated.push(t.key);
          }
          await client.query('ROLLBACK TO SAVEPOINT pgb_count');
        }
      }
    }
    return counts;
  }

  /** Which of `roles`, `tablespaces` exist here, and what the module's role may do. */
  async clusterState(roles: string[], tablespaces: string[], settingNames: string[]): Promise<ClusterState> {
    const [row] = await this.dataSource.query(
      `SELECT ARRAY(SELECT rolname::text FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[])) AS roles,
              ARRAY(SELECT spcname::text FROM pg_catalog.pg_tablespace WHERE spcname = ANY($2::text[])) AS tablespaces,
              r.rolsuper AS superuser, r.rolcreaterole AS "createRole", pg_catalog.pg_has_role(d.datdba, 'USAGE') AS "databaseOwner",
              ARRAY(SELECT unnest(s.setconfig) FROM pg_catalog.pg_db_role_setting s WHERE s.setrole = 0 AND s.setdatabase = d.oid) AS settings,
              ARRAY(SELECT wanted.name FROM unnest($3::text[]) AS wanted(name) LEFT JOIN pg_catalog.pg_settings s ON s.name = wanted.name
                     WHERE s.context IS DISTINCT FROM 'user') AS "superuserSettings"
         FROM pg_catalog.pg_roles r, pg_catalog.pg_database d
        WHERE r.rolname = current_user AND d.datname = current_database()`,
      [roles, tablespaces, settingNames],
    );
    return row;
  }

  /**
   * The live database's objects a restore replaces, as `pg_restore --list` names them: tables,
   * views, materialized views, sequences, foreign tables, functions, procedures, aggregates,
   * types, domains and schemas, outside the system's, the module's and extensions' own.
   */
  async liveObjects(): Promise<LiveObject[]> {
    const excluded = [...SYSTEM_SCHEMAS, ...(await this.installationSchemas())];
    const notExtensionMember = (catalog: string, oid: string) =>
      `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${catalog}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;
    const inUserSchema = `n.nspname <> ALL($1) AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT LIKE $2`;
    return this.dataSource.query(
      `SELECT 'SCHEMA' AS kind, NULL AS schema, n.nspname AS name FROM pg_namespace n
        WHERE ${inUserSchema} AND n.nspname <> 'public' AND ${notExtensionMember('pg_namespace', 'n.oid')}
       UNION ALL
       SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
              n.nspname, c.relname
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${inUserSchema} AND ${notExtensionMember('pg_class', 'c.oid')}
       UNION ALL
       SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
              n.nspname, p.proname || '(' || oidvectortypes(p.proargtypes) || ')'
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE ${inUserSchema} AND ${notExtensionMember('pg_proc', 'p.oid')}
       UNION ALL
       SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, n.nspname, t.typname
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
          AND ${inUserSchema} AND ${notExtensionMember('pg_type', 't.oid')}
       ORDER BY 2 NULLS FIRST, 3, 1`,
      [excluded, TRASH_PATTERN],
    );
  }

  /** Those of `roles` the cluster lacks. */
  async missingRoles(roles: string[]): Promise<string[]> {
    const rows: { name: string }[] = await this.dataSource.query(
      'SELECT r.name FROM unnest($1::text[]) AS r(name) WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r.name) ORDER BY 1',
      [roles],
    );
    return rows.map((r) => r.name);
  }

  /** Exact row counts of `tables` (`schema.table`) in another database of this server (a drill's scratch database); null for a missing table. */
  async countRowsIn(databaseUrl: string, tables: string[]): Promise<Record<string, number | null>> {
    const client = newClient(databaseUrl, `${APPLICATION_NAME}:drill`);
    try {
      await openSession(client);
      const counts: Record<string, number | null> = {};
      for (const key of tables) {
        const dot = key.indexOf('.');
        const name = `${quoteIdent(key.slice(0, dot))}.${quoteIdent(key.slice(dot + 1))}`;
        const { rows } = await client.query('SELECT to_regclass($1) AS oid', [name]);
        if (!rows[0].oid) {
          counts[key] = null;
          continue;
        }
        const result = await client.query(`SELECT count(*) AS rows FROM ONLY ${name}`);
        counts[key] = Number(result.rows[0].rows);
      }
      return counts;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Advisory locks are per database: `databaseUrl` is the one psql restores into. */
  async openCommitGate(databaseUrl: string): Promise<CommitGate> {
    const client = newClient(databaseUrl, `${APPLICATION_NAME}:commit-gate`);
    client.on('error', () => undefined); // a lost connection frees both locks: the restore rolls back
    const [wait, veto] = [randomBytes(8).readBigInt64BE(), randomBytes(8).readBigInt64BE()];
    try {
      await openSession(client);
      await client.query('SELECT pg_advisory_lock($1), pg_advisory_lock($2)', [wait, veto]);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return {
      sql: `DO $gate$ BEGIN
  PERFORM pg_advisory_lock(${wait});
  IF pg_try_advisory_lock(${veto}) THEN
    RAISE EXCEPTION 'nestjs-pg-backup did not confirm this restore; it is rolled back';
  END IF;
  PERFORM pg_advisory_unlock(${wait});
END $gate$`,
      open: async () => {
        await client.query('SELECT pg_advisory_unlock($1)', [wait]);
      },
      close: () => client.end().catch(() => undefined),
    };
  }

  /** An empty database for a drill, with the encoding and locale of this one. */
  async createScratchDatabase(name: string): Promise<void> {
    const [db] = await this.dataSource.query(
      `SELECT pg_encoding_to_char(encoding) AS encoding, datcollate, datctype FROM pg_database WHERE datname = current_database()`,
    );
    await this.dataSource.query(
      `CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0 ENCODING ${quoteLiteral(db.encoding)} LC_COLLATE ${quoteLiteral(db.datcollate)} LC_CTYPE ${quoteLiteral(db.datctype)}`,
    );
  }

  /** Those of `tables` (`schema.table`) and `schemas` that exist in the live database. */
  async existing(tables: readonly string[], schemas: readonly string[]): Promise<{ tables: string[]; schemas: string[] }> {
    const rows: { name: string; kind: 'table' | 'schema' }[] = await this.dataSource.query(
      `SELECT t AS name, 'table' AS kind FROM unnest($1::text[]) t WHERE to_regclass(format('%I.%I', split_part(t, '.', 1), split_part(t, '.', 2))) IS NOT NULL
       UNION ALL SELECT s, 'schema' FROM unnest($2::text[]) s WHERE EXISTS (SELECT FROM pg_namespace WHERE nspname = s)`,
      [tables, schemas],
    );
    return { tables: rows.filter((r) => r.kind === 'table').map((r) => r.name), schemas: rows.filter((r) => r.kind === 'schema').map((r) => r.name) };
  }

  async schemaExists(name: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name]);
    return rows.length > 0;
  }

  /** Whether `name` is a database of this server, and a template. */
  async databaseState(name: string): Promise<{ exists: boolean; template: boolean }> {
    const rows: { template: boolean }[] = await this.dataSource.query('SELECT datistemplate AS template FROM pg_database WHERE datname = $1', [name]);
    return { exists: rows.length > 0, template: rows[0]?.template ?? false };
  }

  /** Names of the databases on this server matching the regular expression `pattern`. */
  async databasesMatching(pattern: string): Promise<string[]> {
    const rows: { datname: string }[] = await this.dataSource.query('SELECT datname FROM pg_database WHERE datname ~ $1', [pattern]);
    return rows.map((r) => r.datname);
  }

  /** Drops `name`, ending any session still in it (PostgreSQL 13+; older servers wait for none). */
  async dropDatabase(name: string): Promise<void> {
    const force = (await this.server()).major >= 13 ? ' WITH (FORCE)' : '';
    await this.dataSource.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}${force}`);
  }

  /** Heap + TOAST bytes of the user tables: an upper bound of an uncompressed dump's data. */
  async userDataBytes(): Promise<number> {
    const [row] = await this.dataSource.query(
      `SELECT coalesce(sum(${RELATION_BYTES}), 0)::bigint AS bytes
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
        WHERE c.relkind IN ('r', 'm') AND n.nspname <> ALL($1) AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE $2`,
      [[...SYSTEM_SCHEMAS, ...(await this.installationSchemas())], TRASH_PATTERN],
    );
    return Number(row.bytes);
  }

  /**
   * Drops the schemas a restore's wipe renamed away, a batch of relations per transaction: all
   * at once would need as many locks as the wipe avoided. The session is named
   * `applicationName`, so the restore's watchdog ends sessions still holding a replaced table.
   */
  async dropTrash(applicationName: string): Promise<void> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query(`SELECT set_config('application_name', $1, false)`, [applicationName]);
      let left = Infinity;
      for (;;) {
        const [row] = await runner.query(
          `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname LIKE $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')`,
          [TRASH_PATTERN],
        );
        if (row.n === 0) break;
        if (row.n >= left) throw new Error(`${row.n} relations in the trash schemas could not be dropped`);
        left = row.n;
        await runner.query(dropTrashBatchSql(TRASH_BATCH));
      }
      await runner.query(dropTrashSchemasSql());
    } finally {
      await runner.query('RESET application_name').catch(() => undefined);
      await runner.release();
    }
  }

  /**
   * This installation's schema and every other one's in the database (several services may each
   * run the module, in their own schema): never dumped, never wiped by a restore.
   */
  async installationSchemas(): Promise<string[]> {
    const rows: { schema: string }[] = await this.dataSource.query(
      `SELECT n.nspname AS schema FROM pg_namespace n
        WHERE (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p') AND c.relname = ANY($1)) = $2
        ORDER BY 1`,
      [INSTALLATION_TABLES, INSTALLATION_TABLES.length],
    );
    return [...new Set([this.options.schema, ...rows.map((r) => r.schema)])];
  }

  /** Sessions holding locks that a session named one of `applicationNames` waits for. */
  async blockersOf(...applicationNames: string[]): Promise<LockBlocker[]> {
    const rows: (Omit<LockBlocker, 'queryStart'> & { queryStart: Date | null })[] = await this.dataSource.query(
      `SELECT DISTINCT b.pid, coalesce(b.application_name, '') AS "applicationName", coalesce(b.state, '') AS state,
              b.query_start AS "queryStart", coalesce(b.wait_event_type = 'Lock', false) AS waiting
         FROM pg_stat_activity w
         CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocker(pid)
         JOIN pg_stat_activity b ON b.pid = blocker.pid
        WHERE w.application_name = ANY($1) AND w.datname = current_database()
        ORDER BY b.pid`,
      [applicationNames],
    );
    return rows.map((row) => ({ ...row, queryStart: row.queryStart?.toISOString() ?? null }));
  }

  /**
   * The shared lock table: documented as max_locks_per_transaction × (max_connections +
   * max_prepared_transactions) entries, but sized for every server process (autovacuum, workers,
   * WAL senders too), and each lock takes one LOCK and one PROCLOCK entry of the memory reserved
   * for twice as many PROCLOCKs: one transaction gets about 1.5 times that (PostgreSQL 15 on a
   * fresh server: 12,773 locks at 64, 2,929 at 10); 1.4 leaves room for the other sessions.
   */
  async lockCapacity(): Promise<LockCapacity> {
    const [row] = await this.dataSource.query(
      `SELECT current_setting('max_locks_per_transaction')::int AS "perTransaction",
              current_setting('max_connections')::int + current_setting('max_prepared_transactions')::int AS slots,
              current_setting('autovacuum_max_workers')::int + 1 + current_setting('max_worker_processes')::int
                + current_setting('max_wal_senders')::int AS "otherProcesses"`,
    );
    return {
      maxLocksPerTransaction: row.perTransaction,
      slots: row.slots,
      estimated: Math.floor(row.perTransaction * (row.slots + row.otherProcesses) * LOCK_TABLE_USABLE),
    };
  }

  /** Locks the restore's wipe takes (see wipeDatabaseSql): a schema, an extension's members, an event trigger, a publication, a large object one each. */
  async wipeLockCount(keepSchema: string): Promise<number> {
    const [row] = await this.dataSource.query(
      `SELECT (SELECT count(*) FROM pg_namespace WHERE nspname <> ALL($1) AND nspname NOT LIKE 'pg\_%' AND nspname NOT LIKE $2)
            + (SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND e.extname <> 'plpgsql')
            + (SELECT count(*) FROM pg_extension) + (SELECT count(*) FROM pg_event_trigger) + (SELECT count(*) FROM pg_publication)
            + (SELECT count(*) FROM pg_largeobject_metadata) AS n`,
      [[...SYSTEM_SCHEMAS, keepSchema], TRASH_PATTERN],
    );
    return Number(row.n);
  }

  /** Ends every session of this database named `applicationName`. */
  async terminateSessions(applicationName: string): Promise<void> {
    await this.dataSource.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
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
