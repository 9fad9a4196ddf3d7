import { Logger } from '@nestjs/common';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, IncomingHttpHeaders } from 'node:http';
import { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it, mock } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { BackupStatus } from '../../src/backup/backup.types';
import { BackupEvents } from '../../src/events/backup-events';
import { EmailSender } from '../../src/notifications/email-sender';
import { Notification, toNotification } from '../../src/notifications/notification';
import { NotificationService } from '../../src/notifications/notification.service';
import { WebhookSender } from '../../src/notifications/webhook-sender';
import { EmailNotifications, NotificationOptions, PgBackupOptions, WebhookTarget } from '../../src/pg-backup.options';
import { RestoreHistory, RestoreStatus } from '../../src/restore/restore-history.entity';
import { freePort, until } from '../support/net';
import { backupRow } from './support/fixtures';

const logged: string[] = [];
Logger.overrideLogger({
  log: (m: unknown) => logged.push(String(m)),
  error: (m: unknown) => logged.push(String(m)),
  warn: (m: unknown) => logged.push(String(m)),
});

const RETRY_BASE_MS = 20;
const SECRET = 'whsec-test';
const failed = backupRow({ status: BackupStatus.Failed, error: 'pg_dump exited with code 1', finishedAt: new Date('2025-06-01T12:00:05Z'), durationMs: 5000 });
const notification: Notification = toNotification('backup.failed', { backup: failed });

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on 127.0.0.1: `answer(n)` gives the status of the n-th request, or `hang` to never answer. */
async function startReceiver(answer: (n: number) => number | 'hang' = () => 200) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      const status = answer(received.length);
      if (status !== 'hang') res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/pg`,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('WebhookSender', () => {
  const sender = new WebhookSender(RETRY_BASE_MS);
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;

  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('signs HMAC-SHA256 over "<timestamp>.<body>" and sends the event, delivery and timestamp headers', async () => {
    receiver = await startReceiver();
    assert.equal(await sender.deliver({ url: receiver.url, secret: SECRET }, notification), true);
    assert.equal(receiver.received.length, 1);
    const [{ headers, body }] = receiver.received;
    const timestamp = Number(headers['x-pgbackup-timestamp']);
    assert.ok(Math.abs(timestamp - Date.now() / 1000) < 5, 'unix seconds, now');
    const expected = createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex');
    assert.equal(headers['x-pgbackup-signature'], `sha256=${expected}`);
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers['user-agent'], 'nestjs-pg-backup');
    assert.equal(headers['x-pgbackup-event'], 'backup.failed');
    const payload = JSON.parse(body);
    assert.equal(headers['x-pgbackup-delivery'], payload.id);
    assert.match(payload.id, /^[0-9a-f-]{36}$/);
    assert.equal(payload.event, 'backup.failed');
    assert.equal(payload.at, notification.at);
    assert.deepEqual(payload.data, {
      id: failed.id,
      type: 'manual',
      status: 'failed',
      filename: failed.filename,
      sizeBytes: 0,
      sha256: null,
      compression: 'none',
      encrypted: false,
      createdAt: '2025-06-01T12:00:00.000Z',
      finishedAt: '2025-06-01T12:00:05.000Z',
      durationMs: 5000,
      error: 'pg_dump exited with code 1',
    });
  });

  it('500 then 200: delivered on the retry, with the same delivery id and body', async () => {
    receiver = await startReceiver((n) => (n === 1 ? 500 : 200));
    assert.equal(await sender.deliver({ url: receiver.url, secret: SECRET }, notification), true);
    const [first, second] = receiver.received;
    assert.equal(receiver.received.length, 2);
    assert.equal(second.headers['x-pgbackup-delivery'], first.headers['x-pgbackup-delivery']);
    assert.equal(second.body, first.body);
  });

  it('408 and 429 are retried too', async () => {
    receiver = await startReceiver((n) => [408, 429, 200][n - 1]);
    assert.equal(await sender.deliver({ url: receiver.url }, notification), true);
    assert.equal(receiver.received.length, 3);
  });

  it('400 is not retried; without a secret there is no signature', async () => {
    receiver = await startReceiver(() => 400);
    assert.equal(await sender.deliver({ url: receiver.url }, notification), false);
    assert.equal(receiver.received.length, 1);
    assert.equal(receiver.received[0].headers['x-pgbackup-signature'], undefined);
  });

  it('credentials in the URL are sent as Basic auth; the query string is kept', async () => {
    receiver = await startReceiver();
    const url = receiver.url.replace('http://', 'http://hook-user:p%40ss@') + '?token=abc';
    assert.equal(await sender.deliver({ url }, notification), true);
    assert.equal(receiver.received[0].path, '/hooks/pg?token=abc');
    assert.equal(receiver.received[0].headers.authorization, `Basic ${Buffer.from('hook-user:p@ss').toString('base64')}`);
  });

  it('a receiver that never answers times out, is retried, then given up without throwing', async () => {
    receiver = await startReceiver(() => 'hang');
    const started = Date.now();
    assert.equal(await sender.deliver({ url: receiver.url, timeoutMs: 200, retries: 1 }, notification), false);
    assert.equal(receiver.received.length, 2);
    assert.ok(Date.now() - started < 2000);
  });

  it('a dead receiver (connection refused): retried with doubling delays, never throws, logs no credentials or query', async () => {
    logged.length = 0;
    const url = `http://hook-user:hook-password@127.0.0.1:${await freePort()}/hooks/pg?token=query-secret`;
    const started = Date.now();
    assert.equal(await sender.deliver({ url, retries: 2 }, notification), false);
    assert.ok(Date.now() - started >= RETRY_BASE_MS * 3, 'waited 1× then 2× the base delay');
    assert.equal(logged.filter((m) => m.includes('retrying')).length, 2);
    assert.ok(logged.some((m) => m.includes('failed after 3 attempt(s)') && m.includes('127.0.0.1')), logged.join('\n'));
    assert.ok(!logged.some((m) => /hook-user|hook-password|query-secret/.test(m)), logged.join('\n'));
  });
});

