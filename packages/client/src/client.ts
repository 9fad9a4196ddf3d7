import { ApiError, errorFromResponse } from './errors.js';
import { parseEventStream } from './events.js';
import type { components, operations } from './generated/openapi.js';

type Schemas = components['schemas'];
export type Backup = Schemas['BackupResponse'];
export type BackupPage = Schemas['BackupPageResponse'];
export type CreateBackupRequest = Schemas['CreateBackupDto'];
export type IntegrityReport = Schemas['IntegrityReportResponse'];
export type RestoreRequest = Schemas['RestoreBackupDto'];
export type RestorePreview = Schemas['RestorePreviewResponse'];
export type Restore = Schemas['RestoreResponse'];
export type RestorePage = Schemas['RestorePageResponse'];
export type CurrentOperation = Schemas['CurrentOperationResponse'];
export type CancelResult = Schemas['CancelResultResponse'];
export type Me = Schemas['MeResponse'];
export type BackupQuery = NonNullable<operations['listBackups']['parameters']['query']>;
export type RestoreQuery = NonNullable<operations['listRestores']['parameters']['query']>;
export type DownloadPart = NonNullable<operations['downloadBackup']['parameters']['query']>['part'];

export interface ClientOptions {
  /** The admin API's base URL, e.g. `https://host/api/admin`. */
  baseUrl: string;
  /** The bearer token, or a function giving the current one (called per request, so it may refresh). */
  token: string | (() => string | Promise<string>);
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
}

export interface WaitOptions {
  /** How often to poll, in ms (default 1000). */
  intervalMs?: number;
  /** Give up after this many ms (default: never). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface EventOptions {
  signal?: AbortSignal;
  /** Resume after this event id (sent as `Last-Event-ID`). */
  lastEventId?: string;
  /** Wait before reconnecting, in ms, unless the server sent `retry:` (default 1000). */
  retryMs?: number;
}

/** One event of the progress stream: the running operation, or `operation: null` when none runs. */
export interface OperationEvent extends CurrentOperation {
  /** The id to resume after, when the server sends ids ('' otherwise). */
  eventId: string;
}

export interface Download {
  /** The file name the server suggests (Content-Disposition). */
  fileName: string | undefined;
  /** The size in bytes, when the server sent Content-Length. */
  size: number | undefined;
  /** The body as a web stream; in Node, `Readable.fromWeb(download.stream)` makes it a Node stream. */
  stream: ReadableStream<Uint8Array>;
  /** The whole body as a Blob (read instead of `stream`, not both). */
  blob(): Promise<Blob>;
}

/** A typed client of the nestjs-pg-backup admin API; every failure is an `ApiError` subclass. */
export class PgBackupClient {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  me(): Promise<Me> {
    return this.json('GET', '/me');
  }

  listBackups(query: BackupQuery = {}): Promise<BackupPage> {
    return this.json('GET', `/backups${queryString(query)}`);
  }

  getBackup(id: string): Promise<Backup> {
    return this.json('GET', `/backups/${encodeURIComponent(id)}`);
  }

  /** Starts a backup (202, `status: running`); `waitForBackup` waits for its end. */
  createBackup(request: CreateBackupRequest = {}): Promise<Backup> {
    return this.json('POST', '/backups', request);
  }

  deleteBackup(id: string): Promise<void> {
    return this.json('DELETE', `/backups/${encodeURIComponent(id)}`);
  }

  verifyBackup(id: string): Promise<IntegrityReport> {
    return this.json('POST', `/backups/${encodeURIComponent(id)}/verify`);
  }

  /** With `dryRun: true`, what the restore would do (nothing changes); otherwise the started restore. */
  restoreBackup(id: string, request: Omit<RestoreRequest, 'confirm'> & { dryRun: true }): Promise<RestorePreview>;
  restoreBackup(id: string, request: RestoreRequest): Promise<Restore>;
  restoreBackup(id: string, request: Omit<RestoreRequest, 'confirm'>): Promise<Restore | RestorePreview> {
    return this.json('POST', `/backups/${encodeURIComponent(id)}/restore`, request);
  }

  listRestores(query: RestoreQuery = {}): Promise<RestorePage> {
    return this.json('GET', `/restores${queryString(query)}`);
  }

  getRestore(id: string): Promise<Restore> {
    return this.json('GET', `/restores/${encodeURIComponent(id)}`);
  }

  currentOperation(): Promise<CurrentOperation> {
    return this.json('GET', '/operations/current');
  }

  cancelCurrentOperation(): Promise<CancelResult> {
    return this.json('POST', '/operations/current/cancel');
  }

  /** Polls the backup until it leaves `running`; the finished record (completed or failed). */
  waitForBackup(id: string, options?: WaitOptions): Promise<Backup> {
    return this.waitFor(() => this.getBackup(id), options);
  }

  /** Polls the restore until it leaves `running`. */
  waitForRestore(id: string, options?: WaitOptions): Promise<Restore> {
    return this.waitFor(() => this.getRestore(id), options);
  }

  /** Downloads a backup with the token (a plain link cannot carry it). */
  async download(id: string, part?: DownloadPart): Promise<Download> {
    const response = await this.send('GET', `/backups/${encodeURIComponent(id)}/download${queryString({ part })}`);
    const length = response.headers.get('content-length');
    const disposition = response.headers.get('content-disposition') ?? '';
    const fileName = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1] ?? /filename="?([^";]+)"?/i.exec(disposition)?.[1];
    return {
      fileName: fileName === undefined ? undefined : decodeURIComponent(fileName),
      size: length === null ? undefined : Number(length),
      stream: response.body!,
      blob: () => response.blob(),
    };
  }

  /**
   * The running operation as it changes (server-sent events over fetch, so the token travels in a
   * header). Reconnects after a dropped stream, sending `Last-Event-ID` when an id was seen; ends
   * when `signal` aborts. A rejected token (401/403) ends it with the typed error.
   */
  async *operationEvents(options: EventOptions = {}): AsyncGenerator<OperationEvent> {
    const { signal } = options;
    let lastEventId = options.lastEventId ?? '';
    let retryMs = options.retryMs ?? 1000;
    while (!signal?.aborted) {
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream' };
        if (lastEventId) headers['last-event-id'] = lastEventId;
        const response = await this.send('GET', '/operations/current/events', undefined, headers, signal);
        for await (const message of parseEventStream(response.body!, lastEventId)) {
          lastEventId = message.lastEventId;
          if (message.retry !== undefined) retryMs = message.retry;
          yield { ...(JSON.parse(message.data) as CurrentOperation), eventId: lastEventId };
        }
      } catch (error) {
        if (signal?.aborted) return;
        // a rejected token or a missing route will not heal by reconnecting
        if (error instanceof ApiError && error.status < 500 && error.status !== 429) throw error;
      }
      await sleep(retryMs, signal);
    }
  }

  private async waitFor<T extends { status: string }>(read: () => Promise<T>, { intervalMs = 1000, timeoutMs, signal }: WaitOptions = {}): Promise<T> {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      const current = await read();
      if (current.status !== 'running') return current;
      if (Date.now() + intervalMs > deadline) throw new Error(`still running after ${timeoutMs} ms`);
      await sleep(intervalMs, signal);
      signal?.throwIfAborted();
    }
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body);
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async send(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
    const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...extraHeaders };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }
}

function queryString(query: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
