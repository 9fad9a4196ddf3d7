import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { wipeDatabaseSql } from '../../src/restore/restore-script';

describe('wipeDatabaseSql', () => {
  it("keeps the module's schema, compared against nspname as a string literal", () => {
    const sql = wipeDatabaseSql('backup_admin');
    assert.match(sql, /AND nspname <> ALL \(ARRAY\['backup_admin'\]::text\[\]\)\s*\n/);
    assert.ok(!sql.includes('"backup_admin"'), 'not an identifier: nspname is compared to a value');
  });

  it('escapes a quote in the schema name', () => {
    const sql = wipeDatabaseSql("o'brien");
    assert.ok(sql.includes("ARRAY['o''brien']"), sql);
    assert.ok(!sql.includes("'o'brien'"));
  });

  it('cannot be broken out of with an injected schema name', () => {
    const sql = wipeDatabaseSql("x' OR true --");
    assert.ok(sql.includes("ARRAY['x'' OR true --']"));
  });

  it('keeps every installation\'s schema it is given', () => {
    const sql = wipeDatabaseSql(['backup_admin', 'billing_backups']);
    assert.match(sql, /AND nspname <> ALL \(ARRAY\['backup_admin', 'billing_backups'\]::text\[\]\)/);
  });

  it('drops every other schema, never the system ones, then recreates public', () => {
    const sql = wipeDatabaseSql('backup_admin');
    assert.match(sql, /nspname NOT IN \('pg_catalog', 'information_schema', 'pg_toast'\)/);
    assert.match(sql, /DROP SCHEMA %I CASCADE/);
    assert.match(sql, /CREATE SCHEMA public/);
    assert.ok(sql.indexOf('DROP SCHEMA') < sql.indexOf('CREATE SCHEMA public'));
  });

  it('holds no transaction control of its own (it runs inside the restore transaction)', () => {
    const sql = wipeDatabaseSql('backup_admin');
    assert.doesNotMatch(sql, /^\s*(BEGIN|COMMIT|ROLLBACK)\s*;/im);
  });
});
