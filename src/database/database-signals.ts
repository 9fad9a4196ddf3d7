import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { APPLICATION_NAME } from './data-source';
import { newClient, openSession } from './pg-client';

const RECONNECT_MS = 2000;
/** A burst of one kind of signal reaches the handlers at most once per this, plus once after it. */
const THROTTLE_MS = 250;
/** At most one warning about unrecognised payloads per this. */
const IGNORED_LOG_MS = 60_000;

/**
 * What instances tell each other. Any role that can log in can NOTIFY on the channel, so a
 * signal carries no power: it only makes the receivers re-read state from the module's tables,
 * which only the module's role can write (the config, a cancel request on the lock row).
 */
export type DatabaseSignal = { kind: 'config' } | { kind: 'cancel' };
const KINDS: readonly DatabaseSignal['kind'][] = ['config', 'cancel'];

/** The signal a NOTIFY payload names, or null for anything else (never throws). */
export function parseSignal(payload: string): DatabaseSignal | null {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  const kind = value !== null && typeof value === 'object' ? (value as { kind?: unknown }).kind : undefined;
  return KINDS.find((k) => k === kind) ? ({ kind } as DatabaseSignal) : null;
}

/**
 * PostgreSQL LISTEN/NOTIFY between every instance on the database: a config change or a cancel
 * request reaches all of them within milliseconds. One dedicated listening connection per
 * instance, reconnected when it breaks; callers keep a periodic fallback for the gaps.
 */
@Injectable()
export class DatabaseSignals implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseSignals.name);
  private readonly channel: string;
  private readonly handlers: ((signal: DatabaseSignal) => void)[] = [];
  private client?: Client;
  private stopped = false;
  private readonly throttled = new Map<DatabaseSignal['kind'], { again: boolean; timer: NodeJS.Timeout }>();
  private ignored = 0;
  private ignoredLoggedAt = 0;

  constructor(
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    @InjectDataSource(PG_BACKUP_CONNECTION) private readonly dataSource: DataSource,
  ) {
    this.channel = `pg_backup.${options.schema}`;
  }

  onSignal(handler: (signal: DatabaseSignal) => void): void {
    this.handlers.push(handler);
  }

  async send(signal: DatabaseSignal): Promise<void> {
    await this.dataSource.query('SELECT pg_notify($1, $2)', [this.channel, JSON.stringify(signal)]);
  }

  async onModuleInit(): Promise<void> {
    await this.listen();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const { timer } of this.throttled.values()) clearTimeout(timer);
    await this.client?.end().catch(() => undefined);
  }

  /**
   * After a reconnect every kind is delivered once: a signal sent while the connection was down
   * is lost, and re-reading the state it points to is all any signal does.
   */
  private async listen(reconnecting = false): Promise<void> {
    const client = newClient(this.options.databaseUrl, `${APPLICATION_NAME}:listen`);
    const reconnect = (error?: Error) => {
      if (this.stopped || this.client !== client) return;
      this.client = undefined;
      this.logger.warn(`listening connection lost${error ? `: ${error.message}` : ''}; reconnecting`);
      client.end().catch(() => undefined);
      setTimeout(() => void this.listen(true).catch((e: Error) => this.retryLater(e)), RECONNECT_MS).unref();
    };
    client.on('error', reconnect);
    client.on('end', () => reconnect());
    client.on('notification', (message) => {
      if (message.channel !== this.channel) return;
      const signal = parseSignal(message.payload ?? '');
      if (signal) this.deliver(signal);
      else this.ignore(message.payload ?? '');
    });
    this.client = client;
    try {
      await openSession(client);
      await client.query(`LISTEN "${this.channel}"`);
    } catch (error) {
      this.client = undefined;
      await client.end().catch(() => undefined);
      throw error;
    }
    if (reconnecting) for (const kind of KINDS) this.deliver({ kind });
  }

  /** Throttled per kind: a flood of NOTIFYs costs one re-read per THROTTLE_MS, and the last one is never dropped. */
  private deliver(signal: DatabaseSignal): void {
    const pending = this.throttled.get(signal.kind);
    if (pending) {
      pending.again = true;
      return;
    }
    const state = {
      again: false,
      timer: setTimeout(() => {
        this.throttled.delete(signal.kind);
        if (state.again) this.deliver(signal);
      }, THROTTLE_MS),
    };
    state.timer.unref();
    this.throttled.set(signal.kind, state);
    for (const handler of this.handlers) {
      try {
        handler(signal);
      } catch (error) {
        this.logger.error(`${signal.kind} signal handler failed: ${(error as Error).message}`);
      }
    }
  }

  private ignore(payload: string): void {
    this.ignored++;
    const now = Date.now();
    if (now - this.ignoredLoggedAt < IGNORED_LOG_MS) return;
    this.logger.warn(
      `ignored ${this.ignored} unrecognised notification(s) on ${this.channel} (any database role can send them); latest: ${JSON.stringify(payload.slice(0, 80))}`,
    );
    this.ignored = 0;
    this.ignoredLoggedAt = now;
  }

  private retryLater(error: Error): void {
    if (this.stopped) return;
    this.logger.warn(`cannot listen for signals: ${error.message}; retrying`);
    setTimeout(() => void this.listen(true).catch((e: Error) => this.retryLater(e)), RECONNECT_MS).unref();
  }
}
