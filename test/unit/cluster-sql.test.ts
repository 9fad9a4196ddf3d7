import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterRole } from '../../src/database/cluster-objects';
import { createRoleSql, createRolesSql, databaseSettingsSql, settingNameSql } from '../../src/restore/cluster-sql';

function role(name: string, attributes: Partial<ClusterRole> = {}): ClusterRole {
  return { name, login: false, inherit: true, createdb: false, createrole: false, replication: false, bypassrls: false, connectionLimit: -1, validUntil: null, inPolicy: false, ...attributes };
}

describe('createRoleSql', () => {
  it('creates a NOLOGIN role with its attributes, never a password or SUPERUSER', () => {
    assert.equal(createRoleSql(role('app_owner', { createdb: true }), { superuser: true }), 'CREATE ROLE "app_owner" NOLOGIN INHERIT CREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;');
    const sql = createRoleSql(role('app_login', { login: true, connectionLimit: 5, validUntil: '2099-01-01T00:00:00+00:00' }), { superuser: false });
    assert.equal(sql, `CREATE ROLE "app_login" LOGIN INHERIT NOCREATEDB NOCREATEROLE CONNECTION LIMIT 5 VALID UNTIL '2099-01-01T00:00:00+00:00';`);
    assert.doesNotMatch(sql, /PASSWORD|SUPERUSER/);
  });

  it('gives REPLICATION and BYPASSRLS only when a superuser restores (PostgreSQL refuses them to anyone else)', () => {
    const r = role('replicator', { replication: true, bypassrls: true });
    assert.match(createRoleSql(r, { superuser: true }), / REPLICATION BYPASSRLS;$/);
    assert.doesNotMatch(createRoleSql(r, { superuser: false }), /REPLICATION|BYPASSRLS/);
  });

  it('quotes odd names and values, so a crafted manifest cannot inject SQL', () => {
    assert.equal(createRoleSql(role('Odd "Role" ü'), { superuser: false }), 'CREATE ROLE "Odd ""Role"" ü" NOLOGIN INHERIT NOCREATEDB NOCREATEROLE;');
    const injected = createRoleSql(role('x"; DROP TABLE t; --', { validUntil: "2099' ; DROP TABLE t; --" }), { superuser: false });
    assert.equal(injected, `CREATE ROLE "x""; DROP TABLE t; --" NOLOGIN INHERIT NOCREATEDB NOCREATEROLE VALID UNTIL '2099'' ; DROP TABLE t; --';`);
  });

  it('takes only true as true and a non-negative integer as a connection limit', () => {
    const loose = { ...role('r'), login: 'yes', connectionLimit: '5; DROP TABLE t' } as unknown as ClusterRole;
    assert.equal(createRoleSql(loose, { superuser: false }), 'CREATE ROLE "r" NOLOGIN INHERIT NOCREATEDB NOCREATEROLE;');
  });
});

describe('createRolesSql', () => {
  const reader = role('app_reader');
  const login = role('app_login', { login: true });

  it('is empty when nothing is created', () => {
    assert.equal(createRolesSql([], [{ role: 'a', member: 'b', admin: false }], { superuser: true }), '');
  });

  it('creates the roles, then grants the memberships that involve one of them, with ADMIN OPTION as recorded', () => {
    const sql = createRolesSql([reader, login], [
      { role: 'app_reader', member: 'app_login', admin: true },
      { role: 'pg_read_all_data', member: 'app_reader', admin: false },
      { role: 'existing_a', member: 'existing_b', admin: false },
    ], { superuser: true });
    const lines = sql.trim().split('\n');
    assert.deepEqual(lines.slice(2), ['GRANT "app_reader" TO "app_login" WITH ADMIN OPTION;', 'GRANT "pg_read_all_data" TO "app_reader";']);
    assert.match(lines[0], /^CREATE ROLE "app_reader"/);
    assert.match(lines[1], /^CREATE ROLE "app_login" LOGIN/);
  });

  it('makes a restoring role that is not a superuser a member of what it created (to hand objects to them)', () => {
    const sql = createRolesSql([role('a"b')], [], { superuser: false });
    assert.match(sql, /GRANT "a""b" TO CURRENT_USER;\n$/);
    assert.doesNotMatch(createRolesSql([role('a')], [], { superuser: true }), /CURRENT_USER/);
  });

  it('holds no transaction control of its own (it runs inside the restore transaction)', () => {
    assert.doesNotMatch(createRolesSql([reader, login], [], { superuser: false }), /BEGIN|COMMIT|ROLLBACK/);
  });
});

describe('databaseSettingsSql', () => {
  it('sets each value through set_config and ALTER DATABASE … FROM CURRENT, then gives the session its own back', () => {
    assert.equal(
      databaseSettingsSql('app', ['search_path=shop, public']),
      [
        `SELECT pg_catalog.set_config('search_path', 'shop, public', true);`,
        'ALTER DATABASE "app" SET "search_path" FROM CURRENT;',
        'RESET "search_path";',
        '',
      ].join('\n'),
    );
  });

  it('quotes a dotted name part by part, the database name and a value with quotes and equals signs', () => {
    const sql = databaseSettingsSql('my "db"', [`app.greeting=it's = "quoted"`]);
    assert.ok(sql.includes(`set_config('app.greeting', 'it''s = "quoted"', true)`), sql);
    assert.ok(sql.includes('ALTER DATABASE "my ""db""" SET "app"."greeting" FROM CURRENT;'), sql);
    assert.equal(settingNameSql('x"; DROP TABLE t; --'), '"x""; DROP TABLE t; --"');
  });

  it('is empty without settings', () => {
    assert.equal(databaseSettingsSql('app', []), '');
  });
});
