/** argv builders for the PostgreSQL tools; never a password (that goes in the environment). */

/** A name as a pg_dump pattern that matches it alone: double-quoted, so wildcards and case are literal. */
function literalPattern(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Custom format, uncompressed: compression runs in the stream, much faster than pg_dump's own zlib.
 * `lockWaitTimeoutMs` bounds pg_dump's wait for each table lock. `only`: just these tables
 * (`schema.table`, with their indexes, constraints, triggers and owned sequences) and schemas.
 */
export function pgDumpArgs(
  dbnameArg: string,
  excludeSchemas: readonly string[],
  snapshot?: string,
  lockWaitTimeoutMs?: number,
  only?: { tables: readonly string[]; schemas: readonly string[] },
): string[] {
  return [
    '--format=custom',
    '--compress=0',
    '--no-password',
    ...excludeSchemas.map((schema) => `--exclude-schema=${schema}`),
    ...(only?.tables ?? []).map((table) => `--table=${table.split('.').map(literalPattern).join('.')}`),
    ...(only?.schemas ?? []).map((schema) => `--schema=${literalPattern(schema)}`),
    ...(snapshot ? [`--snapshot=${snapshot}`] : []),
    ...(lockWaitTimeoutMs ? [`--lock-wait-timeout=${Math.ceil(lockWaitTimeoutMs)}`] : []),
    `--dbname=${dbnameArg}`,
  ];
}

/**
 * Turns a custom-format dump into one SQL script for psql to run. With `singleTransaction` it is
 * wrapped in BEGIN … COMMIT; without, it has no transaction statements at all unless the dump
 * holds large objects (pg_restore then brackets them in BEGIN … COMMIT of their own).
 * `noOwner`: no owners and no grants (default privileges included); `noTablespaces`: everything in the default tablespace;
 * `useList`: a file naming the entries to restore (a table, a schema).
 */
export function pgRestoreScriptArgs({
  singleTransaction,
  noOwner = false,
  noTablespaces = false,
  useList,
}: {
  singleTransaction: boolean;
  noOwner?: boolean;
  noTablespaces?: boolean;
  useList?: string;
}): string[] {
  return [
    ...(singleTransaction ? ['--single-transaction'] : []),
    ...(noOwner ? ['--no-owner', '--no-privileges'] : []),
    ...(noTablespaces ? ['--no-tablespaces'] : []),
    ...(useList ? [`--use-list=${useList}`] : []),
    '--file=-',
  ];
}

/** Reads the dump's table of contents from stdin. */
export function pgRestoreListArgs(): string[] {
  return ['--list'];
}

/**
 * psql reading a script on stdin; the first error stops it. Deliberately without
 * --single-transaction: psql would COMMIT at end of input, even input cut short. The script
 * carries its own BEGIN and COMMIT, and a script that ends early leaves the transaction open,
 * which the server rolls back when psql disconnects.
 */
export function psqlScriptArgs(dbnameArg: string): string[] {
  return ['--no-psqlrc', '--quiet', '--no-password', '--set=ON_ERROR_STOP=1', `--dbname=${dbnameArg}`];
}

/**
 * psql running, in one session and in order: `headSql` (which opens the transaction), the script
 * on stdin (pg_restore's stdout, handed over), `gateSql` (which waits for Node's word and fails
 * without it), then COMMIT. The first error stops psql, and the server rolls back.
 */
export function psqlDirectArgs(dbnameArg: string, headSql: string, gateSql: string): string[] {
  return [...psqlScriptArgs(dbnameArg), `--command=${headSql}`, '--file=-', `--command=${gateSql}`, '--command=COMMIT'];
}
