import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { admin, startApp, TEST_SECRET, TestApp } from '../support/app';
import { hs256 } from '../support/tokens';
import { startPostgres, TestPostgres } from '../support/postgres';

interface OperationEvent {
  locked: boolean;
  operation: { type: string; id: string; startedBy: string; bytesDone: number } | null;
}

/** An open `text/event-stream`: `next()` resolves with the next `data:` payload, parsed. */
async function openEvents(url: string, token: string) {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const comments: string[] = [];
  return {
    response,
    comments,
    async next(timeoutMs = 10_000): Promise<OperationEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n');
          comments.push(...lines.filter((l) => l.startsWith(':')));
          const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (data) return JSON.parse(data);
          continue;
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no event within ${timeoutMs} ms; received so far: ${JSON.stringify(buffer)}`);
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), left)));
        const chunk = await Promise.race([reader.read(), timeout]).finally(() => clearTimeout(timer));
        if (chunk === null) continue;
        if (chunk.done) throw new Error('the event stream ended');
        buffer += chunk.value;
      }
    },
    close: () => abort.abort(),
  };
}

describe('GET /operations/current/events (server-sent events)', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let url: string;

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql('create table items (id int primary key, name text); insert into items select g, md5(g::text) from generate_series(1, 500) g', 'shop');
    server = await startApp(pg.url('shop'));
    url = `${server.base}/operations/current/events`;
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('ends the stream when the token expires', async () => {
    const token = hs256({ sub: 'brief', roles: ['admin'] }, TEST_SECRET, { expiresIn: 2 });
    const events = await openEvents(url, token);
    assert.equal(events.response.status, 200);
    assert.equal((await events.next()).locked, false);
    // no change comes; the stream ends once exp has passed (well before the 15 s heartbeat)
    await assert.rejects(events.next(8000), /the event stream ended/);
    events.close();
  });

  it('answers 401 without a token, like every admin route', async () => {
    const response = await fetch(url);
    assert.equal(response.status, 401);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    const audit = await server.request('GET', '/audit?action=operation.events&outcome=denied', { token: admin });
    assert.equal(audit.json.total, 1, 'the refusal is audited');
  });

  it('sends the current state at once, then a change when a backup starts and when it ends', async () => {
    const events = await openEvents(url, admin);
    try {
      assert.equal(events.response.status, 200);
      assert.match(events.response.headers.get('content-type') ?? '', /^text\/event-stream/);
      assert.deepEqual(await events.next(), { locked: false, operation: null });

      // an exclusive table lock holds the backup at its first read of the table: it stays running until released
      const blocker = new Client({ connectionString: pg.url('shop') });
      await blocker.connect();
      await blocker.query('begin; lock table items in access exclusive mode');
      const started = server.request('POST', '/backups', { token: admin, body: { notes: 'sse' } });
      const running = await events.next();
      assert.equal(running.locked, true);
      assert.equal(running.operation?.type, 'backup');
      assert.equal(running.operation?.startedBy, 'alice');
      await blocker.query('rollback');
      await blocker.end();

      const created = await started;
      assert.equal(created.status, 202, created.text);
      assert.equal(running.operation?.id, created.json.id, 'the event names the backup the POST started');
      let last = running;
      while (last.locked) last = await events.next();
      assert.deepEqual(last, { locked: false, operation: null });
      const backup = await server.waitDone(`/backups/${created.json.id}`, admin);
      assert.equal(backup.status, 'completed');
    } finally {
      events.close();
    }
  });

  it('serves several clients at once, each starting with the current state', async () => {
    const [a, b] = await Promise.all([openEvents(url, admin), openEvents(url, admin)]);
    try {
      assert.deepEqual(await a.next(), { locked: false, operation: null });
      assert.deepEqual(await b.next(), { locked: false, operation: null });
    } finally {
      a.close();
      b.close();
    }
  });
});
