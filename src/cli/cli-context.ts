import { INestApplicationContext, LoggerService, LogLevel, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { inspect } from 'node:util';
import { newClient, openSession } from '../database/pg-client';
import { DataSource } from 'typeorm';
import { AppModule } from '../app.module';
import { AuditOutcome } from '../audit/audit-log.entity';
import { AuditService } from '../audit/audit.service';
import { serverOptions } from '../config/server-options';
import { validateEnvironment } from '../config/env.validation';
import { LockService } from '../lock/lock.service';
import { PG_BACKUP_CONNECTION, PgBackupOptions } from '../pg-backup.options';
import { CliError, ExitCode, usageError } from './exit-codes';
import { errorMessage } from './failures';
import { stderrLine } from './output';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug'];
const CONNECT_TIMEOUT_MS = 10_000;

/** What a command may change about the server's configuration, for this one invocation. */
export interface CliOverrides {
  /** `create --no-encrypt`: new backups are written unencrypted; existing ones still decrypt. */
  encrypt?: boolean;
}

export interface AuditedCall<T> {
  target?: string | null;
  detail?: Record<string, unknown>;
  /** The target known only from the result (a new backup's id). */
  targetOf?: (result: T) => string | null;
  /** False: the call returned, but what it ran failed. */
  ok?: (result: T) => boolean;
}

/**
 * The module's log on stderr, one plain line per message (stdout carries results and `--json`
 * documents): errors as `pg-backup: <message>`, the rest with their level and source.
 */
class CliLogger implements LoggerService {
  constructor(private readonly levels: LogLevel[]) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.print('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.print('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.print('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.print('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.print('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.print('fatal', message, rest);
  }

  private print(level: LogLevel, message: unknown, rest: unknown[]): void {
    if (!this.levels.includes(level)) return;
    const text = message instanceof Error ? message.message : typeof message === 'string' ? message : inspect(message);
    const context = typeof rest[rest.length - 1] === 'string' ? rest[rest.length - 1] : undefined;
    stderrLine(level === 'error' || level === 'fatal' ? `pg-backup: ${text}` : `pg-backup: ${level === 'warn' ? 'warning' : level}: ${context ? `[${context}] ` : ''}${text}`);
  }
}

/**
 * The server's options, from the same environment (validateEnvironment + serverOptions), with what
 * a one-shot process needs instead: an external database (DATABASE_URL is required, no embedded
 * cluster), no automation, no HTTP-only modules. No HTTP is served, so no JWT setting is needed:
 * a random secret satisfies the (never used) token strategy when none is configured.
 */
export function cliOptions(env: NodeJS.ProcessEnv, overrides: CliOverrides = {}): PgBackupOptions & { uiPath: false; healthPath: false; metricsPath: false } {
  const checked = validateEnvironment(env);
  if (!checked.DATABASE_URL) {
    throw usageError('DATABASE_URL must be set: the CLI works directly against the database the server uses (no embedded PostgreSQL)');
  }
  const options = serverOptions(checked, checked.DATABASE_URL, randomBytes(32).toString('hex'));
  const encryption =
    overrides.encrypt === false && options.encryption ? { recipients: [], identities: options.encryption.identities } : options.encryption;
  return { ...options, encryption, runSchedules: false, uiPath: false, healthPath: false, metricsPath: false };
}

/** `cli:<login>`: who the history and the audit log name as the actor. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:${process.env.USER ?? process.env.LOGNAME ?? 'unknown'}`;
  }
}

/** Log levels from LOG_LEVEL (as the server), warnings and errors by default. */
function logLevels(env: NodeJS.ProcessEnv): LogLevel[] {
  const level = (env.LOG_LEVEL ?? 'warn') as LogLevel;
  return LEVELS.slice(0, Math.max(LEVELS.indexOf(level), 1) + 1);
}

/**
 * The module in a Nest application context (no HTTP server): the same services, lock and
 * database as the server, for the length of one command.
 */
export class CliContext {
  readonly actor = cliActor();
  private closing?: Promise<void>;

  private constructor(
    readonly app: INestApplicationContext,
    readonly options: PgBackupOptions,
    /** The live database's name (as the server reports it: DATABASE_URL may leave it implicit). */
    readonly database: string,
  ) {}

  static async open(overrides: CliOverrides = {}, env: NodeJS.ProcessEnv = process.env): Promise<CliContext> {
    const options = cliOptions(env, overrides);
    const database = await checkConnection(options.databaseUrl);
    const logger = new CliLogger(logLevels(env));
    // no enableShutdownHooks(): close() runs the shutdown hooks, and the CLI handles signals itself
    const app = await NestFactory.createApplicationContext(AppModule.register(options), { logger });
    return new CliContext(app, options, database);
  }

  get<T>(type: Type<T>): T {
    return this.app.get(type, { strict: false });
  }

  get dataSource(): DataSource {
    return this.app.get<DataSource>(getDataSourceToken(PG_BACKUP_CONNECTION), { strict: false });
  }

  /** Bytes done of the operation holding the lock (this process's, while it runs one), for a progress display. */
  operationBytes(): () => Promise<number | null> {
    const lock = this.get(LockService);
    return async () => (await lock.current()).operation?.bytesDone ?? null;
  }

  /**
   * Runs `work` and records it in the audit log as the API's interceptor would, marked `via: cli`:
   * a failure when it throws or `ok` says so (a backup that ran and failed), a success otherwise.
   */
  async audited<T>(action: string, entry: AuditedCall<T>, work: () => Promise<T>): Promise<T> {
    const audit = this.get(AuditService);
    const base = { action, actor: this.actor };
    try {
      const result = await work();
      const outcome = entry.ok && !entry.ok(result) ? AuditOutcome.Failure : AuditOutcome.Success;
      const target = entry.targetOf?.(result) ?? entry.target ?? null;
      await audit.record({ ...base, outcome, target, detail: { via: 'cli', ...entry.detail } });
      return result;
    } catch (error) {
      await audit.record({ ...base, outcome: AuditOutcome.Failure, target: entry.target ?? null, detail: { via: 'cli', ...entry.detail, error: errorMessage(error) } });
      throw error;
    }
  }

  /** Stops whatever this process still runs (operations record themselves failed) and closes the connections; idempotent. */
  close(): Promise<void> {
    return (this.closing ??= this.app.close());
  }
}

/**
 * One quick connection first: a wrong URL or a database that is down fails at once, not after
 * TypeORM's retries. Returns the database's name.
 */
async function checkConnection(databaseUrl: string): Promise<string> {
  const client = newClient(databaseUrl, undefined, { connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await openSession(client);
    const { rows } = await client.query<{ database: string }>('SELECT current_database() AS database');
    return rows[0].database;
  } catch (error) {
    throw new CliError(`cannot connect to DATABASE_URL: ${(error as Error).message}`, ExitCode.Failure);
  } finally {
    await client.end().catch(() => undefined);
  }
}
