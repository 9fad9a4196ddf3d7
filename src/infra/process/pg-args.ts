/** argv builders for the PostgreSQL tools; never a password (that goes in the environment). */

export type DumpCompression = 'gzip' | 'none';

export function pgDumpArgs(dbnameArg: string, excludeSchema: string, compression: DumpCompression): string[] {
  return [
    '--format=custom',
    `--compress=${compression === 'gzip' ? 6 : 0}`,
    '--no-password',
    `--exclude-schema=${excludeSchema}`,
    `--dbname=${dbnameArg}`,
  ];
}

/**
 * Turns a custom-format dump into one SQL script wrapped in BEGIN … COMMIT (no inner commits,
 * large objects included), for psql to run.
 */
export function pgRestoreScriptArgs(file: string): string[] {
  return ['--single-transaction', '--file=-', file];
}

export function pgRestoreListArgs(file: string): string[] {
  return ['--list', file];
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
