import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { SAMPLE_DATABASE, SAMPLE_SQL } from './sample-database';

/** The embedded cluster cannot run here; the message says what to do. */
export class EmbeddedPostgresError extends Error {}

/**
 * A local PostgreSQL cluster for `npm start` without DATABASE_URL: created once under `root`
 * from the system's binaries (as the `postgres` user when run as root), trust auth on 127.0.0.1 only.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly root: string,
    private readonly binDir: string,
    readonly port: number,
  ) {}

  static async start(root: string): Promise<EmbeddedPostgres> {
    const binDir = findServerBinDir();
    mkdirSync(root, { recursive: true, mode: 0o700 });
    chmodSync(root, 0o700);
    if (isRoot()) {
      chownSync(root, postgresUid(), postgresGid());
      const reachable = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', root]).status === 0;
      if (!reachable) {
        throw new EmbeddedPostgresError(
          `PostgreSQL runs as the postgres user, which cannot reach ${root}: make its parent directories traversable (chmod o+x) or set DATABASE_URL`,
        );
      }
    }
    const dataDir = join(root, 'data');
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      run(join(binDir, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8']);
    }
    const runningPort = readRunningPort(dataDir, binDir);
    const port = runningPort ?? (await freePort());
    if (runningPort === null) {
      run(join(binDir, 'pg_ctl'), [
        '-D', dataDir, '-l', join(root, 'postgres.log'), '-w', '-t', '60',
        '-o', `-p ${port} -k ${root} -c listen_addresses=127.0.0.1`, 'start',
      ]);
    }
    const pg = new EmbeddedPostgres(root, binDir, port);
    pg.ensureSampleDatabase();
    return pg;
  }

  url(database = SAMPLE_DATABASE): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** A development JWT secret kept beside the cluster, so tokens survive restarts. */
  devSecret(): string {
    const file = join(this.root, 'dev-jwt-secret');
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    return readFileSync(file, 'utf8').trim();
  }

  stop(): void {
    spawnSync(...asPostgres(join(this.binDir, 'pg_ctl'), ['-D', join(this.root, 'data'), '-m', 'fast', '-w', 'stop']), { stdio: 'ignore' });
  }

  private ensureSampleDatabase(): void {
    const exists = this.psql('postgres', `SELECT 1 FROM pg_database WHERE datname = '${SAMPLE_DATABASE}'`).trim() === '1';
    if (exists) return;
    this.psql('postgres', `CREATE DATABASE ${SAMPLE_DATABASE}`);
    this.psql(SAMPLE_DATABASE, SAMPLE_SQL);
  }

  private psql(database: string, sql: string): string {
    return execFileSync(
      join(this.binDir, 'psql'),
      ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-d', database],
      { input: sql, encoding: 'utf8' },
    );
  }
}

function findServerBinDir(): string {
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    // no pg_config on PATH
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    for (const major of readdirSync(debian).sort((a, b) => Number(b) - Number(a))) candidates.push(join(debian, major, 'bin'));
  }
  const found = candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  if (!found) {
    throw new EmbeddedPostgresError(
      'PostgreSQL server binaries (initdb, pg_ctl) not found: install them (Debian/Ubuntu: apt-get install postgresql postgresql-client) or set DATABASE_URL',
    );
  }
  return found;
}

/** The port of a cluster already running on this data directory, if any. */
function readRunningPort(dataDir: string, binDir: string): number | null {
  const status = spawnSync(...asPostgres(join(binDir, 'pg_ctl'), ['-D', dataDir, 'status']), { encoding: 'utf8' });
  if (status.status !== 0) return null;
  const pidFile = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  return Number(pidFile[3]) || null;
}

function run(command: string, args: string[]): void {
  const result = spawnSync(...asPostgres(command, args), { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function postgresUid(): number {
  return Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
}

function postgresGid(): number {
  return Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
}

/** PostgreSQL refuses to run as root: run its tools as the `postgres` user then. */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
    server.on('error', reject);
  });
}
