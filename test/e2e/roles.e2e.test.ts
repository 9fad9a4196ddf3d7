import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AccessLevel, grants, PERMISSION_LEVELS, Permission } from '../../src/auth/permissions';
import { buildPgBackupDocument } from '../../src/openapi/openapi';
import { ADMIN_SECURITY } from '../../src/openapi/openapi.constants';
import { admin, startApp, TEST_SECRET, TestApp } from '../support/app';
import { startPostgres, TestPostgres } from '../support/postgres';
import { hs256 } from '../support/tokens';

interface Operation {
  method: string;
  path: string;
  permission: Permission;
  level: AccessLevel;
  description: string;
}

const TOKENS: Record<AccessLevel, { sub: string; token: string }> = {
  viewer: { sub: 'vera', token: hs256({ sub: 'vera', roles: ['auditor'] }, TEST_SECRET) },
  operator: { sub: 'otto', token: hs256({ sub: 'otto', role: 'backup-operator' }, TEST_SECRET) },
  admin: { sub: 'alice', token: admin },
};

describe('operator and viewer roles, route by route', () => {
  let pg: TestPostgres;
  let server: TestApp;
  let backupId: string;
  let operations: Operation[];

  before(async () => {
    pg = await startPostgres();
    pg.psql('create database app');
    pg.psql('create table t (x int); insert into t select generate_series(1, 100)', 'app');
    server = await startApp(pg.url('app'), {
      auth: { secret: TEST_SECRET, adminRoles: ['admin'], operatorRoles: ['backup-operator'], viewerRoles: ['auditor'] },
    });
    backupId = (await server.createBackup({ notes: 'walked' })).id;
    const document = buildPgBackupDocument(server.app);
    operations = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item as Record<string, any>)) {
        if (!operation?.security?.some((s: Record<string, unknown>) => ADMIN_SECURITY in s)) continue;
        operations.push({ method: method.toUpperCase(), path, permission: operation['x-required-permission'], level: operation['x-required-role'], description: operation.description });
      }
    }
  });

  after(async () => {
    await server?.close();
    pg?.stop();
  });

  /** One call as `level`; the event stream is read only up to its status. */
  async function call(op: Operation, level: AccessLevel): Promise<{ status: number; json: any }> {
    const url = `${server.base.replace(/\/api\/admin$/, '')}${op.path.replace('{id}', backupId)}`;
    const headers: Record<string, string> = { authorization: `Bearer ${TOKENS[level].token}` };
    const body = op.method === 'GET' ? undefined : op.path.endsWith('/restore') ? '{"confirm":false}' : '{}';
    if (body) headers['content-type'] = 'application/json';
    const abort = new AbortController();
    const response = await fetch(url, { method: op.method, headers, body, signal: abort.signal });
    if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      abort.abort();
      return { status: response.status, json: null };
    }
    const text = await response.text();
    return { status: response.status, json: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null };
  }

  it('finds every admin operation of the document declaring its permission and level, from the one table', () => {
    assert.ok(operations.length >= 23, `only ${operations.length} admin operations`);
    for (const op of operations) {
      assert.ok(op.permission in PERMISSION_LEVELS, `${op.method} ${op.path} declares a known permission: ${op.permission}`);
      assert.equal(op.level, PERMISSION_LEVELS[op.permission], `${op.method} ${op.path}`);
      assert.match(op.description, new RegExp(`Requires \`${op.permission.replace('.', '\\.')}\`: (an admin|an operator or an admin|a viewer, an operator or an admin)\\.$`));
    }
    const byRoute = Object.fromEntries(operations.map((op) => [`${op.method} ${op.path}`, op.level]));
    assert.equal(byRoute['POST /api/admin/backups/{id}/restore'], 'admin');
    assert.equal(byRoute['DELETE /api/admin/backups/{id}'], 'admin');
    assert.equal(byRoute['PUT /api/admin/backups/config'], 'admin');
    assert.equal(byRoute['POST /api/admin/backups/cleanup'], 'admin');
    assert.equal(byRoute['POST /api/admin/backups'], 'operator');
    assert.equal(byRoute['GET /api/admin/backups/{id}/download'], 'operator');
    assert.equal(byRoute['GET /api/admin/operations/current/events'], 'viewer');
    assert.equal(byRoute['GET /api/admin/audit'], 'viewer');
    assert.equal(byRoute['GET /api/admin/me'], 'viewer');
  });

  it('tells each token who it is and what it may do', async () => {
    for (const level of ['viewer', 'operator', 'admin'] as const) {
      const me = await server.request('GET', '/me', { token: TOKENS[level].token });
      assert.equal(me.status, 200);
      assert.equal(me.json.sub, TOKENS[level].sub);
      assert.equal(me.json.level, level);
      const expected = (Object.keys(PERMISSION_LEVELS) as Permission[]).filter((p) => grants(level, PERMISSION_LEVELS[p]));
      assert.deepEqual(me.json.permissions, expected);
    }
    assert.ok(!(await server.request('GET', '/me', { token: TOKENS.operator.token })).json.permissions.includes('backup.restore'));
  });

  for (const level of ['viewer', 'operator'] as const) {
    it(`lets ${level === 'viewer' ? 'a viewer' : 'an operator'} call exactly the routes of its level; the rest answer 403, change nothing and are audited denied`, async () => {
      const configBefore = (await server.request('GET', '/backups/config', { token: admin })).json;
      const refused: Operation[] = [];
      for (const op of operations) {
        const { status, json } = await call(op, level);
        if (grants(level, op.level)) {
          assert.ok(![401, 403].includes(status) && status < 500, `${level} ${op.method} ${op.path} answered ${status}: ${JSON.stringify(json)}`);
        } else {
          assert.equal(status, 403, `${level} ${op.method} ${op.path}`);
          assert.equal(json.message, `${op.permission} needs the ${op.level} role; the token's is ${level}`);
          refused.push(op);
        }
      }
      assert.ok(refused.length > 0);
      await server.waitDone(`/backups/${backupId}`, admin);

      const backup = await server.request('GET', `/backups/${backupId}`, { token: admin });
      assert.equal(backup.status, 200, 'not deleted');
      assert.equal((await server.request('GET', '/restores', { token: admin })).json.total, 0, 'nothing restored');
      assert.deepEqual((await server.request('GET', '/backups/config', { token: admin })).json, configBefore, 'settings unchanged');

      const denied = (await server.request('GET', `/audit?outcome=denied&actor=${TOKENS[level].sub}&limit=200`, { token: admin })).json.items;
      assert.equal(
        denied.reduce((sum: number, entry: any) => sum + entry.count, 0),
        refused.length,
        `one denied entry per refused call: ${JSON.stringify(denied.map((e: any) => e.action))}`,
      );
      assert.ok(denied.every((entry: any) => new RegExp(`needs the (operator|admin) role; the token's is ${level}$`).test(entry.detail.reason)));
    });
  }

  it('lets an admin call every route', async () => {
    for (const op of operations) {
      const { status, json } = await call(op, 'admin');
      assert.ok(![401, 403].includes(status) && status < 500, `admin ${op.method} ${op.path} answered ${status}: ${JSON.stringify(json)}`);
    }
  });

  it('refuses a valid token with none of the configured roles with 403, audited', async () => {
    const nobody = hs256({ sub: 'nobody', roles: ['user', 'viewer', 'operator'] }, TEST_SECRET);
    const me = await server.request('GET', '/me', { token: nobody });
    assert.equal(me.status, 403);
    assert.equal(me.json.message, 'the token carries no admin, operator or viewer role');
    const denied = (await server.request('GET', '/audit?outcome=denied&actor=nobody', { token: admin })).json.items;
    assert.equal(denied.length, 1);
    assert.equal(denied[0].action, 'auth.me');
    assert.match(denied[0].detail.reason, /^no admin, operator or viewer role \(roles: user, viewer, operator\)$/);
  });
});
