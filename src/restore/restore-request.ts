/** What to do about roles the backup needs that the cluster lacks. */
export type RolesMode = 'create' | 'skip' | 'require';
export const ROLES_MODES: readonly RolesMode[] = ['create', 'skip', 'require'];

/** Which objects come back: empty lists (or none) mean the whole database. */
export interface RestoreScope {
  /** `schema.table` names. */
  tables: string[];
  schemas: string[];
}

/** Where they go: over the live objects (default), into a new schema beside them, or into another database. */
export type RestoreTargetChoice = { schema: string; database?: never } | { database: string; schema?: never };

/** A restore as asked for, through the API or the CLI. */
export interface RestoreRequest {
  files: boolean;
  filesTarget?: string;
  /** Back up the current content first (default true); off only when the caller has its own way back. */
  safetyBackup?: boolean;
  scope?: RestoreScope;
  target?: RestoreTargetChoice;
  /** Default `create` where the restoring role may create roles. */
  roles?: RolesMode;
}

/** A whole-database restore asks for no tables and no schemas. */
export function isPartial(scope: RestoreScope | undefined): scope is RestoreScope {
  return !!scope && (scope.tables.length > 0 || scope.schemas.length > 0);
}
