import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import S3rver from 's3rver';
import { S3StorageOptions } from '../../src/pg-backup.options';
import { admin, startApp, TestApp } from '../support/app';
import { pgBinDir, startPostgres, TestPostgres } from '../support/postgres';

const ODD = 'Odd "Role" ü';
const ROLES = ['app_login', 'app_owner', 'app_reader', 'tenant', ODD];
const MANIFEST_KEY = 'dr-manifest-key-0123456789';

/** The lost database: roles owning it and granted on it, a membership, RLS, default privileges, database settings. */
const FIXTURE = `
create role app_owner nologin createdb;
create role app_reader nologin;
create role tenant nologin;
create role "Odd ""Role"" ü" nologin;
create role app_login login password 'secret' connection limit 5 valid until '2099-01-01 00:00:00+00';
grant app_reader to app_login with admin option;
\\c app
create schema shop authorization app_owner;
create table shop.orders (id int primary key, tenant text not null, amount int not null);
alter table shop.orders owner to app_owner;
insert into shop.orders select g, case when g % 2 = 0 then 'tenant' else 'other' end, g * 10 from generate_series(1, 2000) g;
grant usage on schema shop to app_reader, "Odd ""Role"" ü";
grant select on shop.orders to app_reader;
grant select (id, amount) on shop.orders to "Odd ""Role"" ü";
alter table shop.orders enable row level security;
create policy tenant_rows on shop.orders to tenant using (tenant = current_user);
alter default privileges for role app_owner in schema shop grant select on tables to app_reader;
create table shop.archive (id int primary key) tablespace fast;
alter table shop.archive owner to app_owner;
insert into shop.archive select generate_series(1, 50);
alter database app set work_mem = '8MB';
alter database app set search_path = shop, public;
alter database app set app.greeting = 'it''s, "quoted"';
`;

const q = (names: string[]) => names.map((n) => `'${n.replace(/'/g, "''")}'`).join(', ');

/** What of the cluster a restore must bring back, as text to compare. */
function clusterFacts(pg: TestPostgres, database: string) {
  return {
    roles: pg.psql(
      `select rolname, rolcanlogin, rolinherit, rolcreatedb, rolcreaterole, rolconnlimit, to_json(rolvaliduntil) from pg_roles where rolname in (${q(ROLES)}) order by 1`,
    ),
    memberships: pg.psql(
      `select g.rolname, u.rolname, m.admin_option from pg_auth_members m join pg_roles g on g.oid = m.roleid join pg_roles u on u.oid = m.member
        where g.rolname in (${q(ROLES)}) and u.rolname in (${q(ROLES)}) order by 1, 2`,
    ),
    settings: pg.psql(
      `select array_to_string(setconfig, E'\\n') from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase where d.datname = '${database}' and s.setrole = 0`,
    ),
  };
}

/** pg_dump -s without comments, session settings and the module's own schema. */
function schemaOf(pg: TestPostgres, database: string): string[] {
  const out = execFileSync(join(pgBinDir(), 'pg_dump'), ['-s', '-N', 'backup_admin', '-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', database], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.trim() && !/^(--|SET |SELECT pg_catalog.set_config|\\restrict|\\unrestrict)/.test(line));
}

/** RestoreDetail.roles with each list in code-point order. */
const sorted = (roles: Record<string, string[]>) => Object.fromEntries(Object.entries(roles).map(([k, v]) => [k, [...v].sort()]));

const rowsOf = (pg: TestPostgres, database: string) => pg.psql('select * from shop.orders order by id', database);

