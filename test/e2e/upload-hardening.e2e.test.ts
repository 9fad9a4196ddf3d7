import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { Server } from 'node:http';
import { connect, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { admin, startApp, TestApp } from '../support/app';
import { until } from '../support/net';
import { startPostgres, TestPostgres } from '../support/postgres';

const BOUNDARY = 'hardening-boundary';

/** The multipart framing around one `file` part. */
function framing(name: string): { head: Buffer; tail: Buffer } {
  return {
    head: Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    tail: Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  };
}

/** A raw HTTP/1.1 POST /backups/upload on its own socket: the test writes the body itself. */
interface RawUpload {
  socket: Socket;
  /** Everything the server sent, once it closed the connection or sent a whole answer. */
  response: Promise<string>;
  status(): Promise<number>;
}

function openUpload(app: TestApp, contentLength: number): RawUpload {
  const { port } = new URL(app.base);
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => undefined); // the server may close while the test still writes
  socket.write(
    `POST /api/admin/backups/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${admin}\r\n` +
      `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${contentLength}\r\n\r\n`,
  );
  let received = '';
  const response = new Promise<string>((resolve) => {
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      const head = received.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(received);
      if (head >= 0 && length && received.length >= head + 4 + Number(length[1])) resolve(received);
    });
    socket.on('close', () => resolve(received));
  });
  return { socket, response, status: async () => Number(/^HTTP\/1\.1 (\d{3})/.exec(await response)?.[1] ?? 0) };
}

