import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { StorageRepository } from '../../src/infra/storage/storage.repository';
import { admin, startApp, TEST_SECRET, TestApp } from '../support/app';
import { until } from '../support/net';
import { startPostgres, TestPostgres } from '../support/postgres';
import { hs256 } from '../support/tokens';

/** What a refused call may cost the database, and how often the public routes may make it work. */
describe('bounded audit, rate limits, audit retention, cached readiness', () => {
  let pg: TestPostgres;
  let server: TestApp;

  const auditRows = () => Number(pg.psql('select count(*) from backup_admin.audit_log', 'app'));
  const auditBytes = () => Number(pg.psql(`select pg_total_relation_size('backup_admin.audit_log')`, 'app'));

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql('create table t (x int); insert into t values (1)', 'app');
    server = await startApp(pg.url('app'));
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  it('200 anonymous calls with 15 KB query strings add a few bounded rows, counted', async (t) => {
    const rowsBefore = auditRows();
    const bytesBefore = auditBytes();
    for (let i = 0; i < 200; i++) {
      // incompressible, so TOAST does not shrink what an unbounded entry would keep
      const r = await server.request('GET', `/backups?junk=${randomBytes(7680).toString('hex')}`);
      assert.equal(r.status, 401);
    }
    const added = auditRows() - rowsBefore;
    const grown = auditBytes() - bytesBefore;
    t.diagnostic(`200 refusals: ${added} rows, ${grown} bytes (table, indexes and TOAST)`);
    // one entry per minute; the run may straddle a minute boundary or two
    assert.ok(added >= 1 && added <= 3, `${added} rows added`);
    assert.ok(grown <= 128 * 1024, `the table grew by ${grown} bytes`);
    const counted = pg.psql(`select sum(count), max(length(detail::text)) from backup_admin.audit_log where actor is null and action = 'backup.list'`, 'app');
    const [calls, longest] = counted.split('|').map(Number);
    assert.equal(calls, 200, 'every refusal counted');
    assert.ok(longest <= 4096, `the detail holds ${longest} characters`);
  });

  it('a body PostgreSQL cannot store as is (NUL, lone surrogate) is still audited, sanitized', async () => {
    const before = Number(pg.psql(`select count(*) from backup_admin.audit_log where action = 'config.update' and outcome = 'failure'`, 'app'));
    const body = `{"verifyAfterCreate":true,"bogus\\u0000field":"a\\u0000b\\ud800c"}`;
    const res = await fetch(`${server.base}/backups/config`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body,
    });
    assert.equal(res.status, 400, await res.text());
    const entries = (await server.request('GET', '/audit?action=config.update&outcome=failure', { token: admin })).json.items;
    assert.equal(entries.length, before + 1, 'the refused change is audited');
    assert.deepEqual(entries[0].detail.body, { verifyAfterCreate: true, 'bogus\uFFFDfield': 'a\uFFFDb\uFFFDc' });
    assert.equal(entries[0].detail.status, 400);
  });

  it('a NUL byte in the path id is audited too, replaced, with or without a token', async () => {
    assert.equal((await server.request('GET', '/backups/%00abc/download', { token: admin })).status, 400);
    assert.equal((await server.request('GET', '/backups/%00abc/download')).status, 401);
    const entries = (await server.request('GET', '/audit?action=backup.download', { token: admin })).json.items;
    assert.deepEqual(
      entries.map((e: any) => [e.outcome, e.actor, e.target]).sort(),
      [['denied', null, '\uFFFDabc'], ['failure', 'alice', '\uFFFDabc']],
    );
  });

  it('requests Express refuses before any route (a body that is not JSON, a path that does not decode) are audited, coalesced', async () => {
    const rejected = () => pg.psql(`select count(*), coalesce(sum(count), 0) from backup_admin.audit_log where action = 'request.rejected' and outcome = 'failure'`, 'app');
    assert.equal(rejected(), '0|0');
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${server.base}/backups`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"notes": "unterminated ${i}` });
      assert.equal(res.status, 400);
    }
    assert.equal((await fetch(`${server.base}/backups/%FF`, { headers: { authorization: `Bearer ${admin}` } })).status, 400);
    const [rows, calls] = rejected().split('|').map(Number);
    assert.equal(calls, 31, 'every refused request counted');
    assert.ok(rows >= 2 && rows <= 4, `${rows} rows: one per reason and minute`);
    const entry = (await server.request('GET', '/audit?action=request.rejected&limit=10', { token: admin })).json.items.find((e: any) => e.detail.status === 400 && /JSON/.test(e.detail.error));
    assert.equal(entry.actor, null);
    assert.match(entry.detail.path, /^\/api\/admin\/backups$/);
    assert.equal((await fetch(server.base.replace(/\/api\/admin$/, '/health/ready'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })).status, 400);
    assert.equal(rejected().split('|')[1], '31', 'routes outside the admin API are not audited');
  });

  it('answers 429 past the per-token limit, with Retry-After, and audits the refusals coalesced', async () => {
    const limited = await startApp(pg.url('app'), { rateLimit: { perTokenPerMinute: 5 } });
    try {
      const carol = hs256({ sub: 'carol', roles: ['admin'] }, TEST_SECRET);
      for (let i = 0; i < 5; i++) assert.equal((await limited.request('GET', '/backups', { token: carol })).status, 200);
      const refused = await limited.request('GET', '/operations/current', { token: carol });
      assert.equal(refused.status, 429, 'the limit spans the whole admin API, not one route');
      assert.match(refused.json.message, /at most 5 per 1 min/);
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
      assert.equal((await limited.request('GET', '/backups', { token: carol })).status, 429);
      assert.equal((await limited.request('GET', '/backups', { token: admin })).status, 200, 'another token has its own count');
      const entries = (await limited.request('GET', '/audit?outcome=denied&limit=200', { token: admin })).json.items.filter((e: any) =>
        /rate limit exceeded/.test(e.detail.reason),
      );
      assert.equal(entries.reduce((sum: number, e: any) => sum + e.count, 0), 2);
      assert.ok(entries.every((e: any) => e.actor === null && e.ip), 'the token is not verified before the limit: no actor trusted');
    } finally {
      await limited.close();
    }
  });

  it('answers 429 past the per-address limit, whatever the tokens', async () => {
    const limited = await startApp(pg.url('app'), { rateLimit: { perAddressPerMinute: 3 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await limited.request('GET', '/backups', { token: hs256({ sub: `u${i}`, roles: ['admin'] }, TEST_SECRET) })).status);
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    } finally {
      await limited.close();
    }
  });

  it('limits backups per user and hour', async () => {
    const limited = await startApp(pg.url('app'), { rateLimit: { backupsPerUserPerHour: 1 } });
    try {
      assert.equal((await limited.createBackup()).status, 'completed');
      const second = await limited.request('POST', '/backups', { token: admin, body: {} });
      assert.equal(second.status, 429, second.text);
      assert.match(second.json.message, /at most 1 per 1 h/);
      assert.equal((await limited.request('GET', '/backups', { token: admin })).status, 200, 'other calls are not limited by it');
      const bob = hs256({ sub: 'bob', roles: ['admin'] }, TEST_SECRET);
      assert.equal((await limited.createBackup({}, bob)).status, 'completed', 'another user has his own count');
      const denied = (await limited.request('GET', '/audit?outcome=denied&action=backup.create', { token: admin })).json.items;
      assert.equal(denied.length, 1);
      assert.equal(denied[0].actor, 'alice', 'after the token is verified, the refusal names the user');
    } finally {
      await limited.close();
    }
  });

  it('deletes audit entries older than the retention, keeping newer ones', async () => {
    pg.psql(
      `insert into backup_admin.audit_log (action, actor, outcome, created_at)
       select 'old.entry', 'x', 'success', now() - interval '40 days' from generate_series(1, 2500);
       insert into backup_admin.audit_log (action, actor, outcome, created_at) values ('recent.entry', 'x', 'success', now() - interval '10 days')`,
      'app',
    );
    const pruning = await startApp(pg.url('app'), { audit: { retentionDays: 30 } });
    try {
      const count = (action: string) => Number(pg.psql(`select count(*) from backup_admin.audit_log where action = '${action}'`, 'app'));
      await until(() => count('old.entry') === 0, 'the old entries to go', { timeoutMs: 20_000, pollMs: 100 });
      assert.equal(count('recent.entry'), 1);
      assert.ok(auditRows() > 1, 'entries within the retention stay');
    } finally {
      await pruning.close();
    }
  });

  it('/health/ready called 50 times at once runs its checks once, and again once the answer is old', async () => {
    // long enough that 50 calls on a loaded machine all fall within it
    const cached = await startApp(pg.url('app'), { health: { readyCacheMs: 5000 } });
    try {
      const storage = cached.app.get(StorageRepository, { strict: false });
      let probes = 0;
      const createPartial = storage.createPartial.bind(storage);
      storage.createPartial = (path: string) => {
        if (path.includes('.health-')) probes++;
        return createPartial(path);
      };
      const ready = () => fetch(cached.base.replace(/\/api\/admin$/, '/health/ready')).then((r) => r.status);
      const statuses = await Promise.all(Array.from({ length: 50 }, ready));
      assert.deepEqual(new Set(statuses), new Set([200]));
      assert.equal(probes, 1, 'one probe file for 50 calls');
      await until(async () => (await ready()) === 200 && probes === 2, 'a fresh check after the cache time', { timeoutMs: 20_000, pollMs: 100 });
    } finally {
      await cached.close();
    }
  });
});
