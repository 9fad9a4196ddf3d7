import { ModuleMetadata } from '@nestjs/common';
import type { AgeIdentity, AgeRecipient } from './crypto/age';
import type { Compression } from './pipeline/backup-format';

export const PG_BACKUP_OPTIONS = 'PG_BACKUP:MODULE_OPTIONS';
/** Name of the module's own TypeORM data source, apart from any the host app has. */
export const PG_BACKUP_CONNECTION = 'pg-backup';

export interface JwtAuthOptions {
  /** HS256 shared secret. */
  secret?: string;
  /** PEM public key for RS256/ES256 tokens. */
  publicKey?: string;
  /** JWKS endpoint for RS256/ES256 tokens. */
  jwksUri?: string;
  issuer?: string;
  audience?: string;
  /** Roles (from the `roles` array or `role` string claim) that count as admin. */
  adminRoles: string[];
}

/** age encryption: backups are encrypted to `recipients`; `identities` decrypt them (verify, restore). */
export interface EncryptionOptions {
  recipients: AgeRecipient[];
  identities: AgeIdentity[];
}

/** An S3-compatible bucket that receives a verified copy of every backup. */
export interface S3StorageOptions {
  bucket: string;
  /** Key prefix, e.g. `prod/db/` (default none). */
  prefix?: string;
  /** For S3-compatible servers (MinIO, Ceph, …); path-style addressing is then the default. */
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle?: boolean;
}

export interface PgBackupOptions {
  /** The database that is backed up and restored, also home of the module's own schema. */
  databaseUrl: string;
  /** Schema of the module's tables; never dumped, never touched by a restore. */
  schema: string;
  backupDir: string;
  /** A second directory (NAS, USB disk): each backup is copied there and the copy verified. */
  externalDir?: string;
  /** S3-compatible object storage for a further copy. */
  s3?: S3StorageOptions;
  auth: JwtAuthOptions;
  /** Seeds the persisted schedule on first start. */
  initialSchedule?: string;
  /** Seeds the persisted compression on first start (default zstd). */
  initialCompression?: Compression;
  /** zstd 1–19 (default 3) or gzip 1–9 (default 6). */
  compressionLevel?: number;
  /** Off when unset. */
  encryption?: EncryptionOptions;
  /** Absolute paths of directories or files archived beside every dump (a tar through the same pipeline). */
  includePaths?: string[];
  /** Largest file `POST /backups/upload` accepts (default 10 GiB). */
  maxUploadBytes?: number;
  /** Directory holding pg_dump/pg_restore/psql; found automatically when unset. */
  pgBinDir?: string;
  /** A backup is refused when the backup directory has less free space than this. */
  minFreeBytes: number;
  /** How long a session that blocks a restore may keep its locks before it is terminated. */
  restoreGraceMs: number;
}

export interface PgBackupModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Route prefix of the admin API (default `api/admin`). */
  path?: string;
  inject?: any[];
  useFactory: (...args: any[]) => PgBackupOptions | Promise<PgBackupOptions>;
}
