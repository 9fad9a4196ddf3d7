import { TRASH_SCHEMA_PREFIX } from '../database/trash-schemas';
import { quoteLiteral } from '../infra/process/pg-connection';

/** SQL around pg_restore's script in the restore's one transaction: before it, and just before its COMMIT. */
export interface ScopedSql {
  prelude: string;
  epilogue: string;
}

function textArray(values: readonly string[]): string {
  return `ARRAY[${values.map(quoteLiteral).join(', ')}]::text[]`;
}

/**
 * Replacing some tables (`schema.table`) or whole schemas in place. Before the script: what
 * depends on them from outside is taken apart and noted (another table's foreign key is dropped,
 * a view's definition kept; anything else refuses the restore, naming it), then the live tables
 * move into a trash schema (with their indexes, constraints, triggers, policies and owned
 * sequences) and the live schemas are renamed into the trash, which is dropped after the COMMIT.
 * Schemas the archive has no entry for (`createSchemas`) are created empty. After the script the
 * views are recreated over the restored tables and the foreign keys re-added, checked: a row the
 * restored tables no longer match fails the whole restore, naming the constraint and its table.
 */
export function inPlaceSql(tables: readonly string[], schemas: readonly string[], createSchemas: readonly string[]): ScopedSql {
  const prelude = `
SET client_min_messages = warning;
CREATE TEMP TABLE pgb_scope_redo (position serial, statement text NOT NULL, fk_table text, fk_name text) ON COMMIT DROP;
DO $scope$
DECLARE
  tables text[] := ${textArray(tables)};
  schemas text[] := ${textArray(schemas)};
  create_schemas text[] := ${textArray(createSchemas)};
  table_oids oid[];
  scoped oid[];
  trash text := format('${TRASH_SCHEMA_PREFIX}%s_scope', txid_current());
  item record;
BEGIN
  PERFORM set_config('search_path', '', true);
  SELECT coalesce(array_agg(to_regclass(format('%I.%I', split_part(t, '.', 1), split_part(t, '.', 2)))) FILTER (WHERE to_regclass(format('%I.%I', split_part(t, '.', 1), split_part(t, '.', 2))) IS NOT NULL), '{}')
    INTO table_oids FROM unnest(tables) t;
  -- the relations replaced: the tables with their indexes, owned sequences and TOAST tables, or everything in the schemas
  SELECT coalesce(array_agg(c.oid), '{}') INTO scoped
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = ANY (schemas) OR c.oid = ANY (table_oids)
      OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = ANY (table_oids))
      OR c.oid IN (SELECT objid FROM pg_depend WHERE classid = 'pg_class'::regclass AND refclassid = 'pg_class'::regclass
                    AND refobjid = ANY (table_oids) AND deptype IN ('a', 'i'));
  FOR item IN
    SELECT DISTINCT e.extname, n.nspname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
      JOIN pg_namespace n ON n.nspname = ANY (schemas)
     WHERE d.deptype = 'e' AND d.refclassid = 'pg_extension'::regclass AND (pg_identify_object(d.classid, d.objid, 0)).schema = n.nspname
  LOOP
    RAISE EXCEPTION 'schema % holds objects of extension %: restore the whole database instead', item.nspname, item.extname USING ERRCODE = 'dependent_objects_still_exist';
  END LOOP;
  FOR item IN
    SELECT DISTINCT x.classid, x.objid, x.what, x.rel, x.schema FROM (
      SELECT d.classid, d.objid, pg_describe_object(d.classid, d.objid, 0) AS what,
             CASE d.classid
               WHEN 'pg_class'::regclass THEN d.objid
               WHEN 'pg_constraint'::regclass THEN (SELECT conrelid FROM pg_constraint WHERE oid = d.objid)
               WHEN 'pg_trigger'::regclass THEN (SELECT tgrelid FROM pg_trigger WHERE oid = d.objid)
               WHEN 'pg_policy'::regclass THEN (SELECT polrelid FROM pg_policy WHERE oid = d.objid)
               WHEN 'pg_attrdef'::regclass THEN (SELECT adrelid FROM pg_attrdef WHERE oid = d.objid)
               WHEN 'pg_rewrite'::regclass THEN (SELECT ev_class FROM pg_rewrite WHERE oid = d.objid)
               WHEN 'pg_statistic_ext'::regclass THEN (SELECT stxrelid FROM pg_statistic_ext WHERE oid = d.objid)
               WHEN 'pg_type'::regclass THEN (SELECT nullif(typrelid, 0) FROM pg_type WHERE oid = d.objid)
             END AS rel,
             (pg_identify_object(d.classid, d.objid, 0)).schema AS schema
        FROM pg_depend d
       WHERE d.deptype = 'n'
         AND ((d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY (scoped))
           OR (d.refclassid = 'pg_type'::regclass AND d.refobjid IN (SELECT reltype FROM pg_class WHERE oid = ANY (scoped)))
           OR (cardinality(schemas) > 0 AND d.refclassid NOT IN ('pg_namespace'::regclass, 'pg_class'::regclass)
               AND (pg_identify_object(d.refclassid, d.refobjid, 0)).schema = ANY (schemas)))
    ) x
  LOOP
    CONTINUE WHEN item.rel = ANY (scoped) OR item.schema = ANY (schemas);
    IF item.classid = 'pg_constraint'::regclass AND (SELECT contype FROM pg_constraint WHERE oid = item.objid) = 'f' THEN
      INSERT INTO pg_temp.pgb_scope_redo (statement, fk_table, fk_name)
        SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)), conrelid::regclass::text, conname
          FROM pg_constraint WHERE oid = item.objid;
      EXECUTE (SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) FROM pg_constraint WHERE oid = item.objid);
    ELSIF item.classid = 'pg_rewrite'::regclass AND (SELECT relkind FROM pg_class WHERE oid = item.rel) = 'v' THEN
      INSERT INTO pg_temp.pgb_scope_redo (statement)
        SELECT format('CREATE OR REPLACE VIEW %s%s AS %s', c.oid::regclass,
                      CASE WHEN c.reloptions IS NULL THEN '' ELSE format(' WITH (%s)', array_to_string(c.reloptions, ', ')) END, pg_get_viewdef(c.oid))
          FROM pg_class c WHERE c.oid = item.rel;
    ELSE
      RAISE EXCEPTION '% depends on what this restore replaces: restore it with them, or drop it first; nothing was changed', item.what
        USING ERRCODE = 'dependent_objects_still_exist';
    END IF;
  END LOOP;
  IF cardinality(table_oids) > 0 THEN
    EXECUTE format('CREATE SCHEMA %I', trash);
    FOR item IN SELECT unnest(table_oids)::regclass AS name LOOP
      EXECUTE format('ALTER TABLE %s SET SCHEMA %I', item.name, trash);
    END LOOP;
  END IF;
  FOR i IN 1 .. coalesce(cardinality(schemas), 0) LOOP
    IF EXISTS (SELECT FROM pg_namespace WHERE nspname = schemas[i]) THEN
      EXECUTE format('ALTER SCHEMA %I RENAME TO %I', schemas[i], format('%s_%s', trash, i));
    END IF;
  END LOOP;
  -- a table's schema dropped since the backup: created empty for the table to come back into
  FOR item IN SELECT DISTINCT split_part(t, '.', 1) AS name FROM unnest(tables) t WHERE split_part(t, '.', 1) <> ALL (schemas) LOOP
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', item.name);
  END LOOP;
  FOR i IN 1 .. coalesce(cardinality(create_schemas), 0) LOOP
    EXECUTE format('CREATE SCHEMA %I%s', create_schemas[i], CASE WHEN create_schemas[i] = 'public' THEN ' AUTHORIZATION pg_database_owner' ELSE '' END);
  END LOOP;
END
$scope$;
RESET client_min_messages;
`;
  const epilogue = `
DO $scope$
DECLARE
  item record;
BEGIN
  FOR item IN SELECT statement, fk_table, fk_name FROM pg_temp.pgb_scope_redo ORDER BY fk_name IS NOT NULL, position LOOP
    BEGIN
      EXECUTE item.statement;
    EXCEPTION WHEN foreign_key_violation THEN
      RAISE EXCEPTION 'the restore would break foreign key % of table %: some of its rows reference rows the restored tables do not have. Restore % with them, or change those rows first; nothing was changed',
        item.fk_name, item.fk_table, item.fk_table USING ERRCODE = 'foreign_key_violation';
    END;
  END LOOP;
END
$scope$;
`;
  return { prelude, epilogue };
}

