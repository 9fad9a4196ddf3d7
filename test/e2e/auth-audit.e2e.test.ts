import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { admin, startApp, TEST_SECRET, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';
import { hs256, rs256 } from '../support/tokens';

describe('admin guard and audit trail', () => {
  let pg: TestPostgres;
  let server: TestApp;
  
  before(async () => {
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql('create table t (x int); insert into t values (1)', 'app');
    server = await startApp(pg.url('app'), { auth: { secret: TEST_SECRET, adminRoles: ['admin', 'backup-operator'] } });
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  const refusals: [string, string | undefined, number][] = [
    ['no token', undefined, 401],
    ['a forged signature', hs256({ sub: 'eve', roles: ['admin'] }, 'not-the-secret-at-all'), 401],
    ['alg none', hs256({ sub: 'eve', roles: ['admin'] }, '', { alg: 'none' }), 401],
    ['an expired token', hs256({ sub: 'old', roles: ['admin'] }, TEST_SECRET, { expiresIn: -60 }), 401],
    ['HS256 signed with an unrelated key but claiming RS256', hs256({ sub: 'eve', roles: ['admin'] }, TEST_SECRET, { alg: 'RS256' }), 401],
    ['a garbage token', 'abc.def.ghi', 401],
    ['a token without exp', hs256({ sub: 'eve', roles: ['admin'], exp: undefined }, TEST_SECRET), 401],
    ['a token living longer than the maximum (exp - iat)', hs256({ sub: 'eve', roles: ['admin'] }, TEST_SECRET, { expiresIn: 86_400 + 60 }), 401],
    ['a token without iat expiring beyond the maximum', hs256({ sub: 'eve', roles: ['admin'], iat: undefined }, TEST_SECRET, { expiresIn: 86_400 + 60 }), 401],
    ['a user without an admin role', hs256({ sub: 'mallory', roles: ['user'] }, TEST_SECRET), 403],
    ['a token without roles', hs256({ sub: 'nobody' }, TEST_SECRET), 403],
  ];
  for (const [name, token, status] of refusals) {
    it(`refuses ${name} with ${status}, on reads and writes`, async () => {
      assert.equal((await server.request('GET', '/backups', { token })).status, status);
      assert.equal((await server.request('POST', '/backups', { token, body: {} })).status, status);
      assert.equal((await server.request('GET', '/audit', { token })).status, status);
    });
  }

  it('accepts a token living exactly the maximum lifetime', async () => {
    assert.equal((await server.request('GET', '/backups', { token: hs256({ sub: 'day', roles: ['admin'] }, TEST_SECRET, { expiresIn: 86_400 }) })).status, 200);
  });

  it('accepts the role string claim and any configured admin role', async () => {
    assert.equal((await server.request('GET', '/backups', { token: hs256({ sub: 'bob', role: 'admin' }, TEST_SECRET) })).status, 200);
    assert.equal((await server.request('GET', '/backups', { token: hs256({ sub: 'op', roles: ['backup-operator'] }, TEST_SECRET) })).status, 200);
  });

  it('audits every refusal with actor, outcome denied, reason and ip', async () => {
    const denied = (await server.request('GET', '/audit?outcome=denied&limit=200', { token: admin })).json;
    const mallory = denied.items.filter((e: any) => e.actor === 'mallory');
    assert.equal(mallory.length, 3);
    assert.deepEqual(mallory.map((e: any) => e.action).sort(), ['audit.list', 'backup.create', 'backup.list']);
    assert.ok(mallory.every((e: any) => e.ip && /no admin, operator or viewer role/.test(e.detail.reason)));
    const anonymous = denied.items.filter((e: any) => e.actor === null);
    const calls = (entries: any[]) => entries.reduce((sum, e) => sum + e.count, 0);
    // refusals of one address, action and reason within a minute share an entry and count up
    assert.equal(calls(anonymous), 9 * 3, 'every 401 audited without trusting the unverified subject');
    assert.ok(anonymous.length < 9 * 3, 'refusals coalesced');
    assert.ok(anonymous.some((e: any) => /expired/.test(e.detail.reason)));
    assert.equal(calls(anonymous.filter((e: any) => e.detail.reason === 'the token has no exp claim')), 3);
    assert.equal(calls(anonymous.filter((e: any) => /longer than the 86400 s allowed/.test(e.detail.reason))), 6);
  });

  it('audits successful changes and failed ones, and filters exactly', async () => {
    const bad = await server.request('GET', '/backups/00000000-0000-4000-8000-000000000000/download', { token: admin });
    assert.equal(bad.status, 404);
    const put = await server.request('PUT', '/backups/config', { token: admin, body: { verifyAfterCreate: true } });
    assert.equal(put.status, 200);
    const entries = (await server.request('GET', '/audit?actor=alice&limit=200', { token: admin })).json.items;
    assert.ok(entries.every((e: any) => e.actor === 'alice'));
    const download = entries.find((e: any) => e.action === 'backup.download');
    assert.equal(download.outcome, 'failure');
    assert.equal(download.detail.status, 404);
    assert.equal(entries.find((e: any) => e.action === 'config.update').outcome, 'success');
    const reads = entries.filter((e: any) => e.action === 'backup.list');
    assert.equal(reads.length, 0, 'plain reads are not audited when they succeed');
    const byAction = (await server.request('GET', '/audit?action=config.update', { token: admin })).json;
    assert.equal(byAction.total, 1);
  });

  it('an audit write that fails never breaks the request it records', async () => {
    pg.psql('alter table backup_admin.audit_log rename to audit_log_away', 'app');
    try {
      const r = await server.request('PUT', '/backups/config', { token: admin, body: { verifyAfterCreate: false } });
      assert.equal(r.status, 200);
      assert.equal((await server.request('GET', '/backups', { token: hs256({ sub: 'm', roles: ['user'] }, TEST_SECRET) })).status, 403);
    } finally {
      pg.psql('alter table backup_admin.audit_log_away rename to audit_log', 'app');
    }
  });

  it('verifies RS256 tokens with a configured public key, pinned to asymmetric algorithms', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rsServer = await startApp(pg.url('app'), { auth: { publicKey: pem, adminRoles: ['admin'] } });
    try {
      assert.equal((await rsServer.request('GET', '/backups', { token: rs256({ sub: 'rsa-admin', roles: ['admin'] }, privateKey) })).status, 200);
      // The classic confusion attack: HS256 signed with the public key as the secret.
      assert.equal((await rsServer.request('GET', '/backups', { token: hs256({ sub: 'eve', roles: ['admin'] }, pem) })).status, 401);
      assert.equal((await rsServer.request('GET', '/backups', { token: rs256({ sub: 'x', roles: ['admin'] }, privateKey, -10) })).status, 401);
    } finally {
      await rsServer.close();
    }
  });
});
