import { sessionOptions, tlsEnvironment } from '../../database/pg-client';

/**
 * How pg_dump, pg_restore and psql reach the database: the URL without its password in argv,
 * the password in the child's environment only; the TLS settings node-pg uses (URL query or
 * PGSSL*), and the module's session settings (PGOPTIONS) over any role-level ones.
 */
export interface PgConnection {
  /** Connection string without password, safe to show and to pass as an argument. */
  dbnameArg: string;
  database: string;
  env: NodeJS.ProcessEnv;
}

export function pgConnection(databaseUrl: string, applicationName: string): PgConnection {
  const url = new URL(databaseUrl);
  const password = url.searchParams.get('password') ?? decodeURIComponent(url.password);
  url.password = '';
  url.searchParams.delete('password');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    PGAPPNAME: applicationName,
    PGCONNECT_TIMEOUT: '15',
    // idle_session_timeout is left out (older servers reject the name): a child is never idle outside a transaction
    PGOPTIONS: sessionOptions(),
    ...tlsEnvironment(databaseUrl),
  };
  if (password) env.PGPASSWORD = password;
  return { dbnameArg: url.toString(), database: decodeURIComponent(url.pathname.replace(/^\//, '')), env };
}

/** `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → 15. */
export function parseToolMajor(versionOutput: string): number | null {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(versionOutput);
  return match ? Number(match[1]) : null;
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes an SQL string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