/**
 * Restoring objects of `source` into the new schema `target`, the live ones untouched: the live
 * schema is renamed aside for the transaction and an empty one takes its name, the script fills
 * it, then it is renamed to `target` and the live one back. Other sessions never see the swap.
 */
export function besideSql(source: string, target: string): ScopedSql {
  const aside = `format('pgb_aside_%s', txid_current())`;
  const prelude = `
DO $scope$
BEGIN
  IF EXISTS (SELECT FROM pg_namespace WHERE nspname = ${quoteLiteral(target)}) THEN
    RAISE EXCEPTION 'schema % already exists: choose a new schema for target.schema; nothing was changed', ${quoteLiteral(target)} USING ERRCODE = 'duplicate_schema';
  END IF;
  IF EXISTS (SELECT FROM pg_namespace WHERE nspname = ${quoteLiteral(source)}) THEN
    EXECUTE format('ALTER SCHEMA %I RENAME TO %I', ${quoteLiteral(source)}, ${aside});
  END IF;
  EXECUTE format('CREATE SCHEMA %I', ${quoteLiteral(source)});
END
$scope$;
`;
  const epilogue = `
DO $scope$
BEGIN
  EXECUTE format('ALTER SCHEMA %I RENAME TO %I', ${quoteLiteral(source)}, ${quoteLiteral(target)});
  IF EXISTS (SELECT FROM pg_namespace WHERE nspname = ${aside}) THEN
    EXECUTE format('ALTER SCHEMA %I RENAME TO %I', ${aside}, ${quoteLiteral(source)});
  END IF;
END
$scope$;
`;
  return { prelude, epilogue };
}
