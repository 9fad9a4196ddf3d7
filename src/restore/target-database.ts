import { Inject, Injectable } from '@nestjs/common';
import { RestoreTargetConflictException } from '../common/exceptions';
import { APPLICATION_NAME } from '../database/data-source';
import { DatabaseInfoRepository } from '../database/database-info.repository';
import { newClient, openSession } from '../database/pg-client';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { withDatabase } from './restore-runner.service';

/**
 * Another database of the same server a restore goes into, the live one untouched: created
 * (template0, the live database's encoding and locale) when missing; an existing one must be
 * empty, and neither the live database, a template, nor one holding an installation of this module.
 */
@Injectable()
export class TargetDatabases {
  constructor(
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    private readonly database: DatabaseInfoRepository,
  ) {}

  /** Refuses (409) a database the restore cannot go into; says whether it exists. */
  async check(name: string): Promise<{ exists: boolean }> {
    const live = (await this.database.server()).database;
    if (name === live) throw new RestoreTargetConflictException(`target.database names the live database ${name}; leave target out to restore over it`);
    const state = await this.database.databaseState(name);
    if (!state.exists) return { exists: false };
    if (state.template) throw new RestoreTargetConflictException(`${name} is a template database; restore into another one`);
    const { relations, installations } = await this.inspect(name);
    if (installations.length) {
      throw new RestoreTargetConflictException(`database ${name} holds another installation of this module (schema ${installations.join(', ')}); restore into a new or empty database`);
    }
    if (relations > 0) {
      throw new RestoreTargetConflictException(`database ${name} already exists and holds ${relations} user tables, views or sequences; restore into a new or empty database`);
    }
    return { exists: true };
  }

  create(name: string): Promise<void> {
    return this.database.createScratchDatabase(name);
  }

  drop(name: string): Promise<void> {
    return this.database.dropDatabase(name);
  }

  private async inspect(name: string): Promise<{ relations: number; installations: string[] }> {
    const client = newClient(withDatabase(this.options.databaseUrl, name), `${APPLICATION_NAME}:target`);
    client.on('error', () => undefined);
    try {
      await openSession(client);
      const { rows } = await client.query<{ relations: string; installations: string[] }>(
        `SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
                    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%') AS relations,
                ARRAY(SELECT n.nspname FROM pg_namespace n
                       WHERE (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p')
                                AND c.relname IN ('backup_history', 'restore_history', 'operation_lock')) = 3 ORDER BY 1)::text[] AS installations`,
      );
      return { relations: Number(rows[0].relations), installations: rows[0].installations };
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
