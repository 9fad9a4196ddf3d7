import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BackupTrigger } from '../../src/automation/backup-trigger';
import { admin, startApp, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';

const ROLES = ['student', 'instructor', 'admin'];
const ACCOUNTS = 120;
const BATCH = 20;

describe('example accounts: backups on the host app events', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let accountsUrl: string;

  const post = async (body: unknown, token: string | undefined = admin) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const started = performance.now();
    const res = await fetch(accountsUrl, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as any, ms: performance.now() - started };
  };
  /** The event backups, newest first, each as GET /backups/:id gives it (with its per-table metadata). */
  const eventBackups = async () => {
    const items = (await server.request('GET', '/backups?type=event', { token: admin })).json.items as any[];
    return Promise.all(items.map(async (b) => (await server.request('GET', `/backups/${b.id}`, { token: admin })).json));
  };

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database academy');
    server = await startApp(pg.url('academy'), { trigger: { debounceMs: 500 } }, { example: true });
    accountsUrl = `${new URL(server.base).origin}/api/example/accounts`;
    // opens the pool's connections, so the timings below are not a cold start's
    await Promise.all(Array.from({ length: BATCH }, () => fetch(accountsUrl, { headers: { authorization: `Bearer ${admin}` } })));
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('answers every POST at once and coalesces 120 new accounts into one event backup', async () => {
    const latencies: number[] = [];
    for (let start = 0; start < ACCOUNTS; start += BATCH) {
      const batch = await Promise.all(
        Array.from({ length: BATCH }, (_, i) => post({ email: `user${start + i}@example.com`, role: ROLES[(start + i) % ROLES.length] })),
      );
      for (const r of batch) assert.equal(r.status, 201, JSON.stringify(r.json));
      latencies.push(...batch.map((r) => r.ms));
    }
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.ceil(latencies.length * 0.99) - 1];
    console.log(`POST /api/example/accounts ×${ACCOUNTS}: p50 ${latencies[ACCOUNTS / 2].toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
    assert.ok(p99 < 500, `p99 ${p99} ms`);

    await server.app.get(BackupTrigger).idle();
    const backups = await eventBackups();
    assert.equal(backups.length, 1, JSON.stringify(backups.map((b) => b.origin)));
    const [backup] = backups;
    assert.equal(backup.status, 'completed', JSON.stringify(backup));
    assert.equal(backup.origin.trigger.requests, ACCOUNTS);
    assert.deepEqual(backup.origin.trigger.reasons, { role_creation: ACCOUNTS });
    assert.deepEqual(Object.keys(backup.origin.trigger.details[0]).sort(), ['accountId', 'role']);
    assert.equal(backup.metadata.tables['public.app_accounts'], ACCOUNTS);
  });

  it('makes a second event backup for one more account, after the debounce', async () => {
    const r = await post({ email: 'late@example.com', role: 'instructor' });
    assert.equal(r.status, 201);
    assert.equal((await eventBackups()).length, 1, 'not before the debounce');

    await server.app.get(BackupTrigger).idle();
    const [newest, first] = await eventBackups();
    assert.ok(first, 'two event backups');
    assert.equal(newest.status, 'completed', JSON.stringify(newest));
    assert.deepEqual(newest.origin.trigger.details, [{ role: 'instructor', accountId: r.json.id }]);
    assert.equal(newest.metadata.tables['public.app_accounts'], ACCOUNTS + 1);
  });

  it('lists the newest 50 accounts first', async () => {
    const res = await fetch(accountsUrl, { headers: { authorization: `Bearer ${admin}` } });
    assert.equal(res.status, 200);
    const accounts = (await res.json()) as any[];
    assert.equal(accounts.length, 50);
    assert.equal(accounts[0].email, 'late@example.com');
  });

  it('refuses a bad role (400), a taken email (409) and a missing token (401), with no backup requested', async () => {
    const bad = await post({ email: 'bob@example.com', role: 'owner' });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.json.message), /role must be one of/);

    const taken = await post({ email: 'User0@Example.com', role: 'admin' });
    assert.equal(taken.status, 409);
    assert.equal(taken.json.message, 'an account with email user0@example.com already exists');

    assert.equal((await post({ email: 'eve@example.com', role: 'admin' }, '')).status, 401);

    await server.app.get(BackupTrigger).idle();
    assert.equal((await eventBackups()).length, 2);
  });
});