describe('POST /backups/upload against a hostile or unlucky client', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let dump: Buffer;
  // in a real server each of these would have ended the process
  const uncaught: Error[] = [];
  const recordUncaught = (error: Error) => uncaught.push(error);

  const partials = () => readdirSync(server.backupDir).filter((name) => name.includes('upload-'));
  const lockFree = async () => (await server.request('GET', '/operations/current', { token: admin })).json?.locked === false;
  const uploading = async () => (await server.request('GET', '/operations/current', { token: admin })).json?.operation?.type === 'upload';

  before(async () => {
    process.on('uncaughtException', recordUncaught);
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql('create table t (id int primary key, body text); insert into t select g, md5(g::text) from generate_series(1, 2000) g', 'app');
    dump = execFileSync('pg_dump', ['-Fc', '-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', 'app'], { maxBuffer: 1 << 26 });
    server = await startApp(pg.url('app'), { maxUploadBytes: 4 * 1024 * 1024, uploadIdleTimeoutMs: 1500 });
  });

  after(async () => {
    process.off('uncaughtException', recordUncaught);
    await server?.close();
    pg?.stop();
  });

  it('answers a truncated multipart body 400 and stays up, with no partial file and the lock free', async () => {
    for (const name of ['cut.dump', 'cut.txt']) {
      const { head } = framing(name);
      const body = Buffer.concat([head, dump.subarray(0, 1000)]); // no closing boundary
      const upload = openUpload(server, body.length);
      upload.socket.write(body);
      assert.equal(await upload.status(), 400, name);
      assert.match(await upload.response, /malformed upload|must hold a \.dump/);
      upload.socket.destroy();
    }
    assert.equal((await server.request('GET', '/backups', { token: admin })).status, 200, 'the server is still up');
    assert.ok(await lockFree());
    assert.deepEqual(partials(), []);
    assert.deepEqual(uncaught, []);
  });

  it('frees the lock and removes the partial file when the client goes away half-way', async () => {
    const { head, tail } = framing('gone.dump');
    const upload = openUpload(server, head.length + 2 * 1024 * 1024 + tail.length);
    upload.socket.write(Buffer.concat([head, Buffer.alloc(512 * 1024, 7)]));
    await until(uploading, 'the upload holding the lock');
    await until(() => partials().length === 1, 'the partial file');
    upload.socket.destroy();
    await until(lockFree, 'the lock freed after the client left');
    await until(() => partials().length === 0, 'the partial file removed');
    const backup = await server.request('POST', '/backups', { token: admin, body: {} });
    assert.equal(backup.status, 202, backup.text);
    await server.waitDone(`/backups/${backup.json.id}`, admin);
  });

  it('ends an upload that goes quiet after the idle timeout with 408', async () => {
    const { head, tail } = framing('quiet.dump');
    const upload = openUpload(server, head.length + 2 * 1024 * 1024 + tail.length);
    upload.socket.write(Buffer.concat([head, Buffer.alloc(256 * 1024, 7)]));
    await until(uploading, 'the upload holding the lock');
    assert.equal(await upload.status(), 408);
    assert.match(await upload.response, /sent nothing for 1\.5 s/);
    upload.socket.destroy();
    await until(lockFree, 'the lock freed after the idle timeout');
    assert.deepEqual(partials(), []);
  });

  it('stops at the size cap with 413, with no partial file and the lock free', async () => {
    const { head, tail } = framing('huge.dump');
    const size = 8 * 1024 * 1024;
    const upload = openUpload(server, head.length + size + tail.length);
    upload.socket.write(head);
    const chunk = Buffer.alloc(256 * 1024, 7);
    // write until the server answers; it must not wait for (or read) the rest
    let written = 0;
    let answered = false;
    void upload.response.then(() => (answered = true));
    while (!answered && written < size) {
      if (!upload.socket.write(chunk)) await new Promise((resolve) => upload.socket.once('drain', resolve).once('close', resolve));
      written += chunk.length;
    }
    assert.equal(await upload.status(), 413);
    upload.socket.destroy();
    await until(lockFree, 'the lock freed after the size cap');
    assert.deepEqual(partials(), []);
  });

  it('lets a slow upload run past the server request timeout while other requests keep it', async () => {
    const http = server.app.getHttpServer() as Server & { connectionsCheckingInterval: number };
    const { requestTimeout, headersTimeout, connectionsCheckingInterval } = http;
    http.requestTimeout = 1000;
    http.headersTimeout = 500; // never above requestTimeout: Node then swaps the two
    http.connectionsCheckingInterval = 100;
    // the check runs on an interval set up when the server started listening: set it up again
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('_http_server') as { setupConnectionsTracking(this: Server): void }).setupConnectionsTracking.call(http);
    try {
      const stalled = openUpload(server, 10);
      // a request that never sends its body is still cut by the request timeout (408)
      const { port } = new URL(server.base);
      const other = connect(Number(port), '127.0.0.1');
      other.on('error', () => undefined);
      other.write(`POST /api/admin/backups HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin}\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{`);
      const otherAnswer = new Promise<string>((resolve) => {
        let text = '';
        other.on('data', (c) => (text += c.toString()));
        other.on('close', () => resolve(text));
      });
      assert.match(await otherAnswer, /^HTTP\/1\.1 408/);
      stalled.socket.destroy();
      await until(lockFree, 'the lock freed');

      const { head, tail } = framing('slow.dump');
      const gz = dump;
      const body = Buffer.concat([head, gz, tail]);
      const upload = openUpload(server, body.length);
      const started = Date.now();
      const pieces = 10;
      for (let i = 0; i < pieces; i++) {
        upload.socket.write(body.subarray(Math.floor((i * body.length) / pieces), Math.floor(((i + 1) * body.length) / pieces)));
        // each piece well inside the 1.5 s idle timeout, all of them well past the 1 s request timeout
        await until(() => Date.now() - started >= (i + 1) * 300, 'the next piece', { timeoutMs: 2000 });
      }
      assert.ok(Date.now() - started > 2500);
      assert.equal(await upload.status(), 201, await upload.response);
      upload.socket.destroy();
    } finally {
      http.requestTimeout = requestTimeout;
      http.headersTimeout = headersTimeout;
      http.connectionsCheckingInterval = connectionsCheckingInterval;
    }
  });

  it('refuses with 507 before reading the body when the directory lacks free space', async () => {
    const tight = await startApp(pg.url('app'), { minFreeBytes: Number.MAX_SAFE_INTEGER });
    try {
      const upload = openUpload(tight, 1024 * 1024); // the headers only: no byte of the body is sent
      assert.equal(await upload.status(), 507);
      upload.socket.destroy();
      assert.deepEqual(readdirSync(tight.backupDir).filter((name) => name.includes('upload-')), []);
      assert.equal((await tight.request('GET', '/operations/current', { token: admin })).json.locked, false);
    } finally {
      await tight.close();
    }
  });
});