describe('disaster recovery onto a new cluster: only the backup directory and the bucket survive', () => {
  let old: TestPostgres | undefined;
  let fresh: TestPostgres;
  let s3server: S3rver;
  let s3: S3StorageOptions;
  let backupDir: string;
  let tablespaceDir: string | undefined;
  let backup: any;
  let lost: { schema: string[]; rows: string; facts: ReturnType<typeof clusterFacts> };
  const apps: TestApp[] = [];

  before(async () => {
    s3server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: mkdtempSync(join(tmpdir(), 'pgb-s3-')), configureBuckets: [{ name: 'backups' }] });
    const { port } = await s3server.run();
    s3 = { bucket: 'backups', prefix: 'dr/', endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

    old = await startPostgres();
    old.psql('create database app');
    tablespaceDir = mkdtempSync(join(tmpdir(), 'pgb-tablespace-'));
    if (process.getuid?.() === 0) chownSync(tablespaceDir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), 0);
    old.psql(`create tablespace fast location '${tablespaceDir}'`);
    old.psql(FIXTURE);
    const server = await startApp(old.url('app'), { s3, manifestHmacKey: MANIFEST_KEY });
    backupDir = server.backupDir;
    backup = await server.createBackup({ notes: 'before the fire' });
    await server.close();
    assert.equal(backup.status, 'completed', backup.error);
    lost = { schema: schemaOf(old, 'app'), rows: rowsOf(old, 'app'), facts: clusterFacts(old, 'app') };
    old.stop();
    old = undefined;
    fresh = await startPostgres();
  });

  after(async () => {
    for (const app of apps) await app.close().catch(() => undefined);
    await s3server?.close().catch(() => undefined);
    old?.stop();
    fresh?.stop();
    if (tablespaceDir) rmSync(tablespaceDir, { recursive: true, force: true });
  });

  /** A fresh installation on `database` as `user`, its history rebuilt from the locations by import. */
  async function freshInstallation(database: string, user: string, overrides: { backupDir?: string } = {}): Promise<TestApp> {
    const app = await startApp(fresh.url(database, user), { backupDir, s3, manifestHmacKey: MANIFEST_KEY, manifestRequireSignature: true, ...overrides });
    apps.push(app);
    const imported = await app.request('POST', '/backups/import', { token: admin });
    assert.equal(imported.status, 200, imported.text);
    assert.equal((await app.request('GET', `/backups/${backup.id}`, { token: admin })).status, 200, imported.text);
    return app;
  }

  async function restore(app: TestApp, body: object = {}) {
    return app.request('POST', `/backups/${backup.id}/restore`, { token: admin, body: { confirm: true, ...body } });
  }

  async function assertUnlocked(app: TestApp) {
    assert.equal((await app.request('GET', '/operations/current', { token: admin })).json.locked, false, 'the lock is released');
  }

  it('records the roles, memberships, tablespaces and database settings in the history and the signed manifest', () => {
    const cluster = backup.metadata.cluster;
    assert.deepEqual(cluster.roles.map((r: any) => r.name).sort(), [...ROLES].sort());
    const login = cluster.roles.find((r: any) => r.name === 'app_login');
    assert.deepEqual(login, {
      name: 'app_login', login: true, inherit: true, createdb: false, createrole: false, replication: false, bypassrls: false,
      connectionLimit: 5, validUntil: '2099-01-01T00:00:00+00:00', inPolicy: false,
    });
    assert.equal(JSON.stringify(cluster).includes('secret'), false, 'never a password');
    assert.equal(cluster.roles.find((r: any) => r.name === 'tenant').inPolicy, true);
    assert.deepEqual(cluster.memberships, [{ role: 'app_reader', member: 'app_login', admin: true }]);
    assert.deepEqual(cluster.tablespaces, ['fast']);
    assert.deepEqual([...cluster.settings].sort(), [`app.greeting=it's, "quoted"`, 'search_path=shop, public', 'work_mem=8MB']);
  });

  it('refuses, before changing anything, what the mode or the restoring role rules out', async () => {
    fresh.psql('create role plain login; create database plain owner plain');
    fresh.psql('set role plain; create table keep (id int); insert into keep values (1)', 'plain');
    const app = await freshInstallation('plain', 'plain');
    const imported = (await app.request('GET', `/backups/${backup.id}`, { token: admin })).json;
    assert.deepEqual(imported.metadata.cluster, backup.metadata.cluster, 'the cluster objects survive the import of a signed manifest');

    const required = await restore(app, { roles: 'require' });
    assert.equal(required.status, 422, required.text);
    assert.match(required.json.message, /lacks roles .*app_login, app_owner, app_reader, tenant/);

    const denied = await restore(app);
    assert.equal(denied.status, 422, denied.text);
    assert.match(denied.json.message, /may not create roles.*roles "skip"/);

    const skipped = await restore(app, { roles: 'skip' });
    assert.equal(skipped.status, 422, skipped.text);
    assert.match(skipped.json.message, /policies .* name roles the cluster lacks: tenant/);

    const bad = await restore(app, { roles: 'maybe' });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.text, /roles must be one of create, skip, require/);

    await assertUnlocked(app);
    assert.equal(fresh.psql('select count(*) from keep', 'plain'), '1');
    assert.equal(fresh.psql(`select count(*) from pg_roles where rolname in (${q(ROLES)})`), '0');
    assert.equal((await app.request('GET', '/restores', { token: admin })).json.total, 0);
    await app.close();
  });

  it('roles "skip" restores without owners and grants, once the policy role exists', async () => {
    fresh.psql('create role tenant nologin');
    const app = await freshInstallation('plain', 'plain');
    const started = await restore(app, { roles: 'skip' });
    assert.equal(started.status, 202, started.text);
    const done = await app.waitDone(`/restores/${started.json.id}`, admin);
    assert.equal(done.status, 'completed', done.error);
    assert.deepEqual(sorted(done.detail.roles), { created: [], needPassword: [], skipped: ['app_login', 'app_owner', 'app_reader', ODD].sort() });
    assert.equal(rowsOf(fresh, 'plain'), lost.rows);
    assert.deepEqual(done.detail.tablespacesMissing, ['fast']);
    assert.equal(fresh.psql('select count(*) from shop.archive', 'plain'), '50');
    assert.equal(fresh.psql(`select relowner::regrole, relacl is null from pg_class where oid = 'shop.orders'::regclass`, 'plain'), 'plain|t');
    assert.equal(fresh.psql('select count(*) from pg_default_acl', 'plain'), '0');
    assert.equal(fresh.psql(`select polname from pg_policy`, 'plain'), 'tenant_rows');
    assert.equal(fresh.psql(`select count(*) from pg_roles where rolname in ('app_owner', 'app_reader', 'app_login')`), '0');
    await app.close();
  });

  it('a restore that fails after creating roles rolls them back with everything else', async () => {
    // app_owner exists, and the restoring role may create roles but is no member of it: the script's ALTER … OWNER fails
    fresh.psql('create role app_owner nologin; create role creator login createrole; create database doomed owner creator');
    fresh.psql('set role creator; create table keep (id int); insert into keep values (1)', 'doomed');
    const app = await freshInstallation('doomed', 'creator');
    const started = await restore(app);
    assert.equal(started.status, 202, started.text);
    const done = await app.waitDone(`/restores/${started.json.id}`, admin);
    assert.equal(done.status, 'failed');
    assert.match(done.error, /app_owner/);
    assert.equal(fresh.psql(`select count(*) from pg_roles where rolname in ('app_reader', 'app_login', ${q([ODD])})`), '0', 'the created roles rolled back');
    assert.equal(fresh.psql('select count(*) from keep', 'doomed'), '1');
    assert.equal(fresh.psql(`select count(*) from pg_namespace where nspname = 'shop'`, 'doomed'), '0');
    await assertUnlocked(app);
    await app.close();
    fresh.psql('drop database doomed; drop role app_owner');
  });

  it('a new cluster, a login that may create roles, import from the bucket alone, restore: the database equals the lost one', async () => {
    // the DBA's part: an empty database and a login for the server, nothing else
    fresh.psql('create role svc login createrole; create database app owner svc');
    const app = await freshInstallation('app', 'svc', { backupDir: mkdtempSync(join(tmpdir(), 'pgb-dr-empty-')) });
    const preview = await restore(app, { dryRun: true });
    assert.equal(preview.status, 200, preview.text);
    assert.deepEqual(sorted(preview.json.roles), { toCreate: ['app_login', 'app_owner', 'app_reader', ODD].sort(), needPassword: ['app_login'] });
    const started = await restore(app);
    assert.equal(started.status, 202, started.text);
    const done = await app.waitDone(`/restores/${started.json.id}`, admin);
    assert.equal(done.status, 'completed', done.error);
    assert.deepEqual(sorted(done.detail.roles), { created: ['app_login', 'app_owner', 'app_reader', ODD].sort(), needPassword: ['app_login'], skipped: [] });
    assert.deepEqual(done.detail.tablespacesMissing, ['fast'], 'restored into the default tablespace, and said so');
    assert.equal(fresh.psql(`select reltablespace from pg_class where oid = 'shop.archive'::regclass`, 'app'), '0');
    assert.equal(fresh.psql('select count(*) from shop.archive', 'app'), '50');
    // a placeholder (no extension defines app.greeting) only a superuser may set per database: reported, not applied
    assert.deepEqual(done.detail.settingsNotApplied, [`app.greeting=it's, "quoted"`]);

    assert.deepEqual(schemaOf(fresh, 'app'), lost.schema, 'owners, grants, the policy and the default privileges are back');
    assert.equal(rowsOf(fresh, 'app'), lost.rows);
    assert.deepEqual(clusterFacts(fresh, 'app'), { ...lost.facts, settings: 'work_mem=8MB\nsearch_path=shop, public' });
    assert.equal(lost.facts.settings, `work_mem=8MB\nsearch_path=shop, public\napp.greeting=it's, "quoted"`);
    assert.equal(fresh.psql(`select rolpassword is null from pg_authid where rolname = 'app_login'`), 't', 'no password');
    // the policy works: tenant sees its own rows only
    fresh.psql('grant usage on schema shop to tenant; grant select on shop.orders to tenant', 'app');
    assert.equal(fresh.psql('set role tenant; select count(*) from shop.orders', 'app'), '1000');
  });
});
