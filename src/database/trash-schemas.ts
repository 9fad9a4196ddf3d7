/** What a restore's wipe renames the old schemas to; never backed up, dropped once the restore committed. */
export const TRASH_SCHEMA_PREFIX = 'pgb_trash_';
/** The trash schemas, for LIKE. */
export const TRASH_PATTERN = `${TRASH_SCHEMA_PREFIX.replace(/_/g, '\\_')}%`;

/**
 * Drops up to `batch` relations of the trash schemas a restore left, in the transaction it runs in
 * (partitions before their parents, tables before sequences, which mostly go with their table;
 * what an earlier drop cascaded to is skipped).
 */
export function dropTrashBatchSql(batch: number): string {
  return `
DO $trash$
DECLARE
  item record;
BEGIN
  SET LOCAL client_min_messages = warning;
  FOR item IN
    SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname LIKE '${TRASH_PATTERN}' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
     ORDER BY c.relispartition DESC, c.relkind = 'S', c.oid LIMIT ${batch}
  LOOP
    EXECUTE format('DROP %s IF EXISTS %s CASCADE',
      CASE item.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
      item.name);
  END LOOP;
END
$trash$`;
}

/** Drops the trash schemas themselves, with what is left in them (functions, types, …). */
export function dropTrashSchemasSql(): string {
  return `
DO $trash$
DECLARE
  item record;
BEGIN
  SET LOCAL client_min_messages = warning;
  FOR item IN SELECT nspname FROM pg_namespace WHERE nspname LIKE '${TRASH_PATTERN}' LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', item.nspname);
  END LOOP;
END
$trash$`;
}
