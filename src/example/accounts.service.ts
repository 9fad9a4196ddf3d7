import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { Account, ACCOUNT_CREATED, AccountCreatedEvent, EmailTakenException } from './account';
import { AccountsRepository } from './accounts.repository';
import { CreateAccountDto } from './dto/create-account.dto';

const LIST_LIMIT = 50;

/** Knows nothing of backups: it announces `account.created`, and listeners decide what follows. */
@Injectable()
export class AccountsService {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly events: EventEmitter2,
  ) {}

  async create({ email, role }: CreateAccountDto): Promise<Account> {
    const account = await this.accounts.insert(email, role);
    if (!account) throw new EmailTakenException(email);
    this.events.emit(ACCOUNT_CREATED, { accountId: account.id, role: account.role } satisfies AccountCreatedEvent);
    return account;
  }

  list(): Promise<Account[]> {
    return this.accounts.newest(LIST_LIMIT);
  }
}
