/** argv builders for the PostgreSQL tools; never a password (that goes in the environment). */

/** Custom format, uncompressed: compression runs in the stream, much faster than pg_dump's own zlib. */
export function pgDumpArgs(dbnameArg: string, excludeSchema: string, snapshot?: string): string[] {
  return [
    '--format=custom',
    '--compress=0',
    '--no-password',
    `--exclude-schema=${excludeSchema}`,
    ...(snapshot ? [`--snapshot=${snapshot}`] : []),
    `--dbname=${dbnameArg}`,
  ];
}

/**
 * Turns a custom-format dump into one SQL script wrapped in BEGIN … COMMIT (no inner commits,
 * large objects included), for psql to run.
 */
export function pgRestoreScriptArgs(): string[] {
  return ['--single-transaction', '--file=-'];
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
