import { TRASH_PATTERN, TRASH_SCHEMA_PREFIX } from '../database/trash-schemas';
import { quoteLiteral } from '../infra/process/pg-connection';

/**
 * SQL run in the restore's transaction before the dump's own script: it empties the database
 * of everything a dump can hold, so that afterwards the content is exactly the backup's
 * (objects created after the backup are gone). Only the module's schemas (`keepSchema`: this installation's and others') are kept.
 * `public` is recreated as a new database has it; the dump re-applies any changed ACL or comment.
 *
 * Schemas are renamed out of the way (`pgb_trash_<xid>_<n>`), not dropped: a rename locks the
 * schema alone, where a drop locks every object in it, and the dump's own objects need the
 * shared lock table too. The trash is dropped after the COMMIT, in batches of transactions.
 */
export function wipeDatabaseSql(keepSchema: string | readonly string[]): string {
  const keep = `ARRAY[${[keepSchema].flat().map(quoteLiteral).join(', ')}]::text[]`;
  return `
SET client_min_messages = warning;
DO $wipe$
DECLARE
  item record;
  trash int := 0;
BEGIN
  FOR item IN SELECT evtname FROM pg_event_trigger LOOP
    EXECUTE format('DROP EVENT TRIGGER %I', item.evtname);
  END LOOP;
  FOR item IN SELECT pubname FROM pg_publication LOOP
    EXECUTE format('DROP PUBLICATION %I', item.pubname);
  END LOOP;
  FOR item IN SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' LOOP
    EXECUTE format('DROP EXTENSION %I CASCADE', item.extname);
  END LOOP;
  FOR item IN
    SELECT nspname FROM pg_namespace
     WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
       AND nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
       AND nspname <> ALL (${keep})
       AND nspname NOT LIKE '${TRASH_PATTERN}'
  LOOP
    trash := trash + 1;
    EXECUTE format('ALTER SCHEMA %I RENAME TO %I', item.nspname, format('${TRASH_SCHEMA_PREFIX}%s_%s', txid_current(), trash));
  END LOOP;
  PERFORM lo_unlink(oid) FROM pg_largeobject_metadata;
END
$wipe$;
CREATE SCHEMA public AUTHORIZATION pg_database_owner;
GRANT USAGE ON SCHEMA public TO PUBLIC;
COMMENT ON SCHEMA public IS 'standard public schema';
RESET client_min_messages;
`;
}

/**
 * Locks that creating the object of one `pg_restore --list` line takes until the restore's COMMIT:
 * a table or materialized view with its TOAST table and index, a sequence, an index (a primary
 * key or unique constraint is one), a view. Data, defaults, foreign keys and the rest lock only
 * what these already locked.
 */
export function tocLockWeight(line: string): number {
  return descLockWeight(/^\d+; \d+ \d+ (TABLE DATA|TABLE|MATERIALIZED VIEW DATA|MATERIALIZED VIEW|SEQUENCE SET|SEQUENCE OWNED BY|SEQUENCE|INDEX ATTACH|INDEX|FK CONSTRAINT|CONSTRAINT|VIEW|FOREIGN TABLE) /.exec(line)?.[1]);
}

/** tocLockWeight for an entry's `desc`. */
export function descLockWeight(desc: string | undefined): number {
  switch (desc) {
    case 'TABLE':
    case 'MATERIALIZED VIEW':
      return 3;
    case 'SEQUENCE':
    case 'INDEX':
    case 'CONSTRAINT':
    case 'VIEW':
    case 'FOREIGN TABLE':
      return 1;
    default:
      return 0;
  }
}
