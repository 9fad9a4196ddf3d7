import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { BACKUP_EVENT_NAMES, BackupEventMap, BackupEventName, BackupEvents } from '../events/backup-events';
import { PG_BACKUP_OPTIONS, PgBackupOptions } from '../pg-backup.options';
import { EmailSender } from './email-sender';
import { notifies, toNotification } from './notification';
import { WebhookSender } from './webhook-sender';

/** Sends each event to the webhooks and the mailbox that want it, in the background. */
@Injectable()
export class NotificationService implements OnModuleInit {
  constructor(
    @Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions,
    private readonly events: BackupEvents,
    private readonly webhooks: WebhookSender,
    private readonly email: EmailSender,
  ) {}

  onModuleInit(): void {
    for (const event of BACKUP_EVENT_NAMES) this.events.on(event, (payload) => this.notify(event, payload));
  }

  /** Starts the deliveries and returns at once: the senders never throw, and the emitter never waits. */
  private notify<E extends BackupEventName>(event: E, payload: BackupEventMap[E]): void {
    const { webhooks = [], email } = this.options.notifications ?? {};
    const targets = webhooks.filter((target) => notifies(target.events, event));
    const mail = email && notifies(email.events, event) ? email : undefined;
    if (!targets.length && !mail) return;
    const notification = toNotification(event, payload);
    for (const target of targets) void this.webhooks.deliver(target, notification);
    if (mail) void this.email.send(mail, notification, databaseName(this.options.databaseUrl));
  }
}

function databaseName(databaseUrl: string): string {
  return decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
}
