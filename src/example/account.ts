import { ConflictException } from '@nestjs/common';

export const ACCOUNT_ROLES = ['student', 'instructor', 'admin'] as const;
export type AccountRole = (typeof ACCOUNT_ROLES)[number];

export interface Account {
  id: number;
  email: string;
  role: AccountRole;
  createdAt: Date;
}

/** The host's own domain event, emitted once the account row is committed. */
export const ACCOUNT_CREATED = 'account.created';

export interface AccountCreatedEvent {
  accountId: number;
  role: AccountRole;
}

export class EmailTakenException extends ConflictException {
  constructor(email: string) {
    super(`an account with email ${email} already exists`);
  }
}
