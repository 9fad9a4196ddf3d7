import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { APPLICATION_NAME } from '../database/data-source';
import { newClient, openSession } from '../database/pg-client';
import { PG_BACKUP_CONNECTION, PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { AdvisoryLockKey } from './lock.constants';

export interface HeldAdvisoryLock {
  /** Backend pid of the dedicated connection that holds the lock. */
  readonly pid: number;
  /** Aborted when the dedicated connection breaks, and with it the lock. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

/**
 * Session-level advisory locks, each on a dedicated connection of its own (never a pooled one
 * that could be handed to other work): the lock lives exactly as long as that connection.
 */
@Injectable()
export class AdvisoryLockRepository {
  constructor(
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    @InjectDataSource(PG_BACKUP_CONNECTION) private readonly dataSource: DataSource,
  ) {}

  async tryAcquire(key: AdvisoryLockKey): Promise<HeldAdvisoryLock | null> {
    const client = await this.connect();
    try {
      const [row] = (
        await client.query('SELECT pg_try_advisory_lock($1, $2) AS ok, pg_backend_pid() AS pid', [key.classId, key.objectId])
      ).rows;
      if (!row.ok) {
        await client.end();
        return null;
      }
      return this.held(client, key, row.pid);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  /** Waits for the lock (used for migrations at start). */
  async acquire(key: AdvisoryLockKey): Promise<HeldAdvisoryLock> {
    const client = await this.connect();
    try {
      const [row] = (await client.query('SELECT pg_advisory_lock($1, $2), pg_backend_pid() AS pid', [key.classId, key.objectId])).rows;
      return this.held(client, key, row.pid);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  /** The backend pid holding the lock in this database, from any instance, or null. */
  async holderPid(key: AdvisoryLockKey): Promise<number | null> {
    const rows: { pid: number }[] = await this.dataSource.query(
      `SELECT pid FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND classid = $1 AND objid = $2 AND objsubid = 2
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [key.classId, key.objectId],
    );
    return rows.length ? rows[0].pid : null;
  }

  private async connect(): Promise<Client> {
    const client = newClient(this.options.databaseUrl, `${APPLICATION_NAME}:lock`);
    client.on('error', () => undefined); // surfaced through `lost`
    try {
      await openSession(client);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }

  private held(client: Client, key: AdvisoryLockKey, pid: number): HeldAdvisoryLock {
    const lost = new AbortController();
    let released = false;
    const onBroken = (error?: Error) => {
      if (!released) lost.abort(new Error(`lost the connection holding the operation lock${error ? `: ${error.message}` : ''}`));
    };
    client.on('error', onBroken);
    client.on('end', () => onBroken());
    return {
      pid,
      lost: lost.signal,
      release: async () => {
        if (released) return;
        released = true;
        try {
          await client.query('SELECT pg_advisory_unlock($1, $2)', [key.classId, key.objectId]);
        } catch {
          // a broken connection has released the lock already
        } finally {
          await client.end().catch(() => undefined);
        }
      },
    };
  }
}
