import { quoteLiteral } from '../infra/process/pg-connection';

/**
 * SQL run in the restore's transaction before the dump's own script: it empties the database
 * of everything a dump can hold, so that afterwards the content is exactly the backup's
 * (objects created after the backup are gone). Only the module's schemas (`keepSchema`: this installation's and others') are kept.
 * `public` is recreated as a new database has it; the dump re-applies any changed ACL or comment.
 */
export function wipeDatabaseSql(keepSchema: string | readonly string[]): string {
  const keep = `ARRAY[${[keepSchema].flat().map(quoteLiteral).join(', ')}]::text[]`;
  return `
SET client_min_messages = warning;
DO $wipe$
DECLARE
  item record;
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
  LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', item.nspname);
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
