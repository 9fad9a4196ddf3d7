import { Inject, Injectable } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PgToolsException } from '../../common/exceptions';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../../pg-backup.options';
import { parseToolMajor } from './pg-connection';

const execFileAsync = promisify(execFile);
const DEBIAN_ROOT = '/usr/lib/postgresql';

export interface PgTools {
  binDir: string | null;
  pgDump: string;
  pgRestore: string;
  psql: string;
  /** e.g. `pg_dump (PostgreSQL) 15.18` */
  pgDumpVersion: string;
  major: number;
}

/** Finds pg_dump/pg_restore/psql of at least the server's major version. */
@Injectable()
export class PgToolsRepository {
  private readonly cache = new Map<number, PgTools>();

  constructor(@Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions) {}

  async forServer(serverMajor: number): Promise<PgTools> {
    const cached = this.cache.get(serverMajor);
    if (cached) return cached;
    const binDir = this.options.pgBinDir ?? this.pickDebianBinDir(serverMajor);
    const tool = (name: string) => (binDir ? join(binDir, name) : name);
    let output: string;
    try {
      output = (await execFileAsync(tool('pg_dump'), ['--version'], { timeout: 10_000 })).stdout.trim();
    } catch {
      throw new PgToolsException(
        `pg_dump not found${binDir ? ` in ${binDir}` : ' on PATH'}; install the PostgreSQL ${serverMajor} client (apt-get install postgresql-client-${serverMajor}) or set PG_BIN_DIR`,
      );
    }
    const major = parseToolMajor(output);
    if (major === null) throw new PgToolsException(`cannot read the version of ${tool('pg_dump')}: "${output}"`);
    if (major < serverMajor) {
      throw new PgToolsException(
        `${tool('pg_dump')} is version ${major} but the server is PostgreSQL ${serverMajor}; pg_dump must be at least the server's major version (install postgresql-client-${serverMajor} or set PG_BIN_DIR)`,
      );
    }
    const tools: PgTools = {
      binDir,
      pgDump: tool('pg_dump'),
      pgRestore: tool('pg_restore'),
      psql: tool('psql'),
      pgDumpVersion: output,
      major,
    };
    this.cache.set(serverMajor, tools);
    return tools;
  }

  /** With several Debian installs, the server's own major, or else the newest one above it. */
  private pickDebianBinDir(serverMajor: number): string | null {
    if (!existsSync(DEBIAN_ROOT)) return null;
    const majors = readdirSync(DEBIAN_ROOT)
      .map(Number)
      .filter((m) => Number.isInteger(m) && existsSync(join(DEBIAN_ROOT, String(m), 'bin', 'pg_dump')))
      .sort((a, b) => a - b);
    const chosen = majors.find((m) => m === serverMajor) ?? majors.filter((m) => m > serverMajor).pop();
    return chosen === undefined ? null : join(DEBIAN_ROOT, String(chosen), 'bin');
  }
}
