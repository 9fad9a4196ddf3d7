import { ModuleMetadata } from '@nestjs/common';
import type { AgeIdentity, AgeRecipient } from './crypto/age';
import type { Compression } from './pipeline/backup-format';
import type { RestoreScope, RestoreTargetChoice } from './restore/restore-request';

export const PG_BACKUP_OPTIONS = 'PG_BACKUP:MODULE_OPTIONS';
/** The admin API's route prefix (`PgBackupModuleAsyncOptions.path`). */
export const PG_BACKUP_ADMIN_PATH = 'PG_BACKUP:ADMIN_PATH';
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
  /** Tokens must carry `exp`, at most this many seconds after `iat` (or now, without `iat`); default 86 400 (24 h). */
  maxTokenLifetimeSeconds?: number;
  /** Roles (from the `roles` array or `role` string claim) that count as admin: every right. */
  adminRoles: string[];
  /** Roles that may back up, verify, drill, download and pin, but never restore, delete, clean up, upload, import or change settings (default none). */
  operatorRoles?: string[];
  /** Roles that may only read: backups, restores, the running operation, settings and the audit log (default none). */
  viewerRoles?: string[];
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

/** Events that notify (see BackupEventMap); `backup.completed` and `drill.completed` only when listed. */
export type NotificationEvent = import('./events/backup-events').BackupEventName;

export interface WebhookTarget {
  url: string;
  /** Signs each body: `X-PgBackup-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`. */
  secret?: string;
  events?: NotificationEvent[];
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  /** Further attempts after a failure, with exponential backoff (default 3). */
  retries?: number;
}

export interface EmailNotifications {
  /** smtp(s)://user:pass@host:port */
  smtpUrl: string;
  from: string;
  to: string[];
  events?: NotificationEvent[];
}

export interface NotificationOptions {
  webhooks?: WebhookTarget[];
  email?: EmailNotifications;
}

export interface HealthOptions {
  /** `ready` fails when the newest completed backup is older than this; unset = not checked. */
  maxBackupAgeHours?: number;
  /** How long a `ready` answer is reused before its checks run again (default 5000; 0 runs them on every call). */
  readyCacheMs?: number;
}

export interface MetricsOptions {
  /** When set, scrapes must send `Authorization: Bearer <token>`. */
  token?: string;
  /** Without a token, only loopback addresses may scrape unless this is true (default false). */
  public?: boolean;
}

export interface AuditOptions {
  /** Entries older than this are deleted (hourly, in batches); default 365, 0 keeps them forever. */
  retentionDays?: number;
}

/** Limits of the admin API; 0 turns one off. Refusals answer 429 and are audited. */
export interface RateLimitOptions {
  /** Requests a minute per bearer token (per address for requests without one); default 1200. */
  perTokenPerMinute?: number;
  /** Requests a minute per client address (IPv6: per /64); default 2400. */
  perAddressPerMinute?: number;
  /** `POST /backups` per user (`sub`) and hour; default 60. */
  backupsPerUserPerHour?: number;
}

/** BackupTrigger: requests within `debounceMs` of each other become one backup. */
export interface TriggerOptions {
  /** An `@nestjs/event-emitter` event that requests a backup (default `pg-backup.trigger`). */
  eventName?: string;
  /** Quiet time after the last request before the backup starts (default 10 s). */
  debounceMs?: number;
  /** A steady stream of requests still gets a backup this long after the first (default 5 min). */
  maxWaitMs?: number;
}

/** What a restore hook is told. */
export interface RestoreHookContext {
  restoreId: string;
  backupId: string;
  /** Who started the restore (the token's `sub`). */
  actor: string;
  /** Empty lists: the whole database. */
  scope: RestoreScope;
  /** null: over the live objects. */
  target: RestoreTargetChoice | null;
  /** Aborted when the hook's time is up (or the restore is cancelled): stop waiting then. */
  signal: AbortSignal;
}

export interface AfterRestoreHookContext extends RestoreHookContext {
  outcome: 'completed' | 'failed';
  /** Why it failed; null when it completed. */
  error: string | null;
}

/**
 * The host app's part in a restore, awaited. `beforeRestore` runs after the safety backup, right
 * before the data changes (enter maintenance mode, drain work, close pools to the database): if it
 * throws or times out the restore fails and nothing changes. `afterRestore` runs once the restore
 * has ended, whenever `beforeRestore` was called (run migrations, clear caches, leave maintenance
 * mode): its failure is recorded on the restore, which stands.
 */
