import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { EmailSender } from './email-sender';
import { NotificationService } from './notification.service';
import { WebhookSender } from './webhook-sender';

/** Webhooks (HMAC-signed) and e-mail for backup, restore, drill and schedule events. */
@Module({
  imports: [EventsModule],
  providers: [NotificationService, WebhookSender, EmailSender],
})
export class NotificationsModule {}
