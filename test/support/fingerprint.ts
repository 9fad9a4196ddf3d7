import { TestPostgres } from './postgres';

/**
 * A database's user content in the given schemas: per table row count and md5 of all rows,
 * sequences, user objects, grants and large objects (every aggregate with a real ORDER BY).
 */
export function fingerprint(pg: TestPostgres, db: string, schemas: string[]): Record<string, string> {
  const inList = schemas.map((s) => `'${s}'`).join(',');
  const q = (sql: string) => pg.psql(sql, db);
  const tables = q(`select format('%I.%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'm', 'p') and n.nspname in (${inList}) order by 1`).split('\n').filter(Boolean);
  const out: Record<string, string> = {};
  for (const table of tables) {
    out[table] = q(`select count(*) || ':' || coalesce(md5(string_agg(x::text, '|' order by x::text)), '-') from ${table} x`);
  }
  out.__sequences = q(`select coalesce(string_agg(format('%I.%I=%s', schemaname, sequencename, coalesce(last_value::text, 'null')), ','
    order by schemaname, sequencename), '') from pg_sequences where schemaname in (${inList})`);
  out.__objects = q(`select coalesce(string_agg(k, ',' order by k), '') from (
      select 'view:' || format('%I.%I', schemaname, viewname) k from pg_views where schemaname in (${inList})
      union all select 'matview:' || format('%I.%I', schemaname, matviewname) from pg_matviews where schemaname in (${inList})
      union all select 'func:' || p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname in (${inList})
      union all select 'type:' || format('%I.%I', n.nspname, t.typname) from pg_type t join pg_namespace n on n.oid = t.typnamespace where t.typtype in ('e', 'd', 'c') and n.nspname in (${inList}) and t.typrelid = 0
      union all select 'trigger:' || t.tgname from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace where not t.tgisinternal and n.nspname in (${inList})
      union all select 'index:' || indexname from pg_indexes where schemaname in (${inList})
      union all select 'comment:' || d.description from pg_description d join pg_class c on c.oid = d.objoid join pg_namespace n on n.oid = c.relnamespace where n.nspname in (${inList})
      union all select 'grant:' || table_schema || '.' || table_name || ':' || grantee || ':' || privilege_type from information_schema.role_table_grants where table_schema in (${inList}) and grantee <> 'postgres'
      union all select 'schema:' || nspname from pg_namespace where nspname not like 'pg\\_%' and nspname <> 'information_schema'
      union all select 'ext:' || extname from pg_extension) s`);
  out.__largeobjects = q(`select count(*) || ':' || coalesce(md5(string_agg(md5(lo_get(oid)), ',' order by oid)), '-') from pg_largeobject_metadata`);
  return out;
}
