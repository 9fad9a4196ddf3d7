import assert from 'node:assert/strict';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { webhookSignature } from '../../src/notifications/webhook-sender';
import { AfterRestoreHookContext, RestoreHookContext } from '../../src/pg-backup.options';
import { admin, startApp, TestApp } from '../support/app';
import { fingerprint } from '../support/fingerprint';
import { MUTATIONS, RICH_FIXTURE } from '../support/fixture';
import { sleep } from '../support/net';
import { startPostgres, TestPostgres } from '../support/postgres';

const SCHEMAS = ['public', 'app', 'Mixed Case', 'created_later'];
const SECRET = 'hook-secret-0123456789';

interface Received {
  event: string;
  body: any;
  signed: boolean;
}

describe('restore hooks and what a restore record says', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let hookServer: Server;
  let backup: any;
  let received: Received[] = [];
  let webhookStatus = 200;
  const calls: { hook: string; context: RestoreHookContext | AfterRestoreHookContext; ordersNow?: string }[] = [];
  let beforeHook: (context: RestoreHookContext) => Promise<void> = async () => undefined;
  let afterHook: (context: AfterRestoreHookContext) => Promise<void> = async () => undefined;

  async function restore(body: object = {}): Promise<any> {
    const r = await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true, ...body } });
    assert.equal(r.status, 202, r.text);
    const done = await server.waitDone(`/restores/${r.json.id}`, admin);
    for (let i = 0; i < 100 && (await server.request('GET', '/operations/current', { token: admin })).json.locked; i++) await sleep(100);
    return done;
  }

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql(RICH_FIXTURE, 'shop');
    hookServer = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => (raw += chunk));
      req.on('end', () => {
        const timestamp = Number(req.headers['x-pgbackup-timestamp']);
        received.push({
          event: String(req.headers['x-pgbackup-event']),
          body: JSON.parse(raw),
          signed: req.headers['x-pgbackup-signature'] === webhookSignature(SECRET, timestamp, raw),
        });
        res.writeHead(webhookStatus).end();
      });
    });
    await new Promise<void>((resolve) => hookServer.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hooks`;
    server = await startApp(pg.url('shop'), {
      restoreHooks: {
        beforeRestore: async (context) => {
          calls.push({ hook: 'before', context, ordersNow: pg.psql('select count(*) from app.orders', 'shop') });
          await beforeHook(context);
        },
        afterRestore: async (context) => {
          calls.push({ hook: 'after', context, ordersNow: pg.psql('select count(*) from app.orders', 'shop') });
          await afterHook(context);
        },
        timeoutMs: 1500,
        webhooks: { urls: [hookUrl], secret: SECRET },
      },
    });
    backup = await server.createBackup();
    assert.equal(backup.status, 'completed', JSON.stringify(backup));
    pg.psql(MUTATIONS, 'shop');
  });

  beforeEach(() => {
    calls.length = 0;
    received = [];
    webhookStatus = 200;
    beforeHook = async () => undefined;
    afterHook = async () => undefined;
  });

  after(async () => {
    await server?.close();
    hookServer?.close();
    pg?.stop();
  });

  it('a before hook that throws fails the restore: its message recorded, the database untouched, the lock free, the after hook told', async () => {
    const untouched = fingerprint(pg, 'shop', SCHEMAS);
    beforeHook = async () => {
      throw new Error('maintenance mode unavailable');
    };
    const done = await restore({ safetyBackup: false });
    assert.equal(done.status, 'failed');
    assert.match(done.error, /beforeRestore hook failed: maintenance mode unavailable; the database was not touched/);
    assert.deepEqual(fingerprint(pg, 'shop', SCHEMAS), untouched);
    assert.equal((await server.request('GET', '/operations/current', { token: admin })).json.locked, false);
    assert.deepEqual(calls.map((c) => c.hook), ['before', 'after']);
    const afterContext = calls[1].context as AfterRestoreHookContext;
    assert.equal(afterContext.outcome, 'failed');
    assert.match(afterContext.error!, /maintenance mode unavailable/);
    assert.equal(done.detail.rowCounts, undefined, 'nothing was counted: the restore never started');
    assert.deepEqual(received.map((r) => r.event), ['restore.after'], 'the before webhook is not sent once the before hook failed');
  });

  it('a before hook that outlives its timeout fails the restore cleanly', async () => {
    const untouched = fingerprint(pg, 'shop', SCHEMAS);
    let aborted = false;
    beforeHook = (context) =>
      new Promise<void>((resolve) => {
        context.signal.addEventListener('abort', () => (aborted = true));
        setTimeout(resolve, 5000);
      });
    const done = await restore({ safetyBackup: false });
    assert.equal(done.status, 'failed');
    assert.match(done.error, /beforeRestore hook did not finish within 1500 ms; the database was not touched/);
    assert.equal(aborted, true, "the hook's signal told it time was up");
    assert.deepEqual(fingerprint(pg, 'shop', SCHEMAS), untouched);
    assert.equal((await server.request('GET', '/operations/current', { token: admin })).json.locked, false);
  });

  it('a before webhook answering other than 2xx cancels the restore', async () => {
    const untouched = fingerprint(pg, 'shop', SCHEMAS);
    webhookStatus = 503;
    const done = await restore({ safetyBackup: false });
    assert.equal(done.status, 'failed');
    assert.match(done.error, /beforeRestore webhook http:\/\/127\.0\.0\.1:\d+\/hooks answered HTTP 503/);
    assert.deepEqual(fingerprint(pg, 'shop', SCHEMAS), untouched);
    assert.equal(received[0].event, 'restore.before');
    assert.equal(received[0].signed, true);
  });

  it('runs both hooks around a completed restore, signed webhooks awaited, and records scope and row counts before and after', async () => {
    const done = await restore();
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.deepEqual(calls.map((c) => c.hook), ['before', 'after']);
    assert.equal(calls[0].ordersNow, '4000', 'the before hook runs before any data changes');
    assert.equal(calls[1].ordersNow, '8000', 'the after hook runs after the COMMIT');
    assert.deepEqual(
      { ...calls[0].context, signal: undefined },
      { restoreId: done.id, backupId: backup.id, actor: 'alice', scope: { tables: [], schemas: [] }, target: null, signal: undefined },
    );
    assert.equal((calls[1].context as AfterRestoreHookContext).outcome, 'completed');
    assert.deepEqual(received.map((r) => r.event), ['restore.before', 'restore.after']);
    assert.ok(received.every((r) => r.signed), 'both webhooks carry a valid signature');
    assert.equal(received[1].body.data.outcome, 'completed');
    assert.equal(received[1].body.data.restoreId, done.id);

    assert.deepEqual(done.detail.scope, { tables: [], schemas: [] });
    assert.equal(done.detail.target, undefined);
    assert.equal(done.detail.rowCounts.before['app.orders'], 4000);
    assert.equal(done.detail.rowCounts.after['app.orders'], 8000);
    assert.equal(done.detail.rowCounts.after['public.users'], 3000);
    assert.deepEqual(Object.keys(done.detail.rowCounts.after).sort(), Object.keys(backup.metadata.tables).sort(), 'every table of the backup');
    assert.equal(done.detail.afterRestoreHookError, undefined);

    const preview = (await server.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { dryRun: true } })).json;
    assert.ok(preview.estimatedDurationMs > 0, 'past restores give an estimate');
  });

  it('an after hook that fails is recorded; the restore stays completed', async () => {
    afterHook = async () => {
      throw new Error('migrations failed');
    };
    const done = await restore({ safetyBackup: false });
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.match(done.detail.afterRestoreHookError, /afterRestore hook failed: migrations failed/);
    assert.equal(done.error, null);
  });
});
