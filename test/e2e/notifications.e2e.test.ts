import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startApp, TestApp } from '../support/app';
import { freePort, sleep } from '../support/net';
import { startPostgres, TestPostgres } from '../support/postgres';

const SECRET = 'whsec-e2e';

describe('webhook notifications from a real backup', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let receiver: Server;
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql('create table items (id int primary key, name text); insert into items select g, md5(g::text) from generate_series(1, 100) g;', 'shop');
    server = await startApp(pg.url('shop'), {
      notifications: {
        webhooks: [
          { url: receiverUrl, secret: SECRET, events: ['backup.completed', 'backup.failed'] },
          // Listed, or backup.completed (opt-in) would never be sent to it
          { url: `http://127.0.0.1:${await freePort()}/`, retries: 1, events: ['backup.completed'] },
        ],
      },
    });
  });

  after(async () => {
    await server?.close();
    pg?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('a dead receiver does not fail the backup; the live one gets a signed backup.completed', async () => {
    const backup = await server.createBackup();
    assert.equal(backup.status, 'completed', JSON.stringify(backup));
    for (const deadline = Date.now() + 5000; !received.length && Date.now() < deadline; ) await sleep(20);
    assert.equal(received.length, 1);
    const [{ headers, body }] = received;
    assert.equal(headers['x-pgbackup-event'], 'backup.completed');
    const expected = createHmac('sha256', SECRET).update(`${headers['x-pgbackup-timestamp']}.${body}`).digest('hex');
    assert.equal(headers['x-pgbackup-signature'], `sha256=${expected}`);
    const payload = JSON.parse(body);
    assert.equal(payload.id, headers['x-pgbackup-delivery']);
    assert.equal(payload.event, 'backup.completed');
    assert.equal(payload.data.id, backup.id);
    assert.equal(payload.data.status, 'completed');
    assert.equal(payload.data.sha256, backup.sha256);
    assert.equal(payload.data.sizeBytes, backup.sizeBytes);
  });
});
