import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { BackupTrigger } from '../automation/backup-trigger';
import { ACCOUNT_CREATED, AccountCreatedEvent } from './account';

/** Each new account asks for a backup; BackupTrigger turns a burst of them into one. */
@Injectable()
export class AccountBackupListener {
  constructor(private readonly trigger: BackupTrigger) {}

  // request() returns at once and never throws, so the POST is neither delayed nor failed by it.
  @OnEvent(ACCOUNT_CREATED)
  onAccountCreated({ accountId, role }: AccountCreatedEvent): void {
    this.trigger.request({ reason: 'role_creation', detail: { role, accountId } });
  }
}
