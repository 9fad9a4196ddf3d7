import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { LockHeldError, parseEventStream, PgBackupClient, UnauthorizedError } from '../dist/index.js';

function streamOf(...chunks) {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function collect(iterable) {
  const out = [];
  for await (const item of iterable) out.push(item);
  return out;
}

test('parses events split across chunks, multi-line data, ids, retry, CRLF, and skips comments', async () => {
  const messages = await collect(
    parseEventStream(streamOf(': heartbeat\n\nid: 7\nevent: progress\nda', 'ta: {"a":\ndata: 1}\nretry: 250\n\r', '\ndata: two\r\n\r\n', 'data: no end')),
  );
  assert.deepEqual(messages, [
    { event: 'progress', data: '{"a":\n1}', lastEventId: '7', retry: 250 },
    { event: 'message', data: 'two', lastEventId: '7', retry: undefined },
  ]);
});

/** A server whose event stream sends one event with the next id, then drops the connection. */
async function droppingServer() {
  const seen = [];
  let next = 1;
  const server = createServer((request, response) => {
    seen.push({ url: request.url, authorization: request.headers.authorization, lastEventId: request.headers['last-event-id'] });
    if (request.headers.authorization !== 'Bearer good') {
      response.writeHead(request.headers.authorization === 'Bearer busy' ? 409 : 401, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ statusCode: 401, message: request.headers.authorization === 'Bearer busy' ? 'another backup or restore is running' : 'Unauthorized' }));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.end(`retry: 10\nid: ${next}\ndata: {"locked":true,"operation":null}\n\n`);
    next += 1;
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { seen, server, baseUrl: `http://127.0.0.1:${server.address().port}/api/admin` };
}

test('operationEvents reconnects after a dropped stream with Last-Event-ID and the token', async (t) => {
  const { seen, server, baseUrl } = await droppingServer();
  t.after(() => server.close());
  const abort = new AbortController();
  const client = new PgBackupClient({ baseUrl, token: 'good' });
  const ids = [];
  for await (const event of client.operationEvents({ signal: abort.signal, lastEventId: 'start' })) {
    ids.push(event.eventId);
    if (ids.length === 3) abort.abort();
  }
  assert.deepEqual(ids, ['1', '2', '3']);
  assert.deepEqual(seen.slice(0, 3).map((r) => r.lastEventId), ['start', '1', '2']);
  assert.ok(seen.every((r) => r.authorization === 'Bearer good' && r.url === '/api/admin/operations/current/events'));
});

test('operationEvents ends with the typed error when the token is refused', async (t) => {
  const { server, baseUrl } = await droppingServer();
  t.after(() => server.close());
  const refused = new PgBackupClient({ baseUrl, token: 'bad' }).operationEvents();
  await assert.rejects(refused.next(), (error) => error instanceof UnauthorizedError && error.status === 401 && error.message === 'Unauthorized');
  const busy = new PgBackupClient({ baseUrl, token: 'busy' }).operationEvents();
  await assert.rejects(busy.next(), (error) => error instanceof LockHeldError && error.message === 'another backup or restore is running');
});
