import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net';

const isRoot = process.getuid?.() === 0;

export interface TestPostgres {
  port: number;
  password?: string;
  /** With `ssl`: the server's self-signed certificate (for sslrootcert), for CN and IP 127.0.0.1. */
  caFile?: string;
  url(database: string, user?: string, password?: string): string;
  psql(sql: string, database?: string): string;
  stop(): void;
}

export function pgBinDir(): string {
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    const root = '/usr/lib/postgresql';
    const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
    if (!versions.length) throw new Error('PostgreSQL server binaries not found (apt-get install postgresql)');
    return join(root, versions[0], 'bin');
  }
}

function asPostgres(command: string, args: string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

/**
 * A throwaway cluster on a free port (initdb + pg_ctl, as `postgres` when root). `ssl`: TLS on, and a
 * pg_hba.conf with `hostssl` lines only (no TCP connection in clear); `settings` are extra `-c name=value`.
 */
export async function startPostgres(options: { password?: string; ssl?: boolean; settings?: Record<string, string | number> } = {}): Promise<TestPostgres> {
  const bin = pgBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'pgb-test-pg-'));
  chmodSync(dir, 0o700);
  const pgUid = isRoot ? Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })) : 0;
  if (isRoot) chownSync(dir, pgUid, Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
  const port = await freePort();
  const data = join(dir, 'data');
  const run = (command: string, args: string[]) => {
    const [c, a] = asPostgres(join(bin, command), args);
    const result = spawnSync(c, a, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr || result.stdout}`);
  };
  const auth = ['-A', 'trust'];
  if (options.password) {
    const pwfile = join(dir, 'pw');
    writeFileSync(pwfile, `${options.password}\n`);
    if (isRoot) chownSync(pwfile, pgUid, 0);
    auth.splice(0, 2, '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`);
  }
  run('initdb', ['-D', data, ...auth, '-U', 'postgres', '--no-sync']);
  let ssl = '';
  const caFile = options.ssl ? join(dir, 'server.crt') : undefined;
  if (caFile) {
    const key = join(dir, 'server.key');
    const hba = join(dir, 'hba.conf');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', caFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    writeFileSync(hba, `local all all trust\nhostssl all all 127.0.0.1/32 ${options.password ? 'scram-sha-256' : 'trust'}\n`);
    chmodSync(key, 0o600);
    if (isRoot) for (const file of [key, caFile, hba]) chownSync(file, pgUid, 0);
    ssl = ` -c ssl=on -c ssl_cert_file=${caFile} -c ssl_key_file=${key} -c hba_file=${hba}`;
  }
  run('pg_ctl', [
    '-D', data, '-l', join(dir, 'log'), '-w',
    '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100${ssl}${settingArgs(options.settings)}`, 'start',
  ]);
  return {
    port,
    password: options.password,
    caFile,
    url: (database, user = 'postgres', password = options.password ?? '') =>
      `postgres://${user}${password ? `:${encodeURIComponent(password)}` : ''}@127.0.0.1:${port}/${database}`,
    psql(sql, database = 'postgres') {
      const result = spawnSync(
        join(bin, 'psql'),
        ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-F', '|'],
        { input: sql, encoding: 'utf8', env: { ...process.env, PGPASSWORD: options.password ?? '' } },
      );
      if (result.status !== 0) throw new Error(`psql: ${result.stderr}`);
      return result.stdout.trim();
    },
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      } catch {
        // already down
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function settingArgs(settings: Record<string, string | number> = {}): string {
  return Object.entries(settings).map(([name, value]) => ` -c ${name}=${value}`).join('');
}
