import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { admin, startApp, TestApp } from '../support/app';
import { until } from '../support/net';
import { startPostgres, TestPostgres } from '../support/postgres';
import { blockTable } from '../support/open-transaction';

const CHANNEL = 'pg_backup.backup_admin';

async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}

/**
 * Any role that can log in can NOTIFY on the module's channel (pg_notify() even works inside a
 * SELECT). What it sends there must neither crash an instance nor cancel anything.
 */
describe('signals from a hostile database role', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let instanceB: TestApp;
  let mallory: Client;
  let watcher: Client;
  let received = 0;

  async function runningOperation(type: string): Promise<any> {
    let operation: any;
    await until(async () => {
      operation = (await server.request('GET', '/operations/current', { token: admin })).json.operation;
      return operation?.type === type;
    }, `a running ${type}`, { timeoutMs: 20_000, pollMs: 100 });
    return operation;
  }

  /** Everything a role with no privilege can send, then waits until a listener got all of it. */
  async function sendHostileSignals(operationId: string): Promise<void> {
    const payloads = [
      'not json',
      '{"kind":',
      'null',
      '"cancel"',
      '[]',
      '{"kind":"launch"}',
      '{"kind":{"toString":1}}',
      JSON.stringify({ kind: 'cancel', operationId }),
      JSON.stringify({ kind: 'cancel' }),
      JSON.stringify({ kind: 'config' }),
      'x'.repeat(7900),
    ];
    const before = received;
    for (const payload of payloads) await mallory.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]);
    await mallory.query(`SELECT count(pg_notify($1, 'flood ' || g)) FROM generate_series(1, 2000) g`, [CHANNEL]);
    await until(() => received >= before + payloads.length + 2000, 'the hostile notifications to be delivered', { timeoutMs: 20_000 });
  }

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    pg.psql('create table items (id serial primary key, name text); insert into items (name) select md5(g::text) from generate_series(1, 5000) g', 'shop');
    pg.psql('create role mallory login');
    server = await startApp(pg.url('shop'));
    instanceB = await startApp(pg.url('shop'), { backupDir: server.backupDir });
    mallory = await connect(pg.url('shop', 'mallory'));
    watcher = await connect(pg.url('shop'));
    watcher.on('notification', () => received++);
    await watcher.query(`LISTEN "${CHANNEL}"`);
  });

  after(async () => {
    await watcher?.end();
    await mallory?.end();
    await instanceB?.close();
    await server?.close();
    pg?.stop();
  });

  it('cannot write a cancel request: the lock row is out of its reach', async () => {
    await assert.rejects(mallory.query(`UPDATE backup_admin.operation_lock SET cancel_requested = true`), /permission denied/);
  });

  it('garbage, a huge payload, a flood and a forged cancel during a backup: every instance stays up, the backup completes', async () => {
    const blocker = await blockTable(pg.url('shop'), 'items');
    let backupId: string;
    try {
      const started = await server.request('POST', '/backups', { token: admin });
      assert.equal(started.status, 202, started.text);
      backupId = started.json.id;
      const operation = await runningOperation('backup');
      assert.equal(operation.id, backupId);

      await sendHostileSignals(backupId);

      for (const instance of [server, instanceB]) {
        const current = await instance.request('GET', '/operations/current', { token: admin });
        assert.equal(current.status, 200, 'the instance still answers');
        assert.equal(current.json.operation?.id, backupId, 'the backup still runs');
      }
    } finally {
      await blocker.end();
    }
    const backup = await server.waitDone(`/backups/${backupId!}`, admin);
    assert.equal(backup.status, 'completed', backup.error);
    assert.equal(pg.psql(`select count(*) from backup_admin.audit_log where action = 'operation.cancel'`, 'shop'), '0');
  });

  it('a real cancel through the API, from another instance, still stops the backup', async () => {
    const blocker = await blockTable(pg.url('shop'), 'items');
    try {
      const started = await server.request('POST', '/backups', { token: admin });
      assert.equal(started.status, 202, started.text);
      await runningOperation('backup');
      await sendHostileSignals(started.json.id);

      const cancel = await instanceB.request('POST', '/operations/current/cancel', { token: admin });
      assert.equal(cancel.status, 200, cancel.text);
      assert.equal(cancel.json.stopped, true);
      assert.equal(cancel.json.operation.id, started.json.id);
      const backup = (await server.request('GET', `/backups/${started.json.id}`, { token: admin })).json;
      assert.equal(backup.status, 'failed');
      assert.equal(backup.error, 'cancelled');
    } finally {
      await blocker.end();
    }
  });

  it('a cancel sent while the holder was not listening reaches it once its listening connection is back', async () => {
    const blocker = await blockTable(pg.url('shop'), 'items');
    try {
      const started = await server.request('POST', '/backups', { token: admin });
      assert.equal(started.status, 202, started.text);
      await runningOperation('backup');
      // every instance's listener drops; the cancel's NOTIFY goes out before any is back
      await watcher.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE '%:listen'`);
      const cancel = await instanceB.request('POST', '/operations/current/cancel', { token: admin });
      assert.equal(cancel.status, 200, cancel.text);
      const backup = await server.waitDone(`/backups/${started.json.id}`, admin, 20_000);
      assert.equal(backup.status, 'failed');
      assert.equal(backup.error, 'cancelled');
    } finally {
      await blocker.end();
    }
  });
});
