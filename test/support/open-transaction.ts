import { Client } from 'pg';

/** A session of the test's own that ran `sql` in a transaction it leaves open, holding whatever that locked. */
export interface OpenTransaction {
  client: Client;
  pid: number;
  /** Rolls back and disconnects. */
  end(): Promise<void>;
}

export async function openTransaction(url: string, sql: string, { params = [], applicationName }: { params?: unknown[]; applicationName?: string } = {}): Promise<OpenTransaction> {
  const client = new Client({ connectionString: url, application_name: applicationName });
  client.on('error', () => undefined); // a test may terminate it on purpose
  await client.connect();
  await client.query('BEGIN');
  await client.query(sql, params);
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return {
    client,
    pid: rows[0].pid,
    end: async () => {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/** ACCESS EXCLUSIVE on `table`, idle in transaction: pg_dump waits on it until `end()`. */
export function blockTable(url: string, table: string, applicationName?: string): Promise<OpenTransaction> {
  return openTransaction(url, `LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`, { applicationName });
}
