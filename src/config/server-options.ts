import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AgeIdentity, AgeRecipient, parseIdentities, parseRecipient, recipientOf } from '../crypto/age';
import { EncryptionOptions, NotificationEvent, NotificationOptions, PgBackupOptions } from '../pg-backup.options';
import { EnvironmentVariables, InvalidEnvironmentError } from './env.validation';

/** The module's options for the standalone server, from the checked environment. */
export function serverOptions(env: EnvironmentVariables, databaseUrl: string, fallbackSecret?: string): PgBackupOptions {
  const secret = env.JWT_SECRET ?? (env.JWT_PUBLIC_KEY || env.JWKS_URI ? undefined : fallbackSecret);
  if (!secret && !env.JWT_PUBLIC_KEY && !env.JWKS_URI) {
    throw new InvalidEnvironmentError('invalid configuration:\n  JWT_SECRET (or JWT_PUBLIC_KEY / JWKS_URI) must be set to verify admin tokens');
  }
  return {
    databaseUrl,
    schema: env.BACKUP_SCHEMA ?? 'backup_admin',
    backupDir: resolve(env.BACKUP_DIR ?? './backups'),
    externalDir: env.BACKUP_EXTERNAL_DIR ? resolve(env.BACKUP_EXTERNAL_DIR) : undefined,
    s3: env.BACKUP_S3_BUCKET
      ? {
          bucket: env.BACKUP_S3_BUCKET,
          prefix: env.BACKUP_S3_PREFIX,
          endpoint: env.BACKUP_S3_ENDPOINT,
          region: env.BACKUP_S3_REGION,
          accessKeyId: env.BACKUP_S3_ACCESS_KEY_ID,
          secretAccessKey: env.BACKUP_S3_SECRET_ACCESS_KEY,
          forcePathStyle: env.BACKUP_S3_FORCE_PATH_STYLE === undefined ? undefined : env.BACKUP_S3_FORCE_PATH_STYLE === 'true',
        }
      : undefined,
    auth: {
      secret,
      publicKey: env.JWT_PUBLIC_KEY,
      jwksUri: env.JWKS_URI,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      maxTokenLifetimeSeconds: env.JWT_MAX_LIFETIME_SECONDS,
      adminRoles: (env.ADMIN_ROLES ?? 'admin').split(',').map((r) => r.trim()).filter(Boolean),
      operatorRoles: list(env.OPERATOR_ROLES),
      viewerRoles: list(env.VIEWER_ROLES),
    },
    initialSchedule: env.BACKUP_SCHEDULE,
    initialCompression: env.BACKUP_COMPRESSION,
    compressionLevel: env.BACKUP_COMPRESSION_LEVEL,
    encryption: encryptionOptions(env),
    includePaths: env.BACKUP_INCLUDE_PATHS?.split(',').map((p) => p.trim()).filter(Boolean),
    maxUploadBytes: env.BACKUP_UPLOAD_MAX_MB ? env.BACKUP_UPLOAD_MAX_MB * 1024 * 1024 : undefined,
    uploadIdleTimeoutMs: env.BACKUP_UPLOAD_IDLE_TIMEOUT_SECONDS === undefined ? undefined : env.BACKUP_UPLOAD_IDLE_TIMEOUT_SECONDS * 1000,
    maxConcurrentDownloads: env.BACKUP_MAX_CONCURRENT_DOWNLOADS,
    maxConcurrentVerifies: env.BACKUP_MAX_CONCURRENT_VERIFIES,
    pgBinDir: env.PG_BIN_DIR,
    minFreeBytes: (env.BACKUP_MIN_FREE_MB ?? 100) * 1024 * 1024,
    restoreGraceMs: (env.RESTORE_GRACE_SECONDS ?? 10) * 1000,
    lockWaitTimeoutMs: env.BACKUP_LOCK_WAIT_SECONDS === undefined ? undefined : env.BACKUP_LOCK_WAIT_SECONDS * 1000,
    backupOnStartup: env.BACKUP_ON_STARTUP === 'true' ? { windowMinutes: env.BACKUP_ON_STARTUP_WINDOW_MINUTES ?? 60 } : undefined,
    trigger: { debounceMs: env.BACKUP_TRIGGER_DEBOUNCE_SECONDS === undefined ? undefined : env.BACKUP_TRIGGER_DEBOUNCE_SECONDS * 1000 },
    exactCountMaxBytes: env.BACKUP_EXACT_COUNT_MAX_MB === undefined ? undefined : env.BACKUP_EXACT_COUNT_MAX_MB * 1024 * 1024,
    notifications: notificationOptions(env),
    health: {
      maxBackupAgeHours: env.HEALTH_MAX_BACKUP_AGE_HOURS,
      readyCacheMs: env.HEALTH_READY_CACHE_SECONDS === undefined ? undefined : env.HEALTH_READY_CACHE_SECONDS * 1000,
    },
    metrics: { token: env.METRICS_TOKEN, public: env.METRICS_PUBLIC === 'true' },
    audit: { retentionDays: env.AUDIT_RETENTION_DAYS },
    rateLimit: {
      perTokenPerMinute: env.ADMIN_RATE_LIMIT_PER_MINUTE,
      perAddressPerMinute: env.ADMIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE,
      backupsPerUserPerHour: env.BACKUP_RATE_LIMIT_PER_HOUR,
    },
    restoreFilesRoots: list(env.RESTORE_FILES_ROOTS).map((p) => resolve(p)),
    restoreHooks: env.RESTORE_HOOK_URLS
      ? {
          webhooks: { urls: list(env.RESTORE_HOOK_URLS), secret: env.RESTORE_HOOK_SECRET },
          timeoutMs: env.RESTORE_HOOK_TIMEOUT_SECONDS === undefined ? undefined : env.RESTORE_HOOK_TIMEOUT_SECONDS * 1000,
        }
      : undefined,
    restoreFilesInPlace: env.RESTORE_FILES_IN_PLACE === 'true',
    manifestHmacKey: env.MANIFEST_HMAC_KEY,
    manifestRequireSignature: env.MANIFEST_REQUIRE_SIGNATURE === 'true',
  };
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((item) => item.trim()).filter(Boolean);
}

