import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Client, ClientConfig } from 'pg';

/**
 * TCP keepalive, both ends: a connection whose peer vanished (a lost advisory lock, a dead
 * instance still holding one) is noticed in about 20 s, not after the OS default of 2 h.
 * Node probes every second, 10 times, after KEEPALIVE_IDLE_S; the server as set below.
 */
const KEEPALIVE_IDLE_S = 10;
const SERVER_KEEPALIVES = { tcp_keepalives_idle: KEEPALIVE_IDLE_S, tcp_keepalives_interval: 2, tcp_keepalives_count: 5 };

/**
 * What every session of the module (its pool, its dedicated connections, pg_dump/pg_restore/psql)
 * starts with. Startup options override role- and database-level settings, so an
 * `ALTER ROLE … SET statement_timeout` cannot end a lock, a dump or a restore half-way. No
 * statement timeout: long statements are the job (a dump, a restore's wipe, DROP DATABASE of a
 * drill's copy, migrations of big tables), and the operations bound themselves (cancel, watchdog).
 * idle_session_timeout (PostgreSQL 14+) is set by `openSession`: older servers reject the name.
 */
export function sessionOptions({ idleSessionTimeout = false } = {}): string {
  const settings: Record<string, string | number> = {
    statement_timeout: 0,
    lock_timeout: 0,
    idle_in_transaction_session_timeout: 0,
    ...SERVER_KEEPALIVES,
  };
  if (idleSessionTimeout) settings.idle_session_timeout = 0;
  return Object.entries(settings)
    .map(([name, value]) => `-c ${name}=${value}`)
    .join(' ');
}

/** libpq's TLS parameters, from the URL's query or else the PGSSL* environment, as libpq reads them. */
export interface PgTlsSettings {
  sslmode?: string;
  sslrootcert?: string;
  sslcert?: string;
  sslkey?: string;
  sslcrl?: string;
}

const TLS_ENV: Record<keyof PgTlsSettings, string> = {
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  sslcrl: 'PGSSLCRL',
};

export function tlsSettings(databaseUrl: string, env: NodeJS.ProcessEnv = process.env): PgTlsSettings {
  const query = new URL(databaseUrl).searchParams;
  const settings: PgTlsSettings = {};
  for (const [param, variable] of Object.entries(TLS_ENV) as [keyof PgTlsSettings, string][]) {
    const value = query.get(param) ?? env[variable];
    if (value) settings[param] = value;
  }
  return settings;
}

/** The same settings as environment variables for a libpq child (the URL's query wins over them in libpq, as here). */
export function tlsEnvironment(databaseUrl: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const settings = tlsSettings(databaseUrl, env);
  const result: NodeJS.ProcessEnv = {};
  for (const [param, variable] of Object.entries(TLS_ENV) as [keyof PgTlsSettings, string][]) {
    if (settings[param]) result[variable] = settings[param];
  }
  return result;
}

/**
 * node-pg's `ssl` with libpq's meaning of each sslmode (node-pg's own URL parsing treats
 * `require` as `verify-full`, and ignores PGSSLROOTCERT). `prefer`/`allow` connect in clear:
 * node-pg cannot fall back as libpq does.
 */
export function nodeTls({ sslmode, sslrootcert, sslcert, sslkey, sslcrl }: PgTlsSettings): false | ConnectionOptions {
  if (!sslmode || ['disable', 'allow', 'prefer'].includes(sslmode)) return false;
  const ca = sslrootcert && sslrootcert !== 'system' ? readFileSync(sslrootcert) : undefined;
  const tls: ConnectionOptions = {
    ...(sslcert ? { cert: readFileSync(sslcert) } : {}),
    ...(sslkey ? { key: readFileSync(sslkey) } : {}),
    ...(sslcrl ? { crl: readFileSync(sslcrl) } : {}),
  };
  // libpq: `require` with a root certificate given verifies the chain, as verify-ca does
  if (sslmode === 'require' && !ca) return { ...tls, rejectUnauthorized: false };
  if (sslmode === 'verify-full') return { ...tls, ca, rejectUnauthorized: true };
  return { ...tls, ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
}

/** The URL node-pg gets: TLS comes from `nodeTls`, never from node-pg's parse of the query. */
function withoutTlsParams(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  for (const param of [...Object.keys(TLS_ENV), 'uselibpqcompat', 'sslpassword', 'sslnegotiation']) url.searchParams.delete(param);
  return url.toString();
}

/** Connection settings for node-pg, a Client or the TypeORM pool: TLS, session settings, keepalive. */
export function pgClientConfig(databaseUrl: string, applicationName?: string, { idleSessionTimeout = false } = {}): ClientConfig {
  return {
    connectionString: withoutTlsParams(databaseUrl),
    ...(applicationName ? { application_name: applicationName } : {}),
    ssl: nodeTls(tlsSettings(databaseUrl)),
    options: sessionOptions({ idleSessionTimeout }),
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_S * 1000,
  };
}

/** A Client with the module's session settings; attach listeners, then `openSession` it. */
export function newClient(databaseUrl: string, applicationName?: string, extra: Partial<ClientConfig> = {}): Client {
  return new Client({ ...pgClientConfig(databaseUrl, applicationName), ...extra });
}

/**
 * Connects and turns idle_session_timeout off where the server has it (a role-level one would end
 * an idle lock connection, and the lock with it). Returns whether it has it.
 */
export async function openSession(client: Client): Promise<boolean> {
  await client.connect();
  const { rows } = await client.query(`SELECT set_config(name, '0', false) FROM pg_settings WHERE name = 'idle_session_timeout'`);
  return rows.length > 0;
}
