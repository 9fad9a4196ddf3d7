import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { createHmac, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebhookTarget } from '../pg-backup.options';
import type { Notification } from './notification';

/** Optional provider: the first retry delay in ms (default 1000); each further retry waits twice as long. */
export const WEBHOOK_RETRY_BASE_MS = 'PG_BACKUP:WEBHOOK_RETRY_BASE_MS';

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRIES = 3;

/** `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, as Stripe signs: receivers can reject stale timestamps. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The headers of one delivery of `body`: JSON, the event, the delivery id, the time and, with a secret, its signature. */
export function webhookHeaders(event: string, deliveryId: string, body: string, secret?: string): Record<string, string> {
  const timestamp = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'nestjs-pg-backup',
    'X-PgBackup-Event': event,
    'X-PgBackup-Delivery': deliveryId,
    'X-PgBackup-Timestamp': String(timestamp),
  };
  if (secret) headers['X-PgBackup-Signature'] = webhookSignature(secret, timestamp, body);
  return headers;
}

interface Delivery {
  url: URL;
  event: string;
  /** The same on every attempt, so receivers can drop duplicates. */
  id: string;
  body: string;
  secret?: string;
  /** From credentials in the URL, which fetch refuses to send itself. */
  authorization?: string;
  timeoutMs: number;
}

interface Attempt {
  ok: boolean;
  retryable: boolean;
  reason: string;
}

/** POSTs signed notifications, retrying with exponential backoff; never throws. */
@Injectable()
export class WebhookSender {
  private readonly logger = new Logger(WebhookSender.name);

  constructor(@Optional() @Inject(WEBHOOK_RETRY_BASE_MS) private readonly retryBaseMs: number = 1000) {}

  /** Resolves true once the receiver answers 2xx, false when it gives up. */
  async deliver(target: WebhookTarget, notification: Notification): Promise<boolean> {
    if (!URL.canParse(target.url)) {
      this.logger.error(`webhook ${notification.event}: target is not a URL, nothing sent`);
      return false;
    }
    const url = new URL(target.url);
    const authorization = url.username || url.password ? basicAuth(url) : undefined;
    url.username = url.password = '';
    const id = randomUUID();
    const delivery: Delivery = {
      url,
      event: notification.event,
      id,
      body: JSON.stringify({ id, ...notification }),
      secret: target.secret,
      authorization,
      timeoutMs: target.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    };
    // Logged without credentials, query or fragment
    const where = `webhook ${notification.event} → ${url.origin}${url.pathname}`;
    const attempts = 1 + (target.retries ?? DEFAULT_RETRIES);
    for (let attempt = 1; ; attempt++) {
      const { ok, retryable, reason } = await this.post(delivery);
      if (ok) return true;
      if (!retryable || attempt >= attempts) {
        this.logger.error(`${where} failed after ${attempt} attempt(s): ${reason}`);
        return false;
      }
      const delayMs = this.retryBaseMs * 2 ** (attempt - 1);
      this.logger.warn(`${where} attempt ${attempt} failed (${reason}); retrying in ${delayMs} ms`);
      await sleep(delayMs);
    }
  }

  private async post({ url, event, id, body, secret, authorization, timeoutMs }: Delivery): Promise<Attempt> {
    const headers = webhookHeaders(event, id, body, secret);
    if (authorization) headers.authorization = authorization;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        // Following a redirect would send the signed body elsewhere: it counts as a failed delivery.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel().catch(() => undefined);
      const { status } = response;
      return { ok: status >= 200 && status < 300, retryable: status >= 500 || status === 408 || status === 429, reason: `HTTP ${status}` };
    } catch (error) {
      // Refused, reset, DNS, or AbortSignal.timeout's TimeoutError: all worth another try
      const { message, cause } = error as Error & { cause?: Error };
      return { ok: false, retryable: true, reason: cause?.message ?? message };
    }
  }
}

function basicAuth({ username, password }: URL): string {
  return `Basic ${Buffer.from(`${decodeURIComponent(username)}:${decodeURIComponent(password)}`).toString('base64')}`;
}
