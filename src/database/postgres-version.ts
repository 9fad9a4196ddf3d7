/** The oldest server the module works with: a restore recreates `public` owned by `pg_database_owner` (PostgreSQL 14+). */
export const MIN_SERVER_VERSION_NUM = 140_000;

export class UnsupportedPostgresError extends Error {}

/** Why this server (its `server_version_num` and `server_version`) cannot be used, or null. */
export function postgresVersionProblem(versionNum: number, version: string): string | null {
  if (!Number.isInteger(versionNum) || versionNum <= 0) return `could not read the PostgreSQL server version (server_version_num ${versionNum})`;
  if (versionNum >= MIN_SERVER_VERSION_NUM) return null;
  return `PostgreSQL ${MIN_SERVER_VERSION_NUM / 10_000} or later is required (a restore recreates the public schema owned by pg_database_owner); this server is ${version}`;
}
