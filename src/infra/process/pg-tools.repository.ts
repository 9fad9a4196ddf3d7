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
  /**
   * pg_restore writes `\restrict <key>` into its script and psql honours it, so an archive entry
   * cannot smuggle a psql meta-command (`\!` runs a shell: CVE-2025-8714). Required to restore a
   * dump this installation did not make.
   */
  restrict: boolean;
  /** `pg_restore (PostgreSQL) 15.18; psql (PostgreSQL) 15.18`, for messages. */
  restoreToolsVersion: string;
}

export interface ToolVersion {
  major: number;
  minor: number;
}

/** `psql (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → 15.18; `18beta1` → 18.0. */
export function parseToolVersion(versionOutput: string): ToolVersion | null {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(versionOutput);
  return match ? { major: Number(match[1]), minor: Number(match[2] ?? 0) } : null;
}

/** The first minor release of each branch with `\restrict`; every release from 18 on has it, none before 13. */
const RESTRICT_SINCE: Readonly<Record<number, number>> = { 13: 22, 14: 19, 15: 14, 16: 10, 17: 6 };

export function supportsRestrict(version: ToolVersion | null): boolean {
  if (!version) return false;
  if (version.major >= 18) return true;
  const since = RESTRICT_SINCE[version.major];
  return since !== undefined && version.minor >= since;
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
    const [pgRestoreVersion, psqlVersion] = await Promise.all(
      ['pg_restore', 'psql'].map((name) =>
        execFileAsync(tool(name), ['--version'], { timeout: 10_000 }).then(
          (result) => result.stdout.trim(),
          () => `${name}: not found`,
        ),
      ),
    );
    const tools: PgTools = {
      binDir,
      pgDump: tool('pg_dump'),
      pgRestore: tool('pg_restore'),
      psql: tool('psql'),
      pgDumpVersion: output,
      major,
      restrict: supportsRestrict(parseToolVersion(pgRestoreVersion)) && supportsRestrict(parseToolVersion(psqlVersion)),
      restoreToolsVersion: `${pgRestoreVersion}; ${psqlVersion}`,
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