describe('toNotification', () => {
  it('sends the error, not the row data psql quotes in it', () => {
    const stderr = [
      'psql exited with code 3: psql:<stdin>:48: ERROR:  duplicate key value violates unique constraint "accounts_email_key"',
      'DETAIL:  Key (email)=(alice@example.com) already exists.',
      'CONTEXT:  COPY accounts, line 3: "3\talice@example.com\tAlice Liddell\t4111111111111111"',
      'psql:<stdin>:60: ERROR:  invalid input syntax for type integer: "4111-1111"',
      'LINE 1: INSERT INTO t VALUES (\'secret-value\');',
      '                              ^',
      'HINT:  Perhaps you meant to reference the column "t.ssn".',
      'PL/pgSQL function audit() line 4 at RAISE',
      'pg_restore: error: could not execute query',
    ].join('\n');
    const restore = Object.assign(new RestoreHistory(), { id: 'r2', status: RestoreStatus.Failed, startedAt: new Date(), finishedAt: null, error: stderr });
    const sent = toNotification('restore.failed', { restore }).data.error as string;
    assert.equal(
      sent,
      [
        'psql exited with code 3: psql:<stdin>:48: ERROR:  duplicate key value violates unique constraint "accounts_email_key"',
        'psql:<stdin>:60: ERROR:  invalid input syntax for type integer: "…"',
        'pg_restore: error: could not execute query',
      ].join('\n'),
    );
    for (const secret of ['alice@example.com', 'Liddell', '4111', 'secret-value', 'ssn']) assert.ok(!sent.includes(secret), secret);
    const backup = { ...failed, error: stderr };
    assert.equal(toNotification('backup.failed', { backup }).data.error, sent);
    const drill = { at: '2025-06-03T01:00:00.000Z', ok: false, durationMs: 900, restoreMs: null, database: 'drill_x', tables: [], error: stderr };
    assert.equal((toNotification('drill.failed', { backup: failed, drill }).data.drill as { error: string }).error, sent);
    assert.equal(restore.error, stderr, 'the history keeps the full text, for admins');
  });

  it('summarises restores, drills and missed ticks', () => {
    const restore = Object.assign(new RestoreHistory(), {
      id: 'r1',
      backupId: failed.id,
      status: RestoreStatus.Failed,
      safetyBackupId: 's1',
      startedBy: 'alice',
      startedAt: new Date('2025-06-02T08:00:00Z'),
      finishedAt: null,
      durationMs: null,
      error: 'psql exited with code 3',
      detail: { terminatedPids: [42] },
    });
    assert.deepEqual(toNotification('restore.failed', { restore }).data, {
      id: 'r1',
      backupId: failed.id,
      status: 'failed',
      safetyBackupId: 's1',
      startedBy: 'alice',
      startedAt: '2025-06-02T08:00:00.000Z',
      finishedAt: null,
      durationMs: null,
      error: 'psql exited with code 3',
    });
    const drill = { at: '2025-06-03T01:00:00.000Z', ok: false, durationMs: 900, restoreMs: null, database: 'drill_x', tables: [], error: 'count mismatch' };
    assert.deepEqual(toNotification('drill.failed', { backup: failed, drill }).data, { backupId: failed.id, drill });
    const scheduledAt = new Date('2025-06-03T02:00:00Z');
    assert.deepEqual(toNotification('schedule.missed', { kind: 'drill', scheduledAt, reason: 'lock held' }).data, {
      kind: 'drill',
      scheduledAt: '2025-06-03T02:00:00.000Z',
      reason: 'lock held',
    });
  });
});

