import type { ClusterMembership, ClusterRole } from '../database/cluster-objects';
import { quoteIdent, quoteLiteral } from '../infra/process/pg-connection';

/**
 * CREATE ROLE for a role the backup needs: its attributes, no password (a login role keeps LOGIN
 * and needs one set), never SUPERUSER. REPLICATION and BYPASSRLS only when the restoring role is
 * a superuser (PostgreSQL refuses them to anyone else).
 */
export function createRoleSql(role: ClusterRole, { superuser }: { superuser: boolean }): string {
  const flag = (on: unknown, name: string) => (on === true ? name : `NO${name}`);
  const attributes = [
    flag(role.login, 'LOGIN'),
    flag(role.inherit, 'INHERIT'),
    flag(role.createdb, 'CREATEDB'),
    flag(role.createrole, 'CREATEROLE'),
    ...(superuser ? [flag(role.replication, 'REPLICATION'), flag(role.bypassrls, 'BYPASSRLS')] : []),
  ];
  if (Number.isSafeInteger(role.connectionLimit) && role.connectionLimit >= 0) attributes.push(`CONNECTION LIMIT ${role.connectionLimit}`);
  if (typeof role.validUntil === 'string') attributes.push(`VALID UNTIL ${quoteLiteral(role.validUntil)}`);
  return `CREATE ROLE ${quoteIdent(role.name)} ${attributes.join(' ')};`;
}

/**
 * The roles the restore creates, inside its own transaction (CREATE ROLE is transactional): each
 * role, then the memberships that involve a created role. A restoring role that is not a superuser
 * becomes a member of what it created: PostgreSQL lets only a member hand objects to a role.
 */
export function createRolesSql(
  created: readonly ClusterRole[],
  memberships: readonly ClusterMembership[],
  { superuser }: { superuser: boolean },
): string {
  if (!created.length) return '';
  const names = new Set(created.map((r) => r.name));
  const grants = memberships
    .filter((m) => names.has(m.role) || names.has(m.member))
    .map((m) => `GRANT ${quoteIdent(m.role)} TO ${quoteIdent(m.member)}${m.admin === true ? ' WITH ADMIN OPTION' : ''};`);
  const own = superuser ? [] : created.map((r) => `GRANT ${quoteIdent(r.name)} TO CURRENT_USER;`);
  return [...created.map((r) => createRoleSql(r, { superuser })), ...grants, ...own, ''].join('\n');
}

/** A setting's name as SQL: each dot-separated part a quoted identifier (`app.tenant` → `"app"."tenant"`). */
export function settingNameSql(name: string): string {
  return name.split('.').map(quoteIdent).join('.');
}

/**
 * Re-applies the database's settings (`name=value`, as pg_db_role_setting holds them). The value
 * goes through set_config and `SET … FROM CURRENT`, so the server parses it as it parsed the
 * original (a search_path list stays a list); RESET then gives the session its own value back.
 */
export function databaseSettingsSql(database: string, settings: readonly string[]): string {
  return settings
    .map((setting) => {
      const at = setting.indexOf('=');
      const name = setting.slice(0, at);
      const value = setting.slice(at + 1);
      return [
        `SELECT pg_catalog.set_config(${quoteLiteral(name)}, ${quoteLiteral(value)}, true);`,
        `ALTER DATABASE ${quoteIdent(database)} SET ${settingNameSql(name)} FROM CURRENT;`,
        `RESET ${settingNameSql(name)};`,
        '',
      ].join('\n');
    })
    .join('');
}

/** `name=value` with a name: what pg_db_role_setting holds. */
export function isSetting(setting: unknown): setting is string {
  return typeof setting === 'string' && setting.indexOf('=') > 0;
}
