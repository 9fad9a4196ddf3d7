import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tocLockWeight, wipeDatabaseSql } from '../../src/restore/restore-script';

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

  it('renames every other schema out of the way (one lock each), never the system ones or older trash, then recreates public', () => {
    const sql = wipeDatabaseSql('backup_admin');
    assert.match(sql, /nspname NOT IN \('pg_catalog', 'information_schema', 'pg_toast'\)/);
    assert.match(sql, /nspname NOT LIKE 'pgb\\_trash\\_%'/);
    assert.match(sql, /ALTER SCHEMA %I RENAME TO %I', item.nspname, format\('pgb_trash_%s_%s'/);
    assert.doesNotMatch(sql, /DROP SCHEMA/);
    assert.match(sql, /CREATE SCHEMA public/);
    assert.ok(sql.indexOf('RENAME TO') < sql.indexOf('CREATE SCHEMA public'));
  });

  it('holds no transaction control of its own (it runs inside the restore transaction)', () => {
    const sql = wipeDatabaseSql('backup_admin');
    assert.doesNotMatch(sql, /^\s*(BEGIN|COMMIT|ROLLBACK)\s*;/im);
  });
});

describe('tocLockWeight', () => {
  it('counts the relations each pg_restore --list line creates, nothing for data and dependent entries', () => {
    const toc = [
      ';     Dumped from database version 15.18',
      '215; 1259 16386 TABLE public t1 postgres',
      '214; 1259 16385 SEQUENCE public t1_id_seq postgres',
      '3361; 0 0 SEQUENCE OWNED BY public t1_id_seq postgres',
      '3206; 2604 16389 DEFAULT public t1 id postgres',
      '3354; 0 16386 TABLE DATA public t1 postgres',
      '3368; 0 0 SEQUENCE SET public t1_id_seq postgres',
      '3208; 2606 16393 CONSTRAINT public t1 t1_pkey postgres',
      '3209; 1259 16400 INDEX public t1_v_idx postgres',
      '3210; 2606 16401 FK CONSTRAINT public t2 t2_t1_fkey postgres',
      '216; 1259 16402 MATERIALIZED VIEW public mv postgres',
      '3400; 0 16402 MATERIALIZED VIEW DATA public mv postgres',
      '217; 1259 16403 VIEW public v postgres',
      '3500; 2613 16404 BLOB - 16404 postgres',
    ];
    assert.deepEqual(toc.map(tocLockWeight), [0, 3, 1, 0, 0, 0, 0, 1, 1, 0, 3, 0, 1, 0]);
  });
});
