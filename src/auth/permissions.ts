import type { JwtAuthOptions } from '../pg-backup.options';
import type { AdminPrincipal } from './admin-principal';

/** What a token may do, from its roles: each level holds every right of the ones below it. */
export type AccessLevel = 'viewer' | 'operator' | 'admin';

const LEVEL_RANK: Record<AccessLevel, number> = { viewer: 0, operator: 1, admin: 2 };

/**
 * Every permission of the admin API and the lowest level holding it: the one table of who may do
 * what. Operators back up, verify (one backup, all of them, or by a drill into a scratch
 * database), download and pin; they never restore, delete, change settings or remove backups by
 * retention, nor bring in backup files (upload, import) a restore could later apply.
 */
export const PERMISSION_LEVELS = {
  'me.read': 'viewer',
  'backups.read': 'viewer',
  'restores.read': 'viewer',
  'operations.read': 'viewer',
  'config.read': 'viewer',
  'audit.read': 'viewer',
  'backup.create': 'operator',
  'backup.verify': 'operator',
  'backup.drill': 'operator',
  'backup.download': 'operator',
  'backup.pin': 'operator',
  'backup.restore': 'admin',
  'backup.delete': 'admin',
  'backup.cleanup': 'admin',
  'backup.upload': 'admin',
  'backup.import': 'admin',
  'config.update': 'admin',
  'operation.cancel': 'admin',
} as const satisfies Record<string, AccessLevel>;

export type Permission = keyof typeof PERMISSION_LEVELS;

/** The roles of each level, as configured (admin from ADMIN_ROLES, and so on). */
export type RoleOptions = Pick<JwtAuthOptions, 'adminRoles' | 'operatorRoles' | 'viewerRoles'>;

/** The highest level any of the token's roles grants; null when none is a role of this API. Names compare exactly. */
export function accessLevel(principal: AdminPrincipal, roles: RoleOptions): AccessLevel | null {
  const holds = (configured: string[] | undefined) => principal.roles.some((role) => configured?.includes(role));
  if (holds(roles.adminRoles)) return 'admin';
  if (holds(roles.operatorRoles)) return 'operator';
  if (holds(roles.viewerRoles)) return 'viewer';
  return null;
}

export function grants(level: AccessLevel, needed: AccessLevel): boolean {
  return LEVEL_RANK[level] >= LEVEL_RANK[needed];
}

/** The permissions a level holds, in the table's order. */
export function permissionsOf(level: AccessLevel): Permission[] {
  return (Object.keys(PERMISSION_LEVELS) as Permission[]).filter((permission) => grants(level, PERMISSION_LEVELS[permission]));
}
