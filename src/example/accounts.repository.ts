import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PG_BACKUP_CONNECTION } from '../pg-backup.options';
import { Account, ACCOUNT_ROLES, AccountRole } from './account';

const COLUMNS = 'id, email, role, created_at AS "createdAt"';

/**
 * `public.app_accounts` in the backed-up database. A host app would use its own data source;
 * the demo borrows the module's, which points at that same database.
 */
@Injectable()
export class AccountsRepository implements OnModuleInit {
  constructor(@InjectDataSource(PG_BACKUP_CONNECTION) private readonly db: DataSource) {}

  async onModuleInit(): Promise<void> {
    await this.db.query(`
      CREATE TABLE IF NOT EXISTS public.app_accounts (
        id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        email text NOT NULL UNIQUE,
        role text NOT NULL CHECK (role IN (${ACCOUNT_ROLES.map((role) => `'${role}'`).join(', ')})),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  /** The new account, or null when the email is taken. */
  async insert(email: string, role: AccountRole): Promise<Account | null> {
    const rows: Account[] = await this.db.query(
      `INSERT INTO public.app_accounts (email, role) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING RETURNING ${COLUMNS}`,
      [email, role],
    );
    return rows[0] ?? null;
  }

  newest(limit: number): Promise<Account[]> {
    return this.db.query(`SELECT ${COLUMNS} FROM public.app_accounts ORDER BY created_at DESC, id DESC LIMIT $1`, [limit]);
  }
}
