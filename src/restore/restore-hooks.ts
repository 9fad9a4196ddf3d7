import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { untilAborted } from '../common/until-aborted';
import { webhookHeaders } from '../notifications/webhook-sender';
import { AfterRestoreHookContext, PG_BACKUP_OPTIONS, PgBackupOptions, RestoreHookContext } from '../pg-backup.options';

const DEFAULT_HOOK_TIMEOUT_MS = 60_000;

type HookContext = Omit<RestoreHookContext, 'signal'>;
type HookEvent = 'restore.before' | 'restore.after';

/** Runs the host app's restore hooks (module options and webhooks), each step within its timeout. */
@Injectable()
export class RestoreHooksRunner {
  private readonly logger = new Logger(RestoreHooksRunner.name);

  constructor(@Inject(PG_BACKUP_OPTIONS) private readonly options: PgBackupOptions) {}

  /** Rejects with the reason when a hook throws, a webhook answers other than 2xx, or time runs out. */
  async before(context: HookContext, cancel: AbortSignal): Promise<void> {
    const hooks = this.options.restoreHooks;
    await this.step('restore.before', context, cancel, hooks?.beforeRestore && ((signal) => hooks.beforeRestore!({ ...context, signal })));
  }

  /** Never rejects: the reason it failed, or null. */
  async after(context: HookContext & Pick<AfterRestoreHookContext, 'outcome' | 'error'>): Promise<string | null> {
    const hooks = this.options.restoreHooks;
    try {
      await this.step('restore.after', context, new AbortController().signal, hooks?.afterRestore && ((signal) => hooks.afterRestore!({ ...context, signal })));
      return null;
    } catch (error) {
      const message = (error as Error).message;
      this.logger.error(`restore ${context.restoreId}: ${message}`);
      return message;
    }
  }

  private async step(event: HookEvent, context: object, cancel: AbortSignal, hook: ((signal: AbortSignal) => Promise<void> | void) | undefined): Promise<void> {
    const urls = this.options.restoreHooks?.webhooks?.urls ?? [];
    if (!hook && !urls.length) return;
    const timeoutMs = this.options.restoreHooks?.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
    const expired = new AbortController();
    const timer = setTimeout(() => expired.abort(new Error(`the ${hookName(event)} hook did not finish within ${timeoutMs} ms`)), timeoutMs);
    const signal = AbortSignal.any([expired.signal, cancel]);
    try {
      await untilAborted(
        signal,
        (async () => {
          try {
            await hook?.(signal);
          } catch (error) {
            throw new Error(`the ${hookName(event)} hook failed: ${(error as Error)?.message ?? String(error)}`);
          }
          for (const url of urls) await this.post(url, event, context, signal);
        })(),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private async post(target: string, event: HookEvent, data: object, signal: AbortSignal): Promise<void> {
    const url = new URL(target);
    const where = `${url.origin}${url.pathname}`;
    const id = randomUUID();
    const body = JSON.stringify({ id, event, at: new Date().toISOString(), data });
    const headers = webhookHeaders(event, id, body, this.options.restoreHooks?.webhooks?.secret);
    let status: number;
    try {
      // a redirect would send the signed body elsewhere: it counts as a failure
      const response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal });
      await response.body?.cancel().catch(() => undefined);
      status = response.status;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      const { message, cause } = error as Error & { cause?: Error };
      throw new Error(`the ${hookName(event)} webhook ${where} failed: ${cause?.message ?? message}`);
    }
    if (status < 200 || status >= 300) throw new Error(`the ${hookName(event)} webhook ${where} answered HTTP ${status}`);
  }
}

function hookName(event: HookEvent): string {
  return event === 'restore.before' ? 'beforeRestore' : 'afterRestore';
}
