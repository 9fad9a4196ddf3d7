import type { Client } from 'pg';

/** A role as a backup records it: its attributes, never a password, never superuser. */
export interface ClusterRole {
  name: string;
  login: boolean;
  inherit: boolean;
  createdb: boolean;
  createrole: boolean;
  replication: boolean;
  bypassrls: boolean;
  /** -1: no limit. */
  connectionLimit: number;
  /** ISO 8601, `infinity`, or null. */
  validUntil: string | null;
  /** Named in a row security policy's TO list: the policy cannot be created without the role. */
  inPolicy: boolean;
}

/** `member` is a member of `role`. */
export interface ClusterMembership {
  role: string;
  member: string;
  admin: boolean;
}

/** What the database needs from its cluster that a dump leaves out. */
export interface ClusterObjects {
  /** Owners, grantees and policy roles of the dumped objects, and the members of those roles (built-in `pg_*` roles left out). */
  roles: ClusterRole[];
  /** Memberships of those roles in one another or in built-in roles. */
  memberships: ClusterMembership[];
  /** Tablespaces the dumped tables, indexes and materialized views are in. */
  tablespaces: string[];
  /** The database's own settings (`ALTER DATABASE … SET`), `name=value` as pg_db_role_setting holds them. */
  settings: string[];
}

/**
 * Reads the cluster objects from catalogs any role may read (pg_shdepend, pg_roles,
 * pg_auth_members, pg_tablespace, pg_db_role_setting), on `client`: the dump's own snapshot.
 * `excludedSchemas` (LIKE patterns) are left out of the dump, and so are their owners and grantees.
 */
export async function readClusterObjects(client: Pick<Client, 'query'>, excludedSchemas: readonly string[]): Promise<ClusterObjects> {
  const excluded = `SELECT oid FROM pg_catalog.pg_namespace WHERE nspname LIKE ANY($1::text[])`;
  const { rows: roles } = await client.query<ClusterRole>(
    `WITH RECURSIVE excluded AS (${excluded}),
     user_schemas AS (
       SELECT oid, nspname, nspowner FROM pg_catalog.pg_namespace
        WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%' AND oid NOT IN (SELECT oid FROM excluded)
     ),
     dumped AS (
       SELECT d.refobjid AS role, d.deptype FROM pg_catalog.pg_shdepend d
        WHERE d.dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
          AND d.refclassid = 'pg_catalog.pg_authid'::regclass
          AND NOT (d.classid = 'pg_catalog.pg_namespace'::regclass AND d.objid IN (SELECT oid FROM excluded))
          AND NOT (d.classid = 'pg_catalog.pg_class'::regclass AND d.objid IN (SELECT oid FROM pg_catalog.pg_class WHERE relnamespace IN (SELECT oid FROM excluded)))
          AND NOT (d.classid = 'pg_catalog.pg_type'::regclass AND d.objid IN (SELECT oid FROM pg_catalog.pg_type WHERE typnamespace IN (SELECT oid FROM excluded)))
          AND NOT (d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid IN (SELECT oid FROM pg_catalog.pg_proc WHERE pronamespace IN (SELECT oid FROM excluded)))
       UNION ALL
       -- the bootstrap superuser is pinned: what it owns is not in pg_shdepend
       SELECT 10::oid, 'o' WHERE EXISTS (SELECT 1 FROM user_schemas n WHERE n.nspowner = 10 AND n.nspname <> 'public')
          OR EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.relowner = 10 AND c.relnamespace IN (SELECT oid FROM user_schemas))
          OR EXISTS (SELECT 1 FROM pg_catalog.pg_proc p WHERE p.proowner = 10 AND p.pronamespace IN (SELECT oid FROM user_schemas))
          OR EXISTS (SELECT 1 FROM pg_catalog.pg_type t WHERE t.typowner = 10 AND t.typnamespace IN (SELECT oid FROM user_schemas))
     ),
     needed(oid) AS (
       SELECT role FROM dumped
       UNION
       SELECT m.member FROM pg_catalog.pg_auth_members m JOIN needed n ON m.roleid = n.oid
     )
     SELECT r.rolname AS name, r.rolcanlogin AS login, r.rolinherit AS inherit, r.rolcreatedb AS createdb,
            r.rolcreaterole AS createrole, r.rolreplication AS replication, r.rolbypassrls AS bypassrls,
            r.rolconnlimit AS "connectionLimit", to_json(r.rolvaliduntil) #>> '{}' AS "validUntil",
            EXISTS (SELECT 1 FROM dumped d WHERE d.role = r.oid AND d.deptype = 'r') AS "inPolicy"
       FROM pg_catalog.pg_roles r
      WHERE r.oid IN (SELECT oid FROM needed) AND r.rolname NOT LIKE 'pg\\_%'
      ORDER BY r.rolname`,
    [excludedSchemas],
  );
  const names = roles.map((r) => r.name);
  const { rows: memberships } = await client.query<ClusterMembership>(
    `SELECT g.rolname AS role, u.rolname AS member, m.admin_option AS admin
       FROM pg_catalog.pg_auth_members m
       JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
       JOIN pg_catalog.pg_roles u ON u.oid = m.member
      WHERE u.rolname = ANY($1::text[]) AND (g.rolname = ANY($1::text[]) OR g.rolname LIKE 'pg\\_%')
      ORDER BY 1, 2`,
    [names],
  );
  const { rows: tablespaces } = await client.query<{ name: string }>(
    `SELECT DISTINCT t.spcname AS name
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_tablespace t ON t.oid = c.reltablespace
      WHERE c.relnamespace NOT IN (${excluded}) AND c.relkind IN ('r', 'p', 'm', 'i', 'I')
        AND c.relnamespace NOT IN (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname LIKE 'pg\\_%' OR nspname = 'information_schema')
      ORDER BY 1`,
    [excludedSchemas],
  );
  const { rows: settings } = await client.query<{ setting: string }>(
    `SELECT unnest(s.setconfig) AS setting FROM pg_catalog.pg_db_role_setting s
      WHERE s.setrole = 0 AND s.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())`,
  );
  return {
    roles: roles.map((r) => ({ ...r, connectionLimit: Number(r.connectionLimit) })),
    memberships,
    tablespaces: tablespaces.map((t) => t.name),
    settings: settings.map((s) => s.setting),
  };
}
