import { Injectable } from '@nestjs/common';
import { BackupHistory } from '../backup/backup-history.entity';
import { RolesMissingException } from '../common/exceptions';
import type { ClusterMembership, ClusterObjects, ClusterRole } from '../database/cluster-objects';
import { DatabaseInfoRepository } from '../database/database-info.repository';
import { createRolesSql, databaseSettingsSql, isSetting } from './cluster-sql';
import { RestoreDetail } from './restore-history.entity';
import { RolesMode } from './restore-request';

/** What the cluster lacks of what a backup needs, and what the restoring role may do about it. */
export interface RolePreflightResult {
  /** Roles the backup needs that the cluster lacks. */
  missing: string[];
  /** What `roles: "create"` would create (the missing roles, with their attributes). */
  toCreate: ClusterRole[];
  /** Login roles among them: created without a password, they need one set. */
  needPassword: string[];
  /** Missing roles named by row security policies: without them the policies cannot be created. */
  policyRolesMissing: string[];
  /** The restoring role may create roles (CREATEROLE or superuser). */
  canCreateRoles: boolean;
  /** The restoring role is a superuser: created roles keep REPLICATION and BYPASSRLS. */
  superuser: boolean;
  /** Tablespaces the backup uses that the cluster lacks: the restore puts everything in the default one. */
  tablespacesMissing: string[];
  /** Database settings (`name=value`) the restore re-applies, and those the restoring role may not. */
  settingsToApply: string[];
  settingsNotApplied: string[];
}

/** What the restore runs for the cluster objects: SQL at the start of its transaction, and pg_restore's options. */
export interface ClusterRestorePlan {
  sql: string;
  /** pg_restore --no-owner --no-privileges (`roles: "skip"`). */
  noOwner: boolean;
  /** pg_restore --no-tablespaces. */
  noTablespaces: boolean;
  /** What goes into the restore's record. */
  detail: Pick<RestoreDetail, 'roles' | 'tablespacesMissing' | 'settingsNotApplied'>;
}

/**
 * Compares what a backup recorded of its cluster (metadata.cluster: roles, memberships,
 * tablespaces, database settings) with this cluster, before a restore changes anything. A backup
 * from before this was recorded needs nothing.
 */
@Injectable()
export class RolePreflight {
  constructor(private readonly database: DatabaseInfoRepository) {}

  async check(backup: BackupHistory): Promise<RolePreflightResult> {
    const cluster = recordedCluster(backup);
    const settingNames = cluster.settings.map((s) => s.slice(0, s.indexOf('=')));
    const state = await this.database.clusterState(
      cluster.roles.map((r) => r.name),
      cluster.tablespaces,
      settingNames,
    );
    const toCreate = cluster.roles.filter((r) => !state.roles.includes(r.name));
    const changed = cluster.settings.filter((s) => !state.settings.includes(s));
    const allowed = (setting: string) => state.superuser || (state.databaseOwner && !state.superuserSettings.includes(setting.slice(0, setting.indexOf('='))));
    return {
      missing: toCreate.map((r) => r.name),
      toCreate,
      needPassword: toCreate.filter((r) => r.login === true).map((r) => r.name),
      policyRolesMissing: toCreate.filter((r) => r.inPolicy === true).map((r) => r.name),
      canCreateRoles: state.superuser || state.createRole,
      superuser: state.superuser,
      tablespacesMissing: cluster.tablespaces.filter((t) => !state.tablespaces.includes(t)),
      settingsToApply: changed.filter(allowed),
      settingsNotApplied: changed.filter((s) => !allowed(s)),
    };
  }

  /**
   * The plan for a restore in `mode`, or 422 before anything changes: `require` with a role
   * missing; `create` when the restoring role may not create roles; `skip` when a row security
   * policy names a missing role (a restore without it cannot create the policy). The database's
   * settings are re-applied with `databaseSettings` (a whole-database restore).
   */
  async plan(backup: BackupHistory, mode: RolesMode = 'create', { databaseSettings = true } = {}): Promise<ClusterRestorePlan> {
    const found = await this.check(backup);
    const { missing } = found;
    const list = missing.join(', ');
    if (missing.length && mode === 'require') {
      throw new RolesMissingException(`the cluster lacks roles backup ${backup.id} needs: ${list}; create them first, or restore with roles "create" or "skip"; nothing was changed`);
    }
    if (missing.length && mode === 'create' && !found.canCreateRoles) {
      throw new RolesMissingException(
        `the cluster lacks roles backup ${backup.id} needs: ${list}, and the restoring role may not create roles (it has no CREATEROLE); ` +
          `create them first, or restore with roles "skip" (no owners, no grants); nothing was changed`,
      );
    }
    if (found.policyRolesMissing.length && mode === 'skip') {
      throw new RolesMissingException(
        `row security policies of backup ${backup.id} name roles the cluster lacks: ${found.policyRolesMissing.join(', ')}; ` +
          `roles "skip" cannot create those policies: create the roles first, or restore with roles "create"; nothing was changed`,
      );
    }
    const creating = mode === 'create' ? found.toCreate : [];
    const sql =
      createRolesSql(creating, recordedCluster(backup).memberships, { superuser: found.superuser }) +
      (databaseSettings ? databaseSettingsSql((await this.database.server()).database, found.settingsToApply) : '');
    const detail: ClusterRestorePlan['detail'] = {};
    if (missing.length) {
      detail.roles = {
        created: creating.map((r) => r.name),
        needPassword: mode === 'create' ? found.needPassword : [],
        skipped: mode === 'skip' ? missing : [],
      };
    }
    if (found.tablespacesMissing.length) detail.tablespacesMissing = found.tablespacesMissing;
    if (databaseSettings && found.settingsNotApplied.length) detail.settingsNotApplied = found.settingsNotApplied;
    return { sql, noOwner: mode === 'skip', noTablespaces: found.tablespacesMissing.length > 0, detail };
  }
}

/**
 * The backup's cluster objects, each entry checked for shape: an imported manifest is anyone's
 * writing (the SQL built from it quotes every name and value).
 */
function recordedCluster(backup: BackupHistory): ClusterObjects {
  const cluster = backup.metadata?.cluster as Partial<ClusterObjects> | undefined;
  const isName = (name: unknown): name is string => typeof name === 'string' && name.length > 0 && name.length <= 63 && !name.includes('\0');
  const roles = (Array.isArray(cluster?.roles) ? cluster.roles : []).filter((r): r is ClusterRole => !!r && isName(r.name) && !r.name.startsWith('pg_'));
  const memberships = (Array.isArray(cluster?.memberships) ? cluster.memberships : []).filter(
    (m): m is ClusterMembership => !!m && isName(m.role) && isName(m.member),
  );
  return {
    roles,
    memberships,
    tablespaces: (Array.isArray(cluster?.tablespaces) ? cluster.tablespaces : []).filter(isName),
    settings: (Array.isArray(cluster?.settings) ? cluster.settings : []).filter(isSetting),
  };
}