describe('NotificationService', () => {
  function wire(notifications: NotificationOptions) {
    const events = new BackupEvents();
    const webhooks = { deliver: mock.fn(async (_target: WebhookTarget, _n: Notification) => true) };
    const email = { send: mock.fn(async (_email: EmailNotifications, _n: Notification, _database: string) => true) };
    const options = { databaseUrl: 'postgres://u:p@127.0.0.1:5432/shop', notifications } as PgBackupOptions;
    new NotificationService(options, events, webhooks as unknown as WebhookSender, email as unknown as EmailSender).onModuleInit();
    const sent = () => ({
      webhooks: webhooks.deliver.mock.calls.map((c) => `${c.arguments[0].url} ${c.arguments[1].event}`),
      email: email.send.mock.calls.map((c) => `${c.arguments[1].event} ${c.arguments[2]}`),
    });
    return { events, sent };
  }

  const completed = backupRow({ status: BackupStatus.Completed });

  it('by default notifies failures but not backup.completed; a target that lists backup.completed gets it', () => {
    const { events, sent } = wire({
      webhooks: [{ url: 'http://default/' }, { url: 'http://listed/', events: ['backup.completed'] }],
      email: { smtpUrl: 'smtp://127.0.0.1', from: 'a@b', to: ['ops@b'] },
    });
    events.emit('backup.completed', { backup: completed });
    events.emit('backup.failed', { backup: failed });
    events.emit('schedule.missed', { kind: 'backup', scheduledAt: new Date(), reason: 'lock held' });
    assert.deepEqual(sent(), {
      webhooks: ['http://listed/ backup.completed', 'http://default/ backup.failed', 'http://default/ schedule.missed'],
      email: ['backup.failed shop', 'schedule.missed shop'],
    });
  });

  it('nothing configured: nothing sent', () => {
    const { events, sent } = wire({});
    events.emit('backup.failed', { backup: failed });
    assert.deepEqual(sent(), { webhooks: [], email: [] });
  });

  it('returns to the emitter at once, however slow the receiver', async () => {
    const receiver = await startReceiver(() => 'hang');
    const events = new BackupEvents();
    const options = { databaseUrl: 'postgres://127.0.0.1/shop', notifications: { webhooks: [{ url: receiver.url, timeoutMs: 300, retries: 0 }] } } as PgBackupOptions;
    new NotificationService(options, events, new WebhookSender(RETRY_BASE_MS), new EmailSender()).onModuleInit();
    const started = Date.now();
    events.emit('backup.failed', { backup: failed });
    assert.ok(Date.now() - started < 50);
    await until(() => receiver.received.length === 1, 'the delivery');
    await receiver.close();
  });
});

describe('e-mail over SMTP', () => {
  interface Mail {
    from: string;
    to: string[];
    raw: string;
  }
  const mails: Mail[] = [];
  let smtp: SMTPServer;
  let smtpUrl: string;

  before(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          mails.push({ from, to: session.envelope.rcptTo.map((a) => a.address), raw: Buffer.concat(chunks).toString() });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => smtp.close(resolve)));

  it('backup.failed arrives with the subject, sender, recipients and summary', async () => {
    const events = new BackupEvents();
    const email = { smtpUrl, from: 'pg-backup@example.com', to: ['ops@example.com', 'dba@example.com'] };
    const options = { databaseUrl: 'postgres://u:p@127.0.0.1:5432/shop', notifications: { email } } as PgBackupOptions;
    new NotificationService(options, events, new WebhookSender(RETRY_BASE_MS), new EmailSender()).onModuleInit();
    events.emit('backup.failed', { backup: failed });
    await until(() => mails.length === 1, 'the mail');
    const [mail] = mails;
    assert.equal(mail.from, 'pg-backup@example.com');
    assert.deepEqual(mail.to, ['ops@example.com', 'dba@example.com']);
    assert.match(mail.raw, /^Subject: \[pg-backup\] backup\.failed: shop\r?$/m);
    assert.match(mail.raw, /^Content-Type: text\/plain/m);
    assert.ok(mail.raw.includes(`id: ${failed.id}`), mail.raw);
    assert.ok(mail.raw.includes('error: pg_dump exited with code 1'), mail.raw);
  });

  it('a dead SMTP server is logged, not thrown', async () => {
    logged.length = 0;
    const email = { smtpUrl: `smtp://127.0.0.1:${await freePort()}`, from: 'pg-backup@example.com', to: ['ops@example.com'] };
    assert.equal(await new EmailSender().send(email, notification, 'shop'), false);
    assert.ok(logged.some((m) => m.includes('e-mail backup.failed to ops@example.com failed')), logged.join('\n'));
  });
});