function notificationOptions(env: EnvironmentVariables): NotificationOptions {
  const events = env.BACKUP_NOTIFY_EVENTS ? (list(env.BACKUP_NOTIFY_EVENTS) as NotificationEvent[]) : undefined;
  return {
    webhooks: list(env.BACKUP_WEBHOOK_URLS).map((url) => ({ url, secret: env.BACKUP_WEBHOOK_SECRET, events })),
    email: env.SMTP_URL
      ? { smtpUrl: env.SMTP_URL, from: env.BACKUP_NOTIFY_EMAIL_FROM ?? 'pg-backup@localhost', to: list(env.BACKUP_NOTIFY_EMAIL_TO), events }
      : undefined,
  };
}

/** Recipients encrypt; the identity file or the passphrase decrypt. Only the identity file given: encrypt to it too. */
function encryptionOptions(env: EnvironmentVariables): EncryptionOptions | undefined {
  if (env.BACKUP_ENCRYPTION_PASSPHRASE) {
    const passphrase = env.BACKUP_ENCRYPTION_PASSPHRASE;
    return { recipients: [{ kind: 'scrypt', passphrase }], identities: [{ kind: 'scrypt', passphrase }] };
  }
  let identities: AgeIdentity[] = [];
  if (env.BACKUP_AGE_IDENTITY_FILE) {
    try {
      identities = parseIdentities(readFileSync(env.BACKUP_AGE_IDENTITY_FILE, 'utf8'));
    } catch (error) {
      throw new InvalidEnvironmentError(`invalid configuration:\n  BACKUP_AGE_IDENTITY_FILE: ${(error as Error).message}`);
    }
  }
  let recipients: AgeRecipient[] = (env.BACKUP_AGE_RECIPIENTS ?? '').split(',').map((r) => r.trim()).filter(Boolean).map(parseRecipient);
  if (!recipients.length) recipients = identities.map((i) => parseRecipient(recipientOf(i)!));
  return recipients.length ? { recipients, identities } : undefined;
}
