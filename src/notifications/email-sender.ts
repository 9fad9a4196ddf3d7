import { Injectable, Logger } from '@nestjs/common';
import type { Transporter } from 'nodemailer';
import type { EmailNotifications } from '../pg-backup.options';
import type { Notification } from './notification';

/** Sends notifications as plain-text mail over SMTP; never throws. */
@Injectable()
export class EmailSender {
  private readonly logger = new Logger(EmailSender.name);

  /** Subject `[pg-backup] <event>: <database>`. Resolves true once the server accepted the mail. */
  async send(email: EmailNotifications, notification: Notification, database: string): Promise<boolean> {
    let transport: Transporter | undefined;
    try {
      // loaded on first use: most deployments send no mail, and it weighs ~3 MB of memory
      const { createTransport } = await import('nodemailer');
      transport = createTransport(email.smtpUrl);
      await transport.sendMail({
        from: email.from,
        to: email.to,
        subject: `[pg-backup] ${notification.event}: ${database}`,
        text: plainText(notification),
      });
      return true;
    } catch (error) {
      this.logger.error(`e-mail ${notification.event} to ${email.to.join(', ')} failed: ${(error as Error).message}`);
      return false;
    } finally {
      transport?.close();
    }
  }
}

/** `key: value` lines; nested values (a drill's tables) as indented JSON. */
function plainText({ event, at, data }: Notification): string {
  const lines = Object.entries({ event, at, ...data }).map(([key, value]) =>
    `${key}: ${value !== null && typeof value === 'object' ? JSON.stringify(value, null, 2) : String(value)}`,
  );
  return `${lines.join('\n')}\n`;
}
