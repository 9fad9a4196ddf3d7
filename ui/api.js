// The admin API, called with the admin's bearer token. The token lives in sessionStorage only:
// gone when the tab closes, never in a cookie, never in a URL the server sees.

const TOKEN_KEY = 'pg-backup-token';

/** Where the API is: set by the server in the page's meta tag (it knows the module's `path`). */
export const apiBase = (document.querySelector('meta[name="pg-backup-api"]')?.getAttribute('content') ?? '/api/admin').replace(/\/+$/, '');

export class ApiError extends Error {
  /** `status` 0: the request never got an answer. `messages`: the server's reasons, one per line. */
  constructor(status, messages) {
    super(messages.join('; '));
    this.status = status;
    this.messages = messages;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value.trim()),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** What the signed-in token may do (`GET /me`): the page shows only those actions; the server refuses the others anyway. */
const access = { level: null, permissions: new Set() };

export function setAccess(me) {
  access.level = me?.level ?? null;
  access.permissions = new Set(me?.permissions ?? []);
}

export const accessLevel = () => access.level;
export const can = (permission) => access.permissions.has(permission);

const listeners = new Set();
/** Called with every ApiError of status 401: the token expired or was revoked. */
export function onUnauthorized(listener) {
  listeners.add(listener);
}

function headers(extra = {}) {
  const value = token.get();
  return value ? { ...extra, authorization: `Bearer ${value}` } : extra;
}

function query(params) {
  const entries = Object.entries(params ?? {}).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}` : '';
}

async function failure(response) {
  let messages = [`${response.status} ${response.statusText}`];
  try {
    const body = await response.json();
    const message = body?.message;
    if (Array.isArray(message) && message.length) messages = message.map(String);
    else if (typeof message === 'string' && message) messages = [message];
  } catch {
    // not JSON: keep the status line
  }
  const error = new ApiError(response.status, messages);
  if (response.status === 401) for (const listener of listeners) listener(error);
  return error;
}

/** JSON in, JSON out; throws ApiError with the server's message. */
export async function api(method, path, { body, params } = {}) {
  let response;
  try {
    response = await fetch(`${apiBase}${path}${query(params)}`, {
      method,
      headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, [`cannot reach the API at ${apiBase}: ${error.message}`]);
  }
  if (!response.ok) throw await failure(response);
  return response.status === 204 ? null : response.json();
}

/**
 * Saves a backup file. Where the browser can write to a file the admin picks, the download is
 * streamed there; otherwise it goes through a Blob (held in memory).
 */
export async function download(path, filename) {
  let sink = null;
  if (typeof window.showSaveFilePicker === 'function') {
    try {
      sink = await (await window.showSaveFilePicker({ suggestedName: filename })).createWritable();
    } catch (error) {
      if (error.name === 'AbortError') return false;
      sink = null;
    }
  }
  const response = await fetch(`${apiBase}${path}`, { headers: headers() });
  if (!response.ok) {
    await sink?.abort();
    throw await failure(response);
  }
  if (sink) {
    await response.body.pipeTo(sink);
    return true;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return true;
}

/**
 * `GET /operations/current/events` read with fetch rather than EventSource, so the token goes in
 * the Authorization header. Reconnects with backoff until `signal` aborts; a 401 or 403 stops it.
 * `onEvent(data)` gets each parsed `data:` payload; `onState('live' | 'connecting' | 'offline', error?)`.
 */
export function operationEvents({ onEvent, onState, signal }) {
  let delay = 1000;
  const run = async () => {
    while (!signal.aborted) {
      onState('connecting');
      try {
        const response = await fetch(`${apiBase}/operations/current/events`, { headers: headers({ accept: 'text/event-stream' }), signal });
        if (!response.ok) {
          const error = await failure(response);
          if (response.status === 401 || response.status === 403) {
            onState('offline', error);
            return;
          }
          throw error;
        }
        onState('live');
        delay = 1000;
        await readEventStream(response.body, onEvent);
      } catch (error) {
        if (signal.aborted) break;
        onState('connecting', error);
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 15_000);
    }
    onState('offline');
  };
  void run();
}

/** The text/event-stream format: events end at a blank line; `data:` lines join; `:` lines are comments. */
async function readEventStream(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      const data = block
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      if (!data) continue;
      try {
        onEvent(JSON.parse(data));
      } catch {
        // not JSON: not ours
      }
    }
  }
}