export interface RestoreHooks {
  beforeRestore?(context: RestoreHookContext): Promise<void> | void;
  afterRestore?(context: AfterRestoreHookContext): Promise<void> | void;
  /** For each hook, its webhooks included (default 60 s). */
  timeoutMs?: number;
  /**
   * The same as webhooks (the standalone server's RESTORE_HOOK_URLS): each URL is POSTed
   * `{ event: "restore.before" | "restore.after", at, data }`, signed as notifications are; a
   * non-2xx answer counts as the hook failing.
   */
  webhooks?: { urls: string[]; secret?: string };
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
  /** zstd 1–19 (default 1) or gzip 1–9 (default 6; a higher level gives gzip 9). */
  compressionLevel?: number;
  /** Off when unset. */
  encryption?: EncryptionOptions;
  /** Absolute paths of directories or files archived beside every dump (a tar through the same pipeline). */
  includePaths?: string[];
  /** Largest file `POST /backups/upload` accepts (default 10 GiB). */
  maxUploadBytes?: number;
  /** An upload that sends nothing for this long is ended, its partial file removed (default 60 s). */
  uploadIdleTimeoutMs?: number;
  /** Downloads served at once by this process; 429 beyond (default 4). */
  maxConcurrentDownloads?: number;
  /** Full verifications run at once by this process; 429 beyond (default 2). */
  maxConcurrentVerifies?: number;
  /** Directory holding pg_dump/pg_restore/psql; found automatically when unset. */
  pgBinDir?: string;
  /** A backup is refused when the backup directory has less free space than this. */
  minFreeBytes: number;
  /** How long a session that blocks a restore may keep its locks before it is terminated. */
  restoreGraceMs: number;
  /** How long a backup (the safety backup of a restore too) may wait for a table lock before it fails, naming the blocking session (default 60 s). */
  lockWaitTimeoutMs?: number;
  /** A backup when the server starts, at most once per `windowMinutes` across replicas; off when unset. */
  backupOnStartup?: { windowMinutes: number };
  trigger?: TriggerOptions;
  /** Tables up to this size get exact row counts at backup time (drills compare them); larger ones the planner's estimate. Default 256 MiB. */
  exactCountMaxBytes?: number;
  notifications?: NotificationOptions;
  health?: HealthOptions;
  metrics?: MetricsOptions;
  audit?: AuditOptions;
  rateLimit?: RateLimitOptions;
  /**
   * Whether this process runs the automation: scheduled backups and drills, the backup on
   * startup and the periodic scrub (default true). The CLI sets false: a one-shot command must
   * never start a scheduled backup of its own; the servers keep the schedule.
   */
  runSchedules?: boolean;
  /** Directories a files restore may write under (`filesTarget` must lie inside one); none by default. */
  restoreFilesRoots?: string[];
  /** A files restore may put files back into place (`filesTarget` `/`), into the backup's own include paths only (default false). */
  restoreFilesInPlace?: boolean;
  /** Tell the host app before a restore changes data and after it ended. */
  restoreHooks?: RestoreHooks;
  /** Signs every manifest written (HMAC-SHA256 over its canonical content); import checks the signature. */
  manifestHmacKey?: string;
  /** Import refuses unsigned or badly signed manifests (needs `manifestHmacKey`). */
  manifestRequireSignature?: boolean;
}

/** What a host passes: `minFreeBytes` (default 100 MiB) and `restoreGraceMs` (default 10 s) may be left out. */
export type PgBackupModuleOptions = Omit<PgBackupOptions, 'minFreeBytes' | 'restoreGraceMs'> & Partial<Pick<PgBackupOptions, 'minFreeBytes' | 'restoreGraceMs'>>;

export interface PgBackupModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Route prefix of the admin API (default `api/admin`). */
  path?: string;
  /** Route of `live` and `ready`, outside the admin prefix (default `health`); false mounts none. */
  healthPath?: string | false;
  /** Prometheus route, outside the admin prefix (default `metrics`); false mounts none. */
  metricsPath?: string | false;
  /** The browser admin page, outside the admin prefix (default `backup-admin`); false serves none. */
  uiPath?: string | false;
  inject?: any[];
  /** Checked at start (see validateModuleOptions): a missing or bad option fails at once, naming it. */
  useFactory: (...args: any[]) => PgBackupModuleOptions | Promise<PgBackupModuleOptions>;
}
