import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RolesMissingException } from '../../src/common/exceptions';
import type { ClusterObjects, ClusterRole } from '../../src/database/cluster-objects';
import { ClusterState, DatabaseInfoRepository } from '../../src/database/database-info.repository';
import { RolePreflight } from '../../src/restore/role-preflight';
import { backupRow } from './support/fixtures';

function role(name: string, attributes: Partial<ClusterRole> = {}): ClusterRole {
  return { name, login: false, inherit: true, createdb: false, createrole: false, replication: false, bypassrls: false, connectionLimit: -1, validUntil: null, inPolicy: false, ...attributes };
}

const CLUSTER: ClusterObjects = {
  roles: [role('app_owner'), role('app_login', { login: true }), role('tenant', { inPolicy: true }), role('present')],
  memberships: [{ role: 'present', member: 'app_login', admin: false }],
  tablespaces: ['fast', 'here'],
  settings: ['work_mem=8MB', 'log_statement=all', 'search_path=shop'],
};

function preflight(state: Partial<ClusterState> = {}, cluster: unknown = CLUSTER) {
  const database = {
    clusterState: async (): Promise<ClusterState> => ({
      roles: ['present'],
      tablespaces: ['here'],
      superuser: false,
      createRole: true,
      databaseOwner: true,
      settings: ['search_path=shop'],
      superuserSettings: ['log_statement'],
      ...state,
    }),
    server: async () => ({ database: 'app', version: '15.8', major: 15 }),
  };
  const backup = backupRow({ metadata: { database: 'app', serverVersion: '15', pgDumpVersion: '15', productVersion: '0', tables: {}, cluster: cluster as ClusterObjects } });
  return { sut: new RolePreflight(database as unknown as DatabaseInfoRepository), backup };
}

describe('RolePreflight.check', () => {
  it('names what the cluster lacks and what the restoring role may do about it', async () => {
    const { sut, backup } = preflight();
    const found = await sut.check(backup);
    assert.deepEqual(found.missing, ['app_owner', 'app_login', 'tenant']);
    assert.deepEqual(found.needPassword, ['app_login']);
    assert.deepEqual(found.policyRolesMissing, ['tenant']);
    assert.equal(found.canCreateRoles, true);
    assert.deepEqual(found.tablespacesMissing, ['fast']);
    assert.deepEqual(found.settingsToApply, ['work_mem=8MB'], 'a setting already in place is left alone');
    assert.deepEqual(found.settingsNotApplied, ['log_statement=all'], 'superuser-only');
  });

  it('applies no setting for a role that does not own the database; a superuser applies all', async () => {
    assert.deepEqual((await preflight({ databaseOwner: false }).sut.check(preflight().backup)).settingsNotApplied, ['work_mem=8MB', 'log_statement=all']);
    assert.deepEqual((await preflight({ superuser: true, databaseOwner: false }).sut.check(preflight().backup)).settingsToApply, ['work_mem=8MB', 'log_statement=all']);
  });

  it('needs nothing for a backup from before cluster objects were recorded, and drops malformed entries', async () => {
    const { sut, backup } = preflight({}, null);
    assert.deepEqual((await sut.check(backup)).missing, []);
    const odd = preflight({}, { roles: [{ name: 'pg_monitor' }, { name: 42 }, null, role('ok')], memberships: 'x', tablespaces: [7], settings: ['noequals', '=x', 'a=b'] });
    const found = await odd.sut.check(odd.backup);
    assert.deepEqual(found.missing, ['ok']);
    assert.deepEqual(found.tablespacesMissing, []);
    assert.deepEqual(found.settingsToApply, ['a=b']);
  });
});

describe('RolePreflight.plan', () => {
  it('create (the default): the roles, their memberships and the settings, in SQL; the detail lists who needs a password', async () => {
    const { sut, backup } = preflight();
    const plan = await sut.plan(backup);
    assert.match(plan.sql, /CREATE ROLE "app_owner" NOLOGIN[^\n]*\nCREATE ROLE "app_login" LOGIN[^\n]*\nCREATE ROLE "tenant"/);
    assert.match(plan.sql, /GRANT "present" TO "app_login";/);
    assert.match(plan.sql, /GRANT "app_owner" TO CURRENT_USER;/);
    assert.match(plan.sql, /ALTER DATABASE "app" SET "work_mem" FROM CURRENT;/);
    assert.doesNotMatch(plan.sql, /log_statement/);
    assert.equal(plan.noOwner, false);
    assert.equal(plan.noTablespaces, true);
    assert.deepEqual(plan.detail, {
      roles: { created: ['app_owner', 'app_login', 'tenant'], needPassword: ['app_login'], skipped: [] },
      tablespacesMissing: ['fast'],
      settingsNotApplied: ['log_statement=all'],
    });
  });

  it('create without CREATEROLE: 422 naming the roles and suggesting skip', async () => {
    const { sut, backup } = preflight({ createRole: false });
    await assert.rejects(sut.plan(backup, 'create'), (error: Error) => {
      assert.ok(error instanceof RolesMissingException);
      assert.match(error.message, /app_owner, app_login, tenant, and the restoring role may not create roles .*roles "skip"/);
      return true;
    });
  });

  it('require: 422 naming the missing roles', async () => {
    const { sut, backup } = preflight({ superuser: true });
    await assert.rejects(sut.plan(backup, 'require'), /lacks roles .*: app_owner, app_login, tenant; create them first/);
  });

  it('require with nothing missing goes on', async () => {
    const { sut, backup } = preflight({ roles: ['app_owner', 'app_login', 'tenant', 'present'] });
    const plan = await sut.plan(backup, 'require');
    assert.equal(plan.detail.roles, undefined);
    assert.doesNotMatch(plan.sql, /CREATE ROLE/);
  });

  it('skip: 422 when a policy names a missing role; else no owners, no grants, no roles created', async () => {
    await assert.rejects(preflight().sut.plan(preflight().backup, 'skip'), /policies .* name roles the cluster lacks: tenant/);
    const { sut, backup } = preflight({ roles: ['present', 'tenant'], createRole: false });
    const plan = await sut.plan(backup, 'skip');
    assert.equal(plan.noOwner, true);
    assert.doesNotMatch(plan.sql, /CREATE ROLE|GRANT/);
    assert.deepEqual(plan.detail.roles, { created: [], needPassword: [], skipped: ['app_owner', 'app_login'] });
  });
});
