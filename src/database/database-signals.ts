import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { APPLICATION_NAME } from './data-source';

const RECONNECT_MS = 2000;

/** What instances tell each other. */
export type DatabaseSignal = { kind: 'config' } | { kind: 'cancel'; operationId: string };

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
    await this.client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new Client({ connectionString: this.options.databaseUrl, application_name: `${APPLICATION_NAME}:listen`, keepAlive: true });
    const reconnect = (error?: Error) => {
      if (this.stopped || this.client !== client) return;
      this.client = undefined;
      this.logger.warn(`listening connection lost${error ? `: ${error.message}` : ''}; reconnecting`);
      client.end().catch(() => undefined);
      setTimeout(() => void this.listen().catch((e: Error) => this.retryLater(e)), RECONNECT_MS).unref();
    };
    client.on('error', reconnect);
    client.on('end', () => reconnect());
    client.on('notification', (message) => {
      if (message.channel !== this.channel || !message.payload) return;
      const signal = JSON.parse(message.payload) as DatabaseSignal;
      for (const handler of this.handlers) handler(signal);
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch (error) {
      this.client = undefined;
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  private retryLater(error: Error): void {
    if (this.stopped) return;
    this.logger.warn(`cannot listen for signals: ${error.message}; retrying`);
    setTimeout(() => void this.listen().catch((e: Error) => this.retryLater(e)), RECONNECT_MS).unref();
  }
}
